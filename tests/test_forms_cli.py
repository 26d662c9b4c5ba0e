"""`phieu forms list|check|new|render`, in-process and once as a subprocess."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cli import main


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_names_the_shipped_forms(capsys):
    code, out, _ = run(capsys, "forms", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("mot-cua") and "1 trang/pages" in lines[0]
    assert lines[1].startswith("sipas") and "2 trang/pages" in lines[1]


def test_check_good_and_broken(capsys, tmp_path):
    code, out, _ = run(capsys, "forms", "check", "sipas")
    assert code == 0 and out.startswith("OK: sipas v1")
    broken = tmp_path / "b.yaml"
    broken.write_text("id: b\nversion: 1\ntitle: t\noffice: o\nsections: []\nextra: 1\n",
                      encoding="utf-8")
    code, out, err = run(capsys, "forms", "check", str(broken))
    assert code == 3 and out == ""
    assert f"{broken}:6:" in err and "unknown key 'extra'" in err
    assert f"{broken}:5:" in err and "'sections' has no items" in err


def test_new_then_check_then_render(capsys, tmp_path):
    yaml_path = tmp_path / "quy-1.yaml"
    code, out, _ = run(capsys, "forms", "new", "--from", "sipas", "--out", str(yaml_path))
    assert code == 0 and "id: quy-1" in out
    code, _, err = run(capsys, "forms", "new", "--from", "sipas", "--out", str(yaml_path))
    assert code == 2 and "already exists" in err
    pdf = tmp_path / "quy-1.pdf"
    code, out, _ = run(capsys, "forms", "render", str(yaml_path), "--out", str(pdf),
                       "--copies", "2", "--first-serial", "500")
    assert code == 0 and "500–501" in out
    data = json.loads((tmp_path / "quy-1.layout.json").read_text(encoding="utf-8"))
    assert data["form"] == "quy-1" and data["first_serial"] == 500
    assert pdf.read_bytes().startswith(b"%PDF")


def test_render_errors_are_one_line_with_a_remedy(capsys, tmp_path):
    code, _, err = run(capsys, "forms", "render", "nope", "--out", str(tmp_path / "x.pdf"))
    assert code == 2 and err.count("\n") == 1 and "mot-cua, sipas" in err
    code, _, err = run(capsys, "forms", "render", "mot-cua", "--out",
                       str(tmp_path / "missing" / "x.pdf"))
    assert code == 2 and "folder does not exist" in err


@pytest.mark.slow
def test_console_script_renders(tmp_path):
    pdf = tmp_path / "m.pdf"
    script = Path(sys.executable).parent / "phieu"  # installed by pip install -e .
    done = subprocess.run([str(script), "forms", "render", "mot-cua", "--out", str(pdf)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert pdf.exists() and (tmp_path / "m.layout.json").exists()


def test_forms_check_refuses_an_intro_that_runs_over_the_corner_markers(tmp_path, run_phieu):
    """Issue 12: `forms check` said OK for a form whose intro ran over the bottom markers."""
    import yaml

    from forms.library import load_form

    data = yaml.safe_load(Path(load_form("mot-cua").source).read_text(encoding="utf-8"))
    data["intro"] = "Xin ông/bà vui lòng cho biết ý kiến về việc giải quyết thủ tục hành chính. " * 150
    path = tmp_path / "long-intro.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    run = run_phieu("forms", "check", path)
    assert run.code == 3, run.out + run.err
    assert "corner markers" in run.err and "intro" in run.err
