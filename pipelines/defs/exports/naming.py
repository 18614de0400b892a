"""Names that become paths: ISO weeks and merchant folder names.

Merchant names come from the merchants' own order exports, so they are untrusted input:
a name must never steer a file outside the exports folder.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import date, timedelta
from pathlib import Path

_ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MAX_SLUG_LENGTH = 80
# Names Windows refuses as file names; a merchant may copy the folder to a Windows machine.
_RESERVED_NAMES = {"CON", "PRN", "AUX", "NUL"} | {
    f"{prefix}{number}" for prefix in ("COM", "LPT") for number in range(10)
}


def week_monday(week: str) -> date:
    """The Monday of an ISO week 'YYYY-Www'; a clear error for anything else."""
    match = _ISO_WEEK.match(week)
    if not match:
        raise ValueError(f"week must look like 2026-W46, got {week!r}")
    try:
        return date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError as error:
        raise ValueError(f"{week!r} is not an ISO week: {error}") from error


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def previous_week(week: str, weeks_back: int = 1) -> str:
    return iso_week(week_monday(week) - timedelta(weeks=weeks_back))


def merchant_slug(name: str | None, merchant_id: str) -> str:
    """A folder name for a merchant: letters of any script (Chinese kept) and digits.

    Path separators, dots, spaces, control and punctuation characters become '-', so neither
    '..' nor '/' can survive; an empty result falls back to the merchant id, then 'merchant'.
    """
    for candidate in (name, merchant_id, "merchant"):
        slug = _slugify(candidate or "")
        if slug:
            return slug
    raise AssertionError("unreachable: the literal fallback is never empty")


_PLAIN_ID = re.compile(r"^[A-Za-z0-9-]{1,40}$")


def merchant_folder(name: str | None, merchant_id: str) -> str:
    """The merchant's folder: the name people read, then '_' and the merchant id.

    Unique by construction, whatever the names: the id part never holds '_', and an id that
    is not plain letters, digits and '-' (or whose case alone tells it from another, which a
    Windows or macOS disk would not) carries a short hash of the id itself."""
    id_part = merchant_id if _PLAIN_ID.match(merchant_id) else _slugify(merchant_id)[:40]
    if id_part != merchant_id or merchant_id != merchant_id.upper():
        digest = hashlib.sha1(merchant_id.encode("utf-8")).hexdigest()[:6]
        id_part = f"{id_part.replace('_', '-')}-{digest}".strip("-")
    name_part = _slugify(name or "")
    return f"{name_part}_{id_part}" if name_part else id_part


def _slugify(text: str) -> str:
    # NFKC folds full-width look-alikes such as '／' and '．' into '/' and '.' first.
    normalized = unicodedata.normalize("NFKC", text)
    kept = "".join(char if char.isalnum() or char in "-_" else "-" for char in normalized)
    slug = re.sub(r"-{2,}", "-", kept).strip("-_")[:_MAX_SLUG_LENGTH].strip("-_")
    if slug.upper() in _RESERVED_NAMES:
        slug = f"{slug}-merchant"
    return slug


def safe_child(parent: Path, name: str) -> Path:
    """parent/name, refusing any name that would resolve outside parent."""
    child = (parent / name).resolve()
    if child.parent != parent.resolve():
        raise ValueError(f"refusing to write {name!r}: it resolves outside {parent}")
    return child
