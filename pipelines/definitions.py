"""The Dagster code location: every area's definitions, merged.

Areas live in pipelines/defs/ by concept; each exposes a `defs` object.
"""

import warnings

import dagster as dg

# Single-run backfills (one run for a range of days) are marked beta; we rely on them on
# purpose, so their warning would only be noise on every command.
warnings.filterwarnings("ignore", category=dg.BetaWarning)

from pipelines.defs import automation, exports, ingestion, quality, risk, transformation  # noqa: E402

defs = dg.Definitions.merge(
    ingestion.defs,
    quality.defs,
    transformation.defs,
    risk.defs,
    exports.defs,
    automation.defs,
)
