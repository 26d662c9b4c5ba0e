"""YAML parsing that remembers line numbers, so validation messages can name them.

PyYAML's plain loaders throw the marks away once a document is constructed. This
loader keeps them: every mapping becomes a `LineDict` (a dict that knows its own
line, each key's line and the keys written twice) and every sequence a
`LineList` (a list that knows its own line and each item's line). Scalars stay
plain Python values; their line is the one of the key or item that holds them.
"""
from __future__ import annotations

from typing import Any

import yaml


class LineDict(dict):
    """A YAML mapping with its line (1-based), its keys' lines and repeated keys."""

    line: int = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key_lines: dict[Any, int] = {}
        self.repeated: list[tuple[Any, int]] = []  # (key, line of the repeat)

    def line_of(self, key: Any) -> int:
        """The line where `key` is written, or the mapping's own line if absent."""
        return self.key_lines.get(key, self.line)


class LineList(list):
    """A YAML sequence with its line (1-based) and each item's line."""

    line: int = 0

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.item_lines: list[int] = []

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


class _LineLoader(yaml.SafeLoader):
    """SafeLoader whose mappings and sequences carry their source lines."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    out = LineDict()
    out.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        try:
            hash(key)
        except TypeError:
            # A list or mapping used as a key: keep it visible to the validator
            # as text instead of letting PyYAML fail without a line number.
            key = repr(key)
        if key in out:
            out.repeated.append((key, line))
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = line
    return out


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    out = LineList(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.item_lines = [child.start_mark.line + 1 for child in node.value]
    return out


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
)
_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence
)


def load_with_lines(text: str) -> Any:
    """Parse one YAML document, keeping line numbers (see the module docstring).

    Raises `yaml.YAMLError` (with `problem_mark` when PyYAML knows where) on
    syntax errors; the caller turns it into a message with the line.
    """
    return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
