"""One colour and one name per series, shared by the instructor's page, ``run.png`` and the
experiments' figures, so that a series looks the same wherever a reader meets it."""

from __future__ import annotations

PRICE = ("tab:blue", "average price this month")
PRICE_INDEX = ("navy", "price index (fixed type mix)")
VOLATILITY = ("tab:gray", "volatility")
VOLUME = ("tab:purple", "credits traded this month")
GREENWASHING = ("tab:red", "greenwashing index")
INTEGRITY = ("tab:green", "integrity ratio")

BANDS = (
    ("price_rating_a_or_above_usd", "rated A or above", "tab:green"),
    ("price_rating_below_a_usd", "rated below A", "tab:red"),
    ("price_rating_unrated_usd", "unrated", "tab:orange"),
)
"""Prices by rating band (with quality books): result column, name, colour."""

STOCKS = (
    ("issued", "issued (ever)", "black"),
    ("active", "active (in circulation)", "tab:blue"),
    ("retired", "retired (claimed)", "tab:green"),
    ("buffer", "buffer pool", "tab:olive"),
    ("cancelled", "cancelled", "tab:red"),
)
"""Registry stocks: result column, name, colour."""

EVENTS = {
    "scandal": ("tab:red", "scandal"),
    "wildfire": ("tab:orange", "wildfire"),
    "suspend_issuance": ("tab:purple", "issuance suspended"),
    "resume_issuance": ("tab:green", "issuance resumed"),
    "set": ("tab:gray", "rule change"),
}
"""Colour and name of each event kind's marker."""
