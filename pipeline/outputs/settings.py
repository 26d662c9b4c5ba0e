"""What survey.yaml says about publishing: the units, the index method, and the details
that make the report an official document (DESIGN.md "survey.yaml: publishing").

Read on its own from the workspace's survey.yaml (the scan and the review do not need it),
checked, and turned into plain values; a wrong key is one `SurveyError` naming it.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import yaml

from forms.errors import SurveyError
from pipeline.outputs.tally import METHODS, Method, Units, UnitSource

UNIT_SOURCES = ("question", "version", "batch")


@dataclass(frozen=True)
class Signer:
    title: str  # "GIÁM ĐỐC", or "KT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC" (lines)
    name: str


@dataclass(frozen=True)
class Document:
    """The details of an official document (Nghị định 30/2020/NĐ-CP layout)."""

    office: str  # the issuing office, "SỞ TƯ PHÁP"
    number: str  # số/ký hiệu, "125/BC-STP"
    place: str  # "Ninh Bình"
    recipients: tuple[str, ...]  # nơi nhận
    signer: Signer
    authority: str = ""  # the office above it (cơ quan chủ quản), "UBND TỈNH NINH BÌNH"
    date: dt.date | None = None  # the document's date; the day it is made when None


@dataclass(frozen=True)
class PublishSettings:
    method: Method = "pooled"
    units: Units | None = None
    document: Document | None = None
    proposals: tuple[str, ...] = ()  # paragraphs of the proposals file


def load_publish_settings(settings_path: Path) -> PublishSettings:
    """The publishing keys of `settings_path` (a survey.yaml); defaults when absent."""
    try:
        data = yaml.safe_load(Path(settings_path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as err:
        raise SurveyError(f"{settings_path}: cannot be read ({err})") from err
    return publish_settings(data if isinstance(data, dict) else {}, Path(settings_path))


def publish_settings(data: dict[str, Any], path: Path) -> PublishSettings:
    method = str(data.get("method") or "pooled").strip().lower()
    if method not in METHODS:
        raise SurveyError(f"{path}: method: {method!r} is unknown", "write sipas or pooled")
    proposals_file = data.get("proposals") or (data.get("document") or {}).get("proposals")
    return PublishSettings(
        method=cast(Method, method),
        units=_units(data.get("units"), path),
        document=_document(data.get("document"), path),
        proposals=read_proposals(path.parent / str(proposals_file)) if proposals_file else (),
    )


def _units(value: Any, path: Path) -> Units | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise SurveyError(f"{path}: units: must be a mapping", "see DESIGN.md, survey.yaml")
    source = str(value.get("from") or "").strip()
    if source not in UNIT_SOURCES:
        raise SurveyError(f"{path}: units.from: {source!r} is unknown",
                          "write question, version or batch")
    question = str(value.get("question") or "").strip()
    if source == "question" and not question:
        raise SurveyError(f"{path}: units.question is missing",
                          "name the single-choice question that says the unit")
    names = value.get("names") or {}
    if not isinstance(names, dict):
        raise SurveyError(f"{path}: units.names: must map a value to a name")
    label = str(value.get("label") or "Đơn vị").strip()
    return Units(cast(UnitSource, source), question,
                 tuple((str(k), str(v)) for k, v in names.items()), label)


def _document(value: Any, path: Path) -> Document | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise SurveyError(f"{path}: document: must be a mapping", "see DESIGN.md, survey.yaml")
    missing = [k for k in ("office", "number", "place", "recipients", "signer") if not value.get(k)]
    signer = value.get("signer") or {}
    if isinstance(signer, dict):
        missing += [f"signer.{k}" for k in ("title", "name") if not signer.get(k)]
    else:
        missing.append("signer (a mapping with title and name)")
    if missing:
        raise SurveyError(f"{path}: document: lacks {', '.join(missing)}",
                          "give every detail of the document, or remove `document:` for the "
                          "plain report")
    recipients = value["recipients"]
    if isinstance(recipients, str):
        recipients = [recipients]
    date = value.get("date")
    if date is not None and not isinstance(date, dt.date):
        try:
            date = dt.date.fromisoformat(str(date))
        except ValueError as err:
            raise SurveyError(f"{path}: document.date {date!r} is not a date",
                              "write it as YYYY-MM-DD") from err
    return Document(
        office=str(value["office"]).strip(), number=str(value["number"]).strip(),
        place=str(value["place"]).strip(), recipients=tuple(str(r) for r in recipients),
        signer=Signer(str(signer["title"]).strip(), str(signer["name"]).strip()),
        authority=str(value.get("authority") or "").strip(), date=date,
    )


def read_proposals(path: Path) -> tuple[str, ...]:
    """The paragraphs of the office's proposals file (blank lines separate them)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise SurveyError(f"{path}: cannot read the proposals file ({err.strerror})",
                          "write it (plain text, UTF-8) or fix `proposals:` in survey.yaml") from err
    paragraphs: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        if current and line.strip()[:1] in ("-", "+", "•"):
            paragraphs.append(" ".join(current))  # a list item starts a paragraph
            current = []
        if line.strip():
            current.append(line.strip())
        elif current:
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return tuple(paragraphs)
