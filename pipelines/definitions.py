"""The Dagster code location: every area's definitions, merged.

Areas live in pipelines/defs/ by concept; each exposes a `defs` object.
"""

import gc
import warnings

import dagster as dg

# Single-run backfills (one run for a range of days) are marked beta; we rely on them on
# purpose, so their warning would only be noise on every command.
warnings.filterwarnings("ignore", category=dg.BetaWarning)

from pipelines import run_history  # noqa: E402

run_history.install()  # every process that loads the definitions writes run history

from pipelines.defs import automation, exports, ingestion, quality, risk, transformation  # noqa: E402

defs = dg.Definitions.merge(
    ingestion.defs,
    quality.defs,
    transformation.defs,
    risk.defs,
    exports.defs,
    automation.defs,
)

# The definitions live as long as the process. Frozen, they are left out of every full garbage
# collection, such as the one that frees each GX validation's batch (0.24 s each, 2.2 s of a
# daily run, scanning the definitions' objects again and again).
gc.freeze()
