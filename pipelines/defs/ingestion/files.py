"""Inbox files: which are waiting, which business day each belongs to, and their content hash."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

DAY_IN_NAME = re.compile(r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})(?!\d)")
LOCAL_OFFSET = timedelta(hours=8)  # Asia/Shanghai has kept +08:00 without DST since 1991


def partition_day_of(path: Path) -> date:
    """The business day of a file: a YYYY-MM-DD or YYYYMMDD in its name, else the day
    (Asia/Shanghai) it was last written."""
    for match in DAY_IN_NAME.finditer(path.name):
        try:
            return date(*(int(part) for part in match.groups()))
        except ValueError:
            continue  # eight digits that are not a date, e.g. part of an order number
    modified = datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(tzinfo=None)
    return (modified + LOCAL_OFFSET).date()


# A copy or download still in progress; such a file is not data yet.
IN_PROGRESS_SUFFIXES = {".tmp", ".part", ".crdownload", ".partial"}


def inbox_files(inbox: Path, domain: str | None = None) -> list[Path]:
    """Files waiting in the inbox (or one domain's folder of it). Hidden files, Excel lock
    files and copies still in progress are not data."""
    folder = inbox / domain if domain else inbox
    if not folder.is_dir():
        return []
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file()
        and not any(part.startswith((".", "~$")) for part in path.relative_to(folder).parts)
        and path.suffix.lower() not in IN_PROGRESS_SUFFIXES
    )


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
