"""The run's progress lines: a failed step says what went wrong, not only that it failed."""

from __future__ import annotations

import sys

from dagster._utils.error import serializable_error_info_from_exc_info

from pipelines.progress import failure_reason


def _wrapped_key_error():
    """A step's KeyError as Dagster records it: inside its "Error occurred while executing
    op" wrapper."""
    from dagster._core.errors import DagsterExecutionStepExecutionError

    try:
        try:
            {}["model.order_exceptions.int_open_parcels__rebuild_scope"]
        except KeyError as error:
            raise DagsterExecutionStepExecutionError(
                'Error occurred while executing op "order_exceptions_dbt":',
                user_exception=error,
                original_exc_info=sys.exc_info(),
                step_key="order_exceptions_dbt",
                op_name="order_exceptions_dbt",
                op_def_name="order_exceptions_dbt",
            ) from error
    except DagsterExecutionStepExecutionError:
        return serializable_error_info_from_exc_info(sys.exc_info())


def test_a_failed_step_names_its_innermost_cause():
    reason = failure_reason(_wrapped_key_error(), "")
    assert reason == "KeyError: 'model.order_exceptions.int_open_parcels__rebuild_scope'"


def test_a_failure_without_an_error_gives_its_message():
    assert failure_reason(None, "Step timed out.\nmore") == "Step timed out."
    assert failure_reason(None, "") == "?"
