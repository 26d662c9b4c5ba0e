"""Cells safe to open in Excel: one place for what every export and every typed field needs.

Two dangers, both from text a person typed or pasted (a comment, a reviewer's name) or
that OCR produced:

- **Formulas.** A CSV cell starting with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage
  return, which Excel skips before reading the rest) is run as a formula when the file is
  opened: ``=HYPERLINK("http://…","bấm vào")`` is a link that sends data away. In CSV the
  usual guard is a leading apostrophe, which Excel reads as "this is text". In `.xlsx`
  a cell has a type: such text is stored as a string cell (openpyxl would otherwise write
  any text starting with ``=`` as an ``<f>`` formula). Only *text* cells are guarded: a
  number column (a serial, a confidence, a count, a real negative number) stays a number.
- **Characters Excel cannot hold.** The XML of `.xlsx` forbids control characters other
  than tab, newline and carriage return; one such character (a vertical tab, which Word
  uses for a line break and which people paste) makes openpyxl refuse the whole workbook.
  They are removed: vertical tab, form feed and carriage return (line and page breaks)
  become a newline, the rest are dropped. The same cleaning is applied where a person types (review
  decisions), so the store, the audit and every export agree.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

# Line and page breaks (Word's manual line break is a vertical tab) keep their meaning; a
# carriage return becomes a newline too (pandas does not quote a lone CR in a CSV field,
# which would split the row).
_BREAKS = re.compile(r"\r\n?|[\x0b\x0c]")
# The C0 controls XML 1.0 forbids (the set openpyxl refuses), and lone UTF-16 surrogates.
_ILLEGAL = re.compile(r"[\x00-\x08\x0e-\x1f\ud800-\udfff]")
# What makes Excel (and LibreOffice, Google Sheets) read a CSV cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def clean_text(text: str) -> str:
    """`text` without the characters Excel cannot hold (breaks become newlines)."""
    return _ILLEGAL.sub("", _BREAKS.sub("\n", text))


def guard_formula(text: str) -> str:
    """`text` cleaned, with a leading apostrophe when a spreadsheet would read it as a
    formula (for CSV; an `.xlsx` cell is typed as a string instead)."""
    text = clean_text(text)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _text_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns
            if pd.api.types.is_object_dtype(frame[c]) or pd.api.types.is_string_dtype(frame[c])]


def _map_text(frame: pd.DataFrame, fn: Callable[[str], str]) -> pd.DataFrame:
    out = frame.copy()
    for column in _text_columns(out):
        out[column] = out[column].map(lambda v: fn(v) if isinstance(v, str) else v, na_action="ignore")
    return out


def clean_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells hold no character Excel cannot hold."""
    return _map_text(frame, clean_text)


def csv_safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` ready for CSV: text cells cleaned and guarded against formulas;
    number columns untouched."""
    return _map_text(frame, guard_formula)


def write_csv(frame: pd.DataFrame, path: Path, encoding: str = "utf-8-sig") -> None:
    """`frame` as CSV (UTF-8 with BOM by default, so Excel shows the diacritics)."""
    csv_safe_frame(frame).to_csv(path, index=False, encoding=encoding)


def strings_not_formulas(sheet: Any) -> None:
    """Make every formula cell of an openpyxl worksheet a string cell. phieu writes no
    formulas: any such cell is text that started with "=" (openpyxl types it "f").
    For a workbook built cell by cell: pass each text value through `clean_text` when
    appending it, then call this before saving."""
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f":
                cell.data_type = "s"


def write_xlsx(sheets: Mapping[str, pd.DataFrame], path: Path) -> None:
    """One workbook, a sheet per frame, every text cell a string cell (never a formula)."""
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            clean_frame(frame).to_excel(writer, sheet_name=name, index=False)
            strings_not_formulas(writer.sheets[name])
