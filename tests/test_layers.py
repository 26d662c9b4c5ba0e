"""The layers ARCHITECTURE.md draws hold: every import of ours (top level or inside a
function) goes down the graph, never up or sideways, so there is no import cycle."""
from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# package -> the packages of ours it may import (itself included)
ALLOWED: dict[str, set[str]] = {
    "forms": {"forms"},
    "omr": {"forms", "omr"},
    "fixtures": {"forms", "fixtures"},
    "pipeline.logs": set(),
    "pipeline.store": {"forms", "pipeline.store"},
    "pipeline.outputs": {"forms", "omr", "pipeline.store", "pipeline.outputs"},
    "pipeline.scan": {"forms", "omr", "pipeline.store", "pipeline.scan"},
    "pipeline.review": {"forms", "omr", "pipeline.store", "pipeline.outputs", "pipeline.scan",
                        "pipeline.review"},
}
OURS = ("forms", "omr", "fixtures", "pipeline", "cli")


def _layer(module: str) -> str:
    parts = module.split(".")
    if parts[0] == "pipeline" and len(parts) > 1:
        return ".".join(parts[:2])
    return parts[0]


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            # `from pipeline import scan` names a package, not a function
            found.update(f"{node.module}.{alias.name}" for alias in node.names
                         if node.module == "pipeline")
    return {m for m in found if m.split(".")[0] in OURS}


def test_every_import_goes_down_the_layers():
    wrong = []
    for layer, allowed in ALLOWED.items():
        base = REPO / Path(*layer.split("."))
        files = [base.with_suffix(".py")] if base.with_suffix(".py").exists() else sorted(base.rglob("*.py"))
        assert files, layer
        for path in files:
            for module in _imports(path):
                target = _layer(module)
                if target == "pipeline":  # the package's own __init__ re-exports
                    target = "pipeline (top)"
                if target not in allowed:
                    wrong.append(f"{path.relative_to(REPO)} imports {module}")
    assert not wrong, "\n".join(wrong)
