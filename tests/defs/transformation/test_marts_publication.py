"""The marts are published as one set: readers see one build's files or the previous build's,
never a mix, even when the disk fills half-way through an export."""

from __future__ import annotations

import resource
import shutil
import signal
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines import settings
from pipelines.defs.transformation import marts_export
from pipelines.defs.transformation.marts_export import MartsExportError, export_marts

# Exported in name order: fct_orders, the largest, comes last, after a new
# fct_order_exceptions has been written.
MARTS = ("dim_exception_types", "fct_order_exceptions", "fct_orders")
ROOM_ON_DISK = 64 * 1024  # bytes a file can grow to while the disk is "full"


def build_warehouse(warehouse: Path, build: str, orders: int = 300_000) -> Path:
    """A warehouse whose marts tables all carry the label of the build that made them."""
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("create schema if not exists marts")
        connection.execute(
            "create or replace table marts.dim_exception_types as"
            " select 'address_missing' as exception_type, ?::varchar as build",
            [build],
        )
        connection.execute(
            "create or replace table marts.fct_order_exceptions as"
            " select range as exception_id, ?::varchar as build from range(50)",
            [build],
        )
        connection.execute(
            "create or replace table marts.fct_orders as"
            " select range as order_id, hash(range) as order_hash, ?::varchar as build"
            " from range(?)",
            [build, orders],
        )
    return warehouse


def builds_seen_by_readers(marts_dir: Path) -> dict[str, set[str]]:
    """Each mart the readers find, with the builds its rows come from."""
    published = settings.published_marts_dir(marts_dir)
    return {
        name: set(pd.read_parquet(published / f"{name}.parquet", columns=["build"]).build)
        for name in MARTS
    }


def build_folders(marts_dir: Path) -> list[Path]:
    return sorted((marts_dir / settings.MARTS_BUILDS).iterdir())


@contextmanager
def disk_full_past(size: int):
    """Writes that would make a file larger than size fail, as on a full disk (the process's
    file size limit; its signal ignored, the write returns an error instead)."""
    previous_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous_handler)


def test_a_full_disk_mid_export_leaves_the_previous_set_published_whole(tmp_path):
    marts_dir = tmp_path / "marts"
    export_marts(build_warehouse(tmp_path / "warehouse.duckdb", "monday"), marts_dir)
    published_before = settings.published_marts_dir(marts_dir)
    build_warehouse(tmp_path / "warehouse.duckdb", "tuesday", orders=400_000)

    with disk_full_past(ROOM_ON_DISK), pytest.raises(MartsExportError) as failure:
        export_marts(tmp_path / "warehouse.duckdb", marts_dir)

    # the new fct_order_exceptions was written before fct_orders hit the full disk, yet every
    # reader still sees Monday's set, every file of it
    assert builds_seen_by_readers(marts_dir) == {name: {"monday"} for name in MARTS}
    assert settings.published_marts_dir(marts_dir) == published_before
    assert build_folders(marts_dir) == [published_before]  # the half-written one is gone
    message = str(failure.value)
    assert "published nothing" in message and "File too large" in message
    assert str(published_before) in message  # says which set readers keep

    # with room again, the next export publishes Tuesday's set
    assert export_marts(tmp_path / "warehouse.duckdb", marts_dir)["fct_orders"] == 400_000
    assert builds_seen_by_readers(marts_dir) == {name: {"tuesday"} for name in MARTS}


def test_an_export_switches_every_file_at_once_and_keeps_the_previous_set(tmp_path, monkeypatch):
    marts_dir = tmp_path / "marts"
    warehouse = tmp_path / "warehouse.duckdb"
    for day in ("monday", "tuesday"):
        export_marts(build_warehouse(warehouse, day, orders=1_000), marts_dir)
    tuesday = settings.published_marts_dir(marts_dir)

    seen_just_before_the_switch = []
    switch_current = marts_export._switch_current

    def switch_and_watch(root: Path, build: Path) -> None:
        # Wednesday's files are all written, nothing published yet
        assert sorted(path.stem for path in build.iterdir()) == sorted(MARTS)
        seen_just_before_the_switch.append(builds_seen_by_readers(root))
        switch_current(root, build)

    monkeypatch.setattr(marts_export, "_switch_current", switch_and_watch)
    export_marts(build_warehouse(warehouse, "wednesday", orders=1_000), marts_dir)

    assert seen_just_before_the_switch == [{name: {"tuesday"} for name in MARTS}]
    assert builds_seen_by_readers(marts_dir) == {name: {"wednesday"} for name in MARTS}
    wednesday = settings.published_marts_dir(marts_dir)
    # Monday's set is removed; Tuesday's stays whole for a reader that resolved it just now
    assert build_folders(marts_dir) == sorted([tuesday, wednesday])
    assert {name: set(pd.read_parquet(tuesday / f"{name}.parquet").build) for name in MARTS} == {
        name: {"tuesday"} for name in MARTS
    }
    # the link is relative: the marts folder can be moved or copied with its links
    assert not Path(marts_dir.joinpath(settings.MARTS_CURRENT).readlink()).is_absolute()
    assert not list(marts_dir.glob(".*tmp"))


def test_a_plain_folder_of_marts_is_its_own_published_set(tmp_path):
    copied = tmp_path / "marts copied by a user"
    copied.mkdir()
    pd.DataFrame({"order_id": [1, 2]}).to_parquet(copied / "fct_orders.parquet")

    assert settings.published_marts_dir(copied) == copied
    assert settings.published_marts_dir(tmp_path / "no marts yet") == tmp_path / "no marts yet"


@pytest.mark.parametrize("keep_links", [True, False], ids=["links kept", "links followed"])
def test_a_copy_of_the_marts_folder_reads_the_set_it_was_copied_from(tmp_path, keep_links):
    marts_dir = tmp_path / "marts"
    export_marts(build_warehouse(tmp_path / "warehouse.duckdb", "monday", 10), marts_dir)
    copied = shutil.copytree(marts_dir, tmp_path / "copy", symlinks=keep_links)
    shutil.rmtree(marts_dir)

    assert builds_seen_by_readers(copied) == {name: {"monday"} for name in MARTS}
