"""Inbox files: which are waiting, which delivery day each belongs to, and their content hash.

A file is one delivery. Its day (the daily partition that ingests it) is the date in its
name, else the day it was last written; the rows inside keep their own times, so a file that
spans two years lands each order in its own week of the review.
"""

from __future__ import annotations

import hashlib
import os
import re
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from pipelines import settings

DAY_IN_NAME = re.compile(r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})(?!\d)")
# A delivery day in a file name before this, or more than a year ahead, is a typo or an order
# number that looks like a date: the file is rejected, saying so, rather than run under it.
FIRST_PLAUSIBLE_DAY = date(2000, 1, 1)
PLAUSIBLE_DAYS_AHEAD = 366


def today() -> date:
    """Today in the reporting time zone."""
    return datetime.now(ZoneInfo(settings.reporting_timezone())).date()


def day_in_name(path: Path) -> date | None:
    """The first calendar date written in a file's name (YYYY-MM-DD or YYYYMMDD), if any."""
    for match in DAY_IN_NAME.finditer(path.name):
        try:
            return date(*(int(part) for part in match.groups()))
        except ValueError:
            continue  # eight digits that are not a date, e.g. part of an order number
    return None


def implausible_day(path: Path) -> date | None:
    """The date in a file's name when it cannot be a delivery day (before 2000, or more than a
    year ahead); None when the name holds a plausible date or none."""
    day = day_in_name(path)
    if day is None:
        return None
    latest = date.fromordinal(today().toordinal() + PLAUSIBLE_DAYS_AHEAD)
    return day if not FIRST_PLAUSIBLE_DAY <= day <= latest else None


def partition_day_of(path: Path) -> date:
    """The delivery day of a file: a YYYY-MM-DD or YYYYMMDD in its name, else the day (in the
    reporting time zone) it was last written."""
    day = day_in_name(path)
    if day is not None:
        return day
    modified = datetime.fromtimestamp(path.lstat().st_mtime, UTC)  # a link: its own day
    return modified.astimezone(ZoneInfo(settings.reporting_timezone())).date()


# A copy or download still in progress; such a file is not data yet.
IN_PROGRESS_SUFFIXES = {".tmp", ".part", ".crdownload", ".partial"}


def inbox_files(inbox: Path, domain: str | None = None) -> list[Path]:
    """Files waiting in the inbox (or one folder of it). Hidden files, Excel lock files and
    copies still in progress are not data. Symbolic links are listed (and refused by
    ingestion, `inbox_link`) unless OEX_FOLLOW_LINKS allows them, then followed."""
    folder = inbox / domain if domain else inbox
    if not folder.is_dir():
        return []
    follow = settings.follow_links()
    found = []
    for root, folders, names in os.walk(folder, followlinks=follow):
        here = Path(root)
        folders[:] = [name for name in folders if _is_data(name)]
        if not follow:  # a linked folder is listed, to be refused, not walked into
            names = [*names, *(name for name in folders if (here / name).is_symlink())]
        for name in names:
            path = here / name
            if _is_data(name) and (path.is_symlink() or path.is_file()):
                found.append(path)
    return sorted(found)


def _is_data(name: str) -> bool:
    return not name.startswith((".", "~$")) and Path(name).suffix.lower() not in (
        IN_PROGRESS_SUFFIXES
    )


def readable_name(path: Path, inbox: Path) -> str:
    """The file's path in the inbox as text. A name whose bytes are not UTF-8 (a GBK name
    from a Windows share) is read as GB18030 where it can be, so a person recognises it."""
    relative = path.relative_to(inbox).as_posix()
    raw = os.fsencode(relative)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030", errors="replace")


def name_problem(path: Path) -> str | None:
    """Why a file cannot be taken by its name, if it cannot: a name that is not UTF-8."""
    raw = os.fsencode(path.name)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return (
            f"its name is not UTF-8 (byte {raw[error.start]:#04x} at {error.start}; "
            "it may come from a Windows share in GBK): rename it"
        )
    return None


def inbox_link(path: Path) -> str | None:
    """Why a path in the inbox is refused as a link (None when it is not one, or links are
    allowed)."""
    if not path.is_symlink():
        return None
    target = os.readlink(path)
    if not path.exists():
        return f"a symbolic link to {target}, which does not exist"
    if settings.follow_links():
        return None
    return (
        f"a symbolic link (to {target}): links are not followed, since they can point "
        "outside the inbox; copy the file in, or set OEX_FOLLOW_LINKS=true"
    )


def first_inbox_day(inbox: Path) -> date | None:
    """The earliest delivery day of the files in the inbox, if there are any."""
    days = [
        partition_day_of(path)
        for path in inbox_files(inbox)
        if not implausible_day(path) and not inbox_link(path)
    ]
    return min(days) if days else None


def file_hash(path: Path) -> str:
    if inbox_link(path):  # never read what a refused (or broken) link points to
        return hashlib.sha256(f"link:{os.readlink(path)}".encode()).hexdigest()
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
