"""The marts are published as one set: readers see one build's files or the previous build's,
never a mix, even when the disk fills half-way through an export."""

from __future__ import annotations

import json
import resource
import shutil
import signal
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines import marts as mart_files
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
            " select range as exception_id, '2026-W4' || (range % 3) as week, ?::varchar as build"
            " from range(50)",
            [build],
        )
        connection.execute(
            "create or replace table marts.fct_orders as"
            " select range as order_id, '2026-W4' || (range % 3) as week,"
            " hash(range) as order_hash, ?::varchar as build from range(?)",
            [build, orders],
        )
    return warehouse


def builds_seen_by_readers(marts_dir: Path) -> dict[str, set[str]]:
    """Each mart the readers find, with the builds its rows come from."""
    published = settings.published_marts_dir(marts_dir)
    return {name: set(mart_files.read(published, name, columns=["build"]).build) for name in MARTS}


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
        written = [path.stem for path in build.iterdir()]
        assert sorted(written) == sorted([*MARTS, Path(marts_export.PARTITIONS_MANIFEST).stem])
        seen_just_before_the_switch.append(builds_seen_by_readers(root))
        switch_current(root, build)

    monkeypatch.setattr(marts_export, "_switch_current", switch_and_watch)
    export_marts(build_warehouse(warehouse, "wednesday", orders=1_000), marts_dir)

    assert seen_just_before_the_switch == [{name: {"tuesday"} for name in MARTS}]
    assert builds_seen_by_readers(marts_dir) == {name: {"wednesday"} for name in MARTS}
    wednesday = settings.published_marts_dir(marts_dir)
    # Monday's set is removed; Tuesday's stays whole for a reader that resolved it just now
    assert build_folders(marts_dir) == sorted([tuesday, wednesday])
    assert {name: set(mart_files.read(tuesday, name).build) for name in MARTS} == {
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


def test_a_fact_is_exported_by_week_and_unchanged_weeks_are_not_written_again(tmp_path):
    """A daily run changes the rows of a few weeks: the next export writes those partitions
    and links the others from the previous set, and the new set is whole on its own."""
    warehouse = build_warehouse(tmp_path / "warehouse.duckdb", "monday", orders=30_000)
    marts_dir = tmp_path / "marts"
    export_marts(warehouse, marts_dir)
    monday = settings.published_marts_dir(marts_dir)
    assert sorted(path.name for path in (monday / "fct_orders").iterdir()) == [
        "2026-W40.parquet",
        "2026-W41.parquet",
        "2026-W42.parquet",
    ]
    with duckdb.connect(str(warehouse)) as connection:
        # one order of week 41 changes; week 40's rows are rewritten in another order
        connection.execute("update marts.fct_orders set build = 'tuesday' where order_id = 1")
        connection.execute(
            "create or replace table marts.fct_orders as"
            " select * from marts.fct_orders order by order_hash"
        )

    assert export_marts(warehouse, marts_dir)["fct_orders"] == 30_000
    tuesday = settings.published_marts_dir(marts_dir)
    manifest = json.loads((tuesday / "partitions.json").read_text(encoding="utf-8"))
    assert manifest["fct_orders"]["written"] == ["2026-W41"]
    assert manifest["fct_order_exceptions"]["written"] == []

    def same_file(name: str, week: str) -> bool:
        return (tuesday / name / f"{week}.parquet").samefile(monday / name / f"{week}.parquet")

    assert same_file("fct_orders", "2026-W40") and same_file("fct_orders", "2026-W42")
    assert not same_file("fct_orders", "2026-W41")

    shutil.rmtree(monday)  # the previous set goes with a later export
    orders = mart_files.read(tuesday, "fct_orders")
    assert len(orders) == 30_000
    assert orders.loc[orders.order_id == 1, "build"].tolist() == ["tuesday"]
    assert set(orders.loc[orders.order_id != 1, "build"]) == {"monday"}


def test_an_empty_fact_keeps_its_columns_and_rows_without_a_week_are_kept(tmp_path):
    """A first build with no exceptions yet still publishes the fact (readers get its columns,
    no rows), and an order without a review week is exported, not dropped."""
    warehouse = build_warehouse(tmp_path / "warehouse.duckdb", "monday", orders=100)
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("delete from marts.fct_order_exceptions")
        connection.execute("update marts.fct_orders set week = null where order_id = 7")
    marts_dir = tmp_path / "marts"
    rows = export_marts(warehouse, marts_dir)
    published = settings.published_marts_dir(marts_dir)

    assert rows["fct_order_exceptions"] == 0
    assert [path.name for path in (published / "fct_order_exceptions").iterdir()] == [
        f"{mart_files.NO_PARTITION}.parquet"
    ]
    empty = mart_files.read(published, "fct_order_exceptions")
    assert empty.empty and list(empty.columns) == ["exception_id", "week", "build"]

    assert rows["fct_orders"] == 100
    orders = mart_files.read(published, "fct_orders")
    assert len(orders) == 100 and orders.loc[orders.order_id == 7, "week"].isna().all()
    assert (published / "fct_orders" / f"{mart_files.NO_PARTITION}.parquet").is_file()
