"""Settings of a compliance emissions trading system (the ``[ets]`` table of a scenario or
of one of its markets)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from vcm_sim.rules import ProjectTypeName, Strict, log_spread, share

CURRENCY = re.compile(r"[A-Z]{3}")
"""An ISO 4217 currency code: it ends result columns (``allowance_price_cny``)."""


def _currency_code(code: str) -> str:
    if not CURRENCY.fullmatch(code):
        raise ValueError(f"currency {code!r}: give an upper-case ISO code such as 'CNY'")
    return code


CurrencyCode = Annotated[str, AfterValidator(_currency_code)]
"""A setting that names a currency by its upper-case ISO code."""


class Ets(Strict):
    """A cap-and-trade system beside the market's voluntary credits: covered firms receive
    allowances, emit, trade allowances, bank what they do not use and surrender allowances
    and, within a cap, the market's credits for each year's emissions (see
    ``vcm_sim.ets``). Prices in this table are in ``currency``."""

    enabled: bool = Field(False, description="Whether the market has an ETS.")
    currency: CurrencyCode = Field("USD", description=(
        "ISO code of the currency the ETS's prices are set and reported in; result columns "
        "carry it in lower case (``allowance_price_cny``)."))
    per_usd: float = Field(1.0, gt=0.0, le=1e6, description=(
        "Exchange rate: units of ``currency`` per USD (the credit market clears in USD)."))
    covered_firms: int = Field(100, ge=1, le=100_000, description="Covered firms.")
    emissions_t_yr: float = Field(1e6, gt=0.0, le=1e10, description=(
        "Median business-as-usual emissions of a covered firm, tCO2e per year."))
    emissions_spread: float = log_spread(1.0, "business-as-usual emissions across covered "
                                              "firms")
    emissions_growth_yr: float = Field(0.0, ge=-0.5, le=0.5, description=(
        "Yearly growth of business-as-usual emissions (0.02 = 2%)."))
    allocation_share: float = Field(0.97, ge=0.0, le=2.0, description=(
        "Allowances issued for a compliance year starting in ``start_year`` (the cap), as a "
        "share of that year's business-as-usual emissions of the covered firms."))
    allocation_decline_yr: float = share(0.0, "Yearly fall of ``allocation_share`` after "
                                              "``start_year`` (0.01: one percentage point a "
                                              "year; it rises as much a year before it), "
                                              "within 0-2.")
    auction_share: float = share(0.0, "Share (0-1) of each year's allowances the regulator "
                                      "auctions (offered each month at the reserve price); the "
                                      "rest is allocated free in the compliance year's first "
                                      "month, in proportion to business-as-usual emissions.")
    auction_reserve: float = Field(0.0, ge=0.0, le=1e6, description=(
        "Lowest price of auctioned allowances, currency per tCO2e."))
    mac_slope: float = Field(2500.0, gt=0.0, le=1e7, description=(
        "Median slope of a covered firm's linear marginal abatement cost, currency per tCO2e "
        "at 100% abated: it abates ``price / slope`` of its emissions."))
    mac_spread: float = log_spread(0.5, "abatement cost slopes across covered firms")
    initial_price: float = Field(50.0, gt=0.0, le=1e6, description=(
        "Allowance price covered firms expect before the first trade, currency per tCO2e."))
    penalty: float = Field(500.0, gt=0.0, le=1e7, description=(
        "Fine per tonne not covered at the deadline, currency per tCO2e; the shortfall is "
        "also deducted from the firm's next free allocation. Firms never bid above it."))
    offset_cap: float = share(0.05, "Largest share (0-1) of a firm's surrender obligation it "
                                    "may meet with the market's credits (5% in China's "
                                    "national ETS).")
    offset_types: list[ProjectTypeName] = Field(default_factory=list, description=(
        "Project types whose credits may be surrendered (empty: every type); only credits "
        "of the market's own registry within its vintage cut-off are eligible."))
    bid_steps: int = Field(60, ge=2, le=400, description=(
        "Price steps of a covered firm's allowance orders (its demand and supply curves), "
        "spaced evenly in log from a thousandth of the penalty to the penalty."))
    deadline_month: int = Field(12, ge=1, le=12, description=(
        "Month (1-12) at whose end covered firms surrender for the twelve months' emissions "
        "ending with it (their compliance year; 12: the calendar year). A compliance year's "
        "allowances are allocated in its first month."))
    offset_label: str = Field("offset", pattern=r"^[a-z][a-z0-9_]*$", max_length=20,
                              description=(
        "Name of the market's credits in result columns: ``<label>_price_<currency>``, "
        "e.g. 'ccer' for ``ccer_price_cny``."))

    @model_validator(mode="after")
    def _usd_at_par(self) -> Ets:
        if self.currency == "USD" and self.per_usd != 1.0:
            raise ValueError(f"per_usd must be 1 when currency is 'USD', got {self.per_usd:g}")
        return self

    @property
    def suffix(self) -> str:
        """The currency in result column names (``cny``)."""
        return self.currency.lower()
