"""Write every merchant's weekly report files, with a manifest, replacing a week atomically.

Layout: exports_dir()/<week>/<merchant-slug>/{<report>.xlsx, <report>.html} and
exports_dir()/<week>/manifest.json. A week (or one merchant's folder, with merchant_id) is
first written beside its final place and then swapped in with renames, so a reader, or a run
killed half-way, never sees a mix of old and new files.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipelines import settings
from pipelines.defs.exports.html_report import write_html
from pipelines.defs.exports.naming import merchant_folder, safe_child, week_monday
from pipelines.defs.exports.report_data import MartsReader, Merchant, MerchantWeek
from pipelines.defs.exports.translations import catalogue_for
from pipelines.defs.exports.workbook import write_workbook

MANIFEST = "manifest.json"


class NothingToExportError(Exception):
    """No merchant has orders or exceptions in the week: there is no report to write."""


def export_week(
    week: str, merchant_id: str | None = None, *, languages_file: Path | None = None
) -> list[Path]:
    """Write the week's report files for every merchant (or only merchant_id).

    Returns the paths written, the manifest last. Reads only the exported marts.
    """
    week_monday(week)  # a clear error before anything is touched
    exports = settings.exports_dir()
    exports.mkdir(parents=True, exist_ok=True)
    week_dir = safe_child(exports, week)
    with _exports_lock(exports):
        _remove_leftovers(exports, week)
        staging = exports / f".{week}.staging-{uuid.uuid4().hex}"
        staging.mkdir()
        try:
            entries = _write_merchants(staging, week, merchant_id, languages_file)
            if not entries:
                raise NothingToExportError(
                    f"No merchant has orders or exceptions in {week} in the marts: no report "
                    "was written (is the week right, and has its data been built?)."
                )
            if merchant_id is None:
                _write_manifest(staging, week, entries)
                _swap_in(staging, week_dir)
            else:
                _swap_in_merchant(staging, week_dir, week, merchant_id, entries)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    written = [week_dir / entry["path"] for entry in entries]
    return [*written, week_dir / MANIFEST]


def _write_merchants(
    staging: Path, week: str, merchant_id: str | None, languages_file: Path | None
) -> list[dict]:
    reader = MartsReader()
    try:
        entries: list[dict] = []
        for merchant in reader.merchants_of_week(week, merchant_id):
            # the merchant id is in the name: two merchants never share a folder, and one
            # merchant's export lands where the full export puts it
            folder = safe_child(
                staging, merchant_folder(merchant.merchant_name, merchant.merchant_id)
            )
            folder.mkdir()
            report = reader.merchant_week(merchant, week)
            entries += _write_merchant_files(report, folder, languages_file)
        return entries
    finally:
        reader.close()


def _write_merchant_files(
    report: MerchantWeek, folder: Path, languages_file: Path | None
) -> list[dict]:
    words = catalogue_for(report.merchant.merchant_id, languages_file)
    stem = f"{words.text('file_stem')}-{report.week}"
    workbook = safe_child(folder, f"{stem}.xlsx")
    html = safe_child(folder, f"{stem}.html")
    rows = write_workbook(report, words, workbook)
    write_html(report, words, html)
    return [
        _manifest_entry(report.merchant, words.language, path, folder.parent, rows)
        for path in (workbook, html)
    ]


def _manifest_entry(
    merchant: Merchant, language: str, path: Path, week_dir: Path, rows: dict[str, int]
) -> dict:
    return {
        "path": path.relative_to(week_dir).as_posix(),
        "merchant_id": merchant.merchant_id,
        "merchant_name": merchant.merchant_name,
        "language": language,
        "format": path.suffix.lstrip("."),
        "rows": rows,
        "bytes": path.stat().st_size,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }


def _write_manifest(week_dir: Path, week: str, entries: list[dict]) -> None:
    manifest = {"week": week, "files": sorted(entries, key=lambda entry: entry["path"])}
    temporary = week_dir / f".{MANIFEST}.{uuid.uuid4().hex}"
    temporary.write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    os.replace(temporary, week_dir / MANIFEST)


def _swap_in(new: Path | None, final: Path) -> None:
    """Put folder `new` at `final` (or only retire `final` when new is None).

    A directory cannot be os.replace'd over a non-empty one, so the old one is renamed aside
    first and deleted after; the window without `final` is two renames wide.
    """
    retired = final.with_name(f".{final.name}.retired-{uuid.uuid4().hex}")
    if final.exists():
        os.rename(final, retired)
    if new is not None:
        os.rename(new, final)
    shutil.rmtree(retired, ignore_errors=True)


def _swap_in_merchant(
    staging: Path, week_dir: Path, week: str, merchant_id: str, entries: list[dict]
) -> None:
    """Replace one merchant's folder of an existing week and its lines of the manifest."""
    week_dir.mkdir(exist_ok=True)
    manifest_path = week_dir / MANIFEST
    previous = (
        json.loads(manifest_path.read_text(encoding="utf-8"))["files"]
        if manifest_path.exists()
        else []
    )
    new_folders = {folder.name for folder in staging.iterdir()}
    # A renamed merchant has a new slug: its old folder goes too.
    old_folders = {
        Path(entry["path"]).parts[0] for entry in previous if entry["merchant_id"] == merchant_id
    } - new_folders
    for name in old_folders:
        folder = safe_child(week_dir, name)
        if folder.exists():
            _swap_in(None, folder)
    for name in new_folders:
        _swap_in(staging / name, safe_child(week_dir, name))
    kept = [entry for entry in previous if entry["merchant_id"] != merchant_id]
    _write_manifest(week_dir, week, kept + entries)


def _remove_leftovers(exports: Path, week: str) -> None:
    """Remove what a killed export of this week left behind (the lock says none is running)."""
    for leftover in exports.glob(f".{week}.staging-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    for leftover in exports.glob(f".{week}.retired-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    week_dir = exports / week
    if week_dir.is_dir():
        for leftover in week_dir.glob(".*.retired-*"):
            shutil.rmtree(leftover, ignore_errors=True)
        for leftover in week_dir.glob(f".{MANIFEST}.*"):
            leftover.unlink(missing_ok=True)


@contextmanager
def _exports_lock(exports: Path) -> Iterator[None]:
    """One export at a time (the CLI and a Dagster run may overlap). The lock is taken on the
    folder itself, so no lock file is left behind; the kernel releases it if we are killed."""
    descriptor = os.open(exports, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)
