"""Dagster's run history on this machine: SQLite files under DAGSTER_HOME, written without a
flush to disk per event.

Dagster opens a new SQLite connection for every write of its event log and closes it after,
and with SQLite's default (`synchronous=FULL`) each commit and each close flushes to disk. A
daily build records about 1,200 events (every dbt model and test is one), so on this
machine's virtual disk the flushes alone took 12 s of every run, whatever the day held.
`synchronous=NORMAL` in WAL mode, which Dagster's files use, is what SQLite recommends for
it: a crashed process loses nothing, and a power cut can lose the last events but never
corrupts the file. The warehouse (DuckDB) keeps its own durability; this only concerns the
run history the Dagster UI shows.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine

_installed = False


def _relaxed_sync(dbapi_connection, _record) -> None:
    # only SQLite connections (the driver module names the dialect)
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def install() -> None:
    """Apply to every SQLite engine this process creates from now on (Dagster's included)."""
    global _installed
    if not _installed:
        event.listen(Engine, "connect", _relaxed_sync)
        _installed = True
