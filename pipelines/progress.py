"""What `oex run` tells a person while the daily build runs, and after.

The run itself logs to Dagster's event log (everything, at every level). This module reads
that log while the run goes on and prints one line per step that matters: each table
ingested, the checks, dbt models done of the total, the marts exported. After the run it
writes the whole log to a file and prints a summary table that names the file. Output is plain
text when it is not a terminal (no colour codes in a log file).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
from rich.console import Console
from rich.table import Table

FIGURES = ("rows_read", "rows_loaded", "rows_quarantined", "rows_skipped")
_WATCHED = {
    dg.DagsterEventType.STEP_START,
    dg.DagsterEventType.STEP_FAILURE,
    dg.DagsterEventType.ASSET_MATERIALIZATION,
    dg.DagsterEventType.ASSET_CHECK_EVALUATION,
}
INGESTION_DOMAINS = ("orders", "stock", "logistics", "feedback")


@dataclass
class Progress:
    """What the run has done so far, as read from its events."""

    dbt_models: int
    tables: dict[str, dict[str, int]] = field(default_factory=dict)
    models_done: set[str] = field(default_factory=set)
    checks_run: int = 0
    checks_failed: list[tuple[str, str, str, str]] = field(default_factory=list)
    marts_exported: int | None = None
    failures: list[str] = field(default_factory=list)


@contextlib.contextmanager
def tools_output_to(path: Path | None) -> Iterator:
    """While the run goes on, what the tools print (dbt's own lines, which Dagster mirrors
    from each step to the terminal, and library warnings) is appended to `path`, the run's
    log; yields a stream on the real terminal for the progress. `None` leaves it all on the
    terminal (`--verbose`)."""
    if path is None:
        yield sys.stdout
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    with path.open("ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield terminal
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for descriptor in saved:
                os.close(descriptor)
            terminal.close()


class RunProgress(threading.Thread):
    """Follows a run's event log from another thread and prints its progress by step."""

    def __init__(
        self, instance: dg.DagsterInstance, run_id: str, console: Console, dbt_models: int
    ) -> None:
        super().__init__(daemon=True)
        self.instance, self.run_id, self.console = instance, run_id, console
        self.progress = Progress(dbt_models)
        self._run_finished = threading.Event()
        self._cursor: str | None = None
        self._reported_models = 0

    def run(self) -> None:
        while not self._run_finished.wait(0.5):
            self.read_new_events()

    def finish(self) -> Progress:
        self._run_finished.set()
        self.join(timeout=10)
        self.read_new_events()
        return self.progress

    def read_new_events(self) -> None:
        while True:
            connection = self.instance.get_records_for_run(
                self.run_id, cursor=self._cursor, of_type=_WATCHED, limit=500
            )
            for record in connection.records:
                self._on_event(record.event_log_entry)
            self._cursor = connection.cursor
            if not connection.has_more:
                return

    def _on_event(self, entry) -> None:
        event = entry.dagster_event
        if event is None:
            return
        kind = event.event_type
        if kind == dg.DagsterEventType.STEP_FAILURE:
            reason = failure_reason(event.step_failure_data.error, entry.user_message)
            self.progress.failures.append(f"{event.step_key}: {reason}")
            self.console.print(f"[red]✗ {event.step_key} failed:[/red] {reason}")
        elif kind == dg.DagsterEventType.ASSET_MATERIALIZATION:
            self._on_materialization(event.event_specific_data.materialization)
        elif kind == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            self._on_check(event.event_specific_data)

    def _on_materialization(self, materialization) -> None:
        path = materialization.asset_key.path
        name = "/".join(path)
        metadata = {key: value.value for key, value in materialization.metadata.items()}
        if path[0] in INGESTION_DOMAINS and "rows_read" in metadata:
            if name in self.progress.tables:
                return  # a range run records the same figures on every day
            figures = {key: int(metadata.get(key) or 0) for key in FIGURES}
            self.progress.tables[name] = figures
            self.console.print(
                f"ingested {name:28} {figures['rows_read']:>11,} read "
                f"{figures['rows_loaded']:>11,} loaded {figures['rows_quarantined']:>7,} "
                f"quarantined {figures['rows_skipped']:>9,} skipped"
            )
        elif name == "exported_marts":
            self.progress.marts_exported = int(metadata["tables"])
            rows = int(metadata["rows"])
            self.console.print(
                f"exported the marts: {self.progress.marts_exported} tables, {rows:,} rows"
            )
        elif name in ("rpt_delivery_risk", "rpt_stockout_risk") and "not_scored" in metadata:
            self.console.print(f"risk: {name} {metadata['not_scored']}")
        elif name == "rpt_delivery_risk":
            self.console.print(
                f"risk: {int(metadata['open_orders']):,} open orders scored "
                f"(model {metadata['model_version']}), "
                f"{float(metadata['expected_late_orders']):,.1f} expected to turn late"
            )
        elif name == "rpt_stockout_risk":
            self.console.print(
                f"risk: {int(metadata['at_risk']):,} of {int(metadata['sku_warehouses']):,} "
                "SKU-warehouses may run out before replenishment "
                f"({float(metadata.get('expected_stockouts', 0)):,.1f} expected to)"
            )
        elif path[0] in ("staging", "intermediate", "marts"):
            self.progress.models_done.add(name)
            done, total = len(self.progress.models_done), self.progress.dbt_models
            # a line per tenth of the models, not per model
            if total and (done == total or done - self._reported_models >= max(total // 10, 1)):
                self._reported_models = done
                self.console.print(f"dbt: {done} of {total} models built")

    def _on_check(self, evaluation) -> None:
        self.progress.checks_run += 1
        if evaluation.passed:
            return
        severity = "failed" if evaluation.severity == dg.AssetCheckSeverity.ERROR else "warns"
        reason = evaluation.description or _check_reason(evaluation.metadata)
        asset = evaluation.asset_key.to_user_string()
        self.progress.checks_failed.append((severity, asset, evaluation.check_name, reason))


def failure_reason(error, fallback: str) -> str:
    """What went wrong in a step, in one line: the innermost cause (Dagster wraps it in "Error
    occurred while executing op ...", which names the step again and says nothing more)."""
    if error is not None:
        while error.cause is not None:
            error = error.cause
    lines = (error.message if error is not None else fallback or "").strip().splitlines()
    return lines[0] if lines else "?"


def _check_reason(metadata: dict) -> str:
    """Why a check did not pass, from its metadata when it gives no description."""
    shown = {
        key: value.value
        for key, value in metadata.items()
        if not key.startswith("dagster") and key not in ("expectations",)
    }
    return "; ".join(f"{key}: {value}" for key, value in shown.items())[:300]


def write_run_log(instance: dg.DagsterInstance, run_id: str, path: Path) -> Path:
    """Every event of the run, one line each, at every level (the console shows the steps),
    after what the tools printed while it ran."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as log:
        log.write("---- Dagster events of the run\n")
        for entry in instance.all_logs(run_id):
            when = datetime.fromtimestamp(entry.timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S")
            level = _level_name(entry.level)
            step = entry.step_key or "-"
            message = entry.message or entry.user_message or ""
            kind = entry.dagster_event_type.value if entry.dagster_event_type else "LOG"
            log.write(f"{when} {level:7} {kind:24} {step} {message}\n")
    return path


def _level_name(level: int | str) -> str:
    if isinstance(level, str):
        return level
    return {10: "DEBUG", 20: "INFO", 30: "WARNING", 40: "ERROR", 50: "CRITICAL"}.get(
        level, str(level)
    )


def print_summary(console: Console, progress: Progress, success: bool, log_file: Path) -> None:
    """The run's table of tables, its checks that did not pass with their reasons, and where
    the whole log is."""
    if progress.tables:
        table = Table(title="Ingestion", show_lines=False)
        table.add_column("table")
        for figure in FIGURES:
            table.add_column(figure.removeprefix("rows_"), justify="right")
        for name, figures in sorted(progress.tables.items()):
            table.add_row(name, *(f"{figures[key]:,}" for key in FIGURES))
        console.print(table)
    console.print(
        f"dbt models built: {len(progress.models_done)} of {progress.dbt_models}; "
        f"checks evaluated: {progress.checks_run}; "
        f"marts exported: {progress.marts_exported if progress.marts_exported is not None else 0}"
    )
    for severity, asset, check, reason in progress.checks_failed:
        colour = "red" if severity == "failed" else "yellow"
        console.print(f"[{colour}]check {severity}:[/{colour}] {asset} {check}: {reason}")
    verdict = "[green]Run succeeded.[/green]" if success else "[red]Run failed.[/red]"
    console.print(f"{verdict} Full log: {log_file}")
