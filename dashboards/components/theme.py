"""Colours shared by every chart, so a family looks the same everywhere."""

FAMILIES = ("payment", "info", "inventory", "logistics", "fulfilment", "system", "special")

# Okabe-Ito-like palette: distinguishable for colour-blind readers and in print.
FAMILY_COLOURS = {
    "payment": "#D55E00",
    "info": "#E69F00",
    "inventory": "#0072B2",
    "logistics": "#009E73",
    "fulfilment": "#CC79A7",
    "system": "#56B4E9",
    "special": "#8C8C8C",
}
UNKNOWN_COLOUR = "#444444"
CUMULATIVE_COLOUR = "#333333"
SLA_COLOUR = "#C00000"


def family_colour(family: str) -> str:
    return FAMILY_COLOURS.get(family, UNKNOWN_COLOUR)
