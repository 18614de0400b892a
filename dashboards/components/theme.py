"""Colours shared by every chart, so a family looks the same everywhere.

The families, their order and colours are the exception catalogue's
(dbt_project/seeds/exception_families.csv; an Okabe-Ito-like palette, distinguishable for
colour-blind readers and in print).
"""

from pipelines import catalogue

FAMILIES = catalogue.family_codes()
FAMILY_COLOURS = {code: family.colour for code, family in catalogue.families().items()}
UNKNOWN_COLOUR = "#444444"
CUMULATIVE_COLOUR = "#333333"
SLA_COLOUR = "#C00000"
PROVISIONAL_OPACITY = 0.45
# The exceptions the risk page says an open order or SKU is heading for.
RISK_COLOURS = {"late_handoff": "#E69F00", "delivery_overdue": "#0072B2", "out_of_stock": "#D55E00"}
LEAD_TIME_COLOUR = CUMULATIVE_COLOUR


def family_colour(family: str) -> str:
    return FAMILY_COLOURS.get(family, UNKNOWN_COLOUR)
