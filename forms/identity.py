"""The QR payload that tells a page's identity: form, version, page number, serial.

Format (ASCII, one line):  ``PHIEU1|<form id>|<version>|<page>|<serial>|<check>``
where ``<check>`` is one character (0-9 or X): a weighted sum modulo 11 over the
preceding text, which catches any single changed character and any swap of two
neighbours. A QR code already has error correction; the check digit guards
against a payload that decoded cleanly but was printed from a wrong template.
"""
from __future__ import annotations

from dataclasses import dataclass

PREFIX = "PHIEU1"


@dataclass(frozen=True)
class PageIdentity:
    form_id: str
    version: int
    page: int
    serial: int


def check_character(text: str) -> str:
    """The check character of `text` (weighted sum of code points, modulo 11)."""
    total = sum((i % 10 + 1) * ord(ch) for i, ch in enumerate(text))
    value = total % 11
    return "X" if value == 10 else str(value)


def encode_payload(identity: PageIdentity) -> str:
    if "|" in identity.form_id:
        raise ValueError(f"form id {identity.form_id!r} must not contain '|'")
    body = f"{PREFIX}|{identity.form_id}|{identity.version}|{identity.page}|{identity.serial}"
    return f"{body}|{check_character(body)}"


def decode_payload(payload: str) -> PageIdentity | None:
    """The identity in `payload`, or None when it is not a valid phieu payload."""
    parts = payload.strip().split("|")
    if len(parts) != 6 or parts[0] != PREFIX:
        return None
    body, check = "|".join(parts[:5]), parts[5]
    if check_character(body) != check:
        return None
    try:
        version, page, serial = int(parts[2]), int(parts[3]), int(parts[4])
    except ValueError:
        return None
    if not parts[1] or page < 1 or serial < 0 or version < 1:
        return None
    return PageIdentity(parts[1], version, page, serial)


def format_serial(serial: int) -> str:
    """The serial as printed beside the QR code."""
    return f"{serial:06d}"
