"""Errors a user can meet. Every package's errors derive from `PhieuError`.

Modelled on OCRmyPDF: each class carries its exit code, and an instance carries
the message (naming the file, page or value at fault) and, where it helps, the
remedy. `cli.main` turns them into one printed line and the exit code; the
traceback only with `-v`. This lives in `forms` because `forms` is the bottom of
the dependency graph (omr and pipeline both import it).
"""
from __future__ import annotations


class PhieuError(Exception):
    exit_code = 1

    def __init__(self, message: str, remedy: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.remedy = remedy

    def __str__(self) -> str:
        return f"{self.message} — {self.remedy}" if self.remedy else self.message


class BadInput(PhieuError):
    """Input the user gave cannot be used (missing file, wrong kind of file)."""

    exit_code = 2


class FormDefinitionError(PhieuError):
    """A questionnaire YAML has problems; `problems` lists every one of them."""

    exit_code = 3

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = list(problems)
        head = f"{path}: {len(problems)} problem(s) in the form definition"
        super().__init__(head + "\n" + "\n".join(f"  {p}" for p in problems))


class SurveyError(PhieuError):
    """The survey workspace or its store is missing or unusable."""

    exit_code = 4


class FrozenFormChanged(SurveyError):
    """A survey's form YAML was edited after its layout was frozen (`forms.frozen`): the
    paper already printed follows the frozen layout, so phieu refuses rather than lay the
    edited form out again."""
