"""The one place that talks to Great Expectations (GX 1.x, ephemeral context, suites in code).

dagster-ge only supports GX below 1.0, so this small wrapper is all the GX the project uses:
suites are built from the input contract, run on a pandas frame, and come back as plain
results the Dagster checks turn into AssetCheckResults.
"""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass

import pandas as pd

from pipelines.contract import Table

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # before GX is imported: no telemetry

import great_expectations as gx
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.execution_engine import pandas_execution_engine

# GX labels each pandas batch with an MD5 of its whole frame (hash_pandas_object) when the
# frame is under HASH_THRESHOLD bytes: two thirds of the checks' time on 1M orders. The label
# only tells stored batches apart; every batch here is made, validated and dropped at once.
pandas_execution_engine.HASH_THRESHOLD = 0

# Something a person could dial, in any country's notation: whether it is a valid number of
# the order's country is the phone_invalid rule's question (seeds/country_rules.csv).
DIALLABLE = r"^[+]?[0-9 ().-]{6,24}$"


@dataclass(frozen=True)
class ExpectationResult:
    expectation: str  # GX expectation type
    column: str
    success: bool
    unexpected_count: int
    examples: list


def _context():
    """A new ephemeral context for each validation: one kept for the whole run holds on to
    every batch it validated (on 10M orders, 4 GB by the end of the order log's 30 batches)."""
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def blocking_expectations(table: Table) -> list[gx.expectations.Expectation]:
    """What raw.<table> must satisfy for anything downstream to trust it."""
    expectations: list[gx.expectations.Expectation] = [
        gx.expectations.ExpectColumnValuesToNotBeNull(column=name)
        for name in ["_source_file", "_source_line"]
    ]
    for column in table.columns:
        if column.not_null:
            expectations.append(gx.expectations.ExpectColumnValuesToNotBeNull(column=column.name))
        if column.accepted_values:
            expectations.append(
                gx.expectations.ExpectColumnValuesToBeInSet(
                    column=column.name, value_set=list(column.accepted_values)
                )
            )
        if column.positive:
            expectations.append(
                gx.expectations.ExpectColumnValuesToBeBetween(
                    column=column.name, min_value=0, strict_min=True
                )
            )
    if table.primary_key:
        # A key may arrive again in a later file (an updated order); within a file it may not.
        expectations.append(
            gx.expectations.ExpectCompoundColumnsToBeUnique(
                column_list=[*table.primary_key, "_source_file"]
            )
        )
    return expectations


def warning_expectations(table: Table) -> list[gx.expectations.Expectation]:
    """Worth a look, not a reason to stop: business exceptions and keys delivered again."""
    expectations: list[gx.expectations.Expectation] = [
        # An invalid phone is an info exception the models flag, not bad input.
        gx.expectations.ExpectColumnValuesToMatchRegex(column=column.name, regex=DIALLABLE)
        for column in table.columns
        if column.name.endswith("_phone")
    ]
    if len(table.primary_key) == 1:
        expectations.append(
            gx.expectations.ExpectColumnValuesToBeUnique(column=table.primary_key[0])
        )
    elif table.primary_key:
        expectations.append(
            gx.expectations.ExpectCompoundColumnsToBeUnique(column_list=list(table.primary_key))
        )
    return expectations


def columns_needed(expectations: list[gx.expectations.Expectation]) -> list[str]:
    names: dict[str, None] = {}
    for expectation in expectations:
        for name in getattr(expectation, "column_list", None) or [expectation.column]:
            names[name] = None
    return list(names)


def validate(
    name: str, frame: pd.DataFrame, suites: dict[str, list[gx.expectations.Expectation]]
) -> dict[str, list[ExpectationResult]]:
    """Run each suite on the frame with an ephemeral GX context; results by suite name.

    One batch serves every suite: GX fingerprints a batch's whole frame when it is made."""
    context = _context()
    source = context.data_sources.add_pandas(name=name)
    try:
        batch = (
            source.add_dataframe_asset(name=name)
            .add_batch_definition_whole_dataframe(name)
            .get_batch(batch_parameters={"dataframe": frame})
        )
        outcomes = {
            suite_name: batch.validate(
                gx.ExpectationSuite(
                    name=f"{name}_{suite_name}", expectations=[e.copy() for e in expectations]
                ),
                result_format={"result_format": "SUMMARY", "partial_unexpected_count": 5},
            )
            for suite_name, expectations in suites.items()
            if expectations
        }
    finally:
        context.data_sources.delete(name)
        del context, source
        # GX's objects refer to each other: only the cycle collector frees the context, and
        # with it the batch's frame, before the next batch is read
        gc.collect()
    return {
        suite_name: [_result(result) for result in outcome.results]
        for suite_name, outcome in outcomes.items()
    }


def _result(result) -> ExpectationResult:
    return ExpectationResult(
        expectation=result.expectation_config.type,
        column=str(
            result.expectation_config.kwargs.get("column")
            or ", ".join(result.expectation_config.kwargs.get("column_list", []))
        ),
        success=bool(result.success),
        unexpected_count=int(result.result.get("unexpected_count") or 0),
        examples=[str(value) for value in result.result.get("partial_unexpected_list", [])],
    )
