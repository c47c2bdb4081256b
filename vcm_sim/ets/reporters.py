"""Per-step reporters of a market with an ETS, recorded after the market's others. Prices
carry the ETS's currency in their names (``allowance_price_cny``); quantities are tCO2e,
allowances or credits; flows count from the first recorded month."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import pandas as pd

from vcm_sim.ets.settings import Ets

if TYPE_CHECKING:
    from vcm_sim.jurisdiction import Jurisdiction


def allowance_price(market: Jurisdiction) -> float:
    """This month's allowance clearing price (volume-weighted), in the ETS's currency per
    tCO2e; NaN when no allowance traded."""
    return market.ets.price


def allowance_quote(market: Jurisdiction) -> float:
    """The allowance price covered firms expect at the end of the month, in the ETS's
    currency per tCO2e: the clearing price or, in a month without trades, the bottom of the
    range firms bid over when only sellers came, the penalty when only buyers came, or the
    middle of the best bid and ask. Unlike the clearing price it is never missing, so
    averages over months do not drop the months nobody traded in."""
    return market.ets.expected_price


def offset_price(market: Jurisdiction) -> float:
    """This month's volume-weighted price covered firms paid for credits (the compliance
    offset price), in the ETS's currency per tCO2e; NaN when they bought none. Voluntary
    buyers of the same types pay the market's ``price_<type>_usd``."""
    ets = market.ets
    if not ets.offsets_bought_month:
        return math.nan
    return ets.offsets_paid_month_usd / ets.offsets_bought_month * ets.params.per_usd


def allowance_volume(market: Jurisdiction) -> int:
    """Allowances traded this month (auction sales included)."""
    return market.ets.volume


def covered_emissions_tco2(market: Jurisdiction) -> float:
    """Covered firms' emissions this month, tCO2e (after abatement)."""
    return market.ets.month_emissions


def allowances_banked(market: Jurisdiction) -> int:
    """Allowances covered firms hold now (unused ones are banked)."""
    return int(market.ets.book.held[:-1].sum())


def offsets_held(market: Jurisdiction) -> int:
    """Credits covered firms hold for their next surrender."""
    return int(market.registry.held(market.ets.ids).sum())


def offsets_surrendered(market: Jurisdiction) -> int:
    """Credits surrendered for compliance so far (retired behind ``ets:`` claims)."""
    return market.ets.tally.offsets_surrendered


def offset_share(market: Jurisdiction) -> float:
    """Share (0-1) of the last deadline's obligations met with credits; NaN before the
    first deadline."""
    return market.ets.offset_share


def _surrendered_real(market: Jurisdiction) -> tuple[int, float]:
    """Credits surrendered for compliance since recording started and the real tonnes
    behind them today (hidden truth)."""
    surrendered = market.ets.surrendered_since_recording(len(market.registry.batches))
    return int(surrendered.sum()), float(surrendered @ market.truth.real_now())


def offset_integrity(market: Jurisdiction) -> float:
    """Real tonnes per credit surrendered for compliance so far (0-1, today); NaN before
    any surrender."""
    credits, real = _surrendered_real(market)
    return real / credits if credits else math.nan


def unreduced_tco2(market: Jurisdiction) -> float:
    """Tonnes of covered emissions that surrendered credits excused but nobody reduced
    (credits surrendered minus the real tonnes behind them today), cumulative: what offsets
    add to the cap's emissions."""
    credits, real = _surrendered_real(market)
    return credits - real


def compliance_shortfall_tco2(market: Jurisdiction) -> int:
    """Tonnes not covered at deadlines so far (fined and owed from the next allocation)."""
    return market.ets.tally.shortfall_tco2


def ets_abatement_tco2(market: Jurisdiction) -> float:
    """Tonnes covered firms have abated so far."""
    return market.ets.tally.abatement_tco2


def ets_reporters(params: Ets) -> dict[str, Callable[[Jurisdiction], float]]:
    """The reporters of an ETS with ``params``, by column name."""
    currency = params.suffix
    return {
        f"allowance_price_{currency}": allowance_price,
        f"allowance_quote_{currency}": allowance_quote,
        f"{params.offset_label}_price_{currency}": offset_price,
        "allowance_volume": allowance_volume,
        "covered_emissions_tco2": covered_emissions_tco2,
        "allowances_banked": allowances_banked,
        "offsets_held": offsets_held,
        "offsets_surrendered": offsets_surrendered,
        "offset_share": offset_share,
        "offset_integrity": offset_integrity,
        "unreduced_tco2": unreduced_tco2,
        "compliance_shortfall_tco2": compliance_shortfall_tco2,
        "ets_abatement_tco2": ets_abatement_tco2,
    }


def price_columns(columns: Iterable[str], market: str = "") -> tuple[str, str, str] | None:
    """An ETS's price columns among ``columns`` (of ``market`` in a scenario with several,
    ``<column>_<market>``): allowance quote, allowance clearing price and the price covered
    firms paid for credits; None without an ETS."""
    columns = list(columns)
    tail = f"_{market}" if market else ""
    quote = [c for c in columns if c.startswith("allowance_quote_") and c.endswith(tail)
             and (market or c.count("_") == 2)]
    if not quote:
        return None
    currency = quote[0].removeprefix("allowance_quote_").removesuffix(tail)
    credit = next(c for c in columns
                  if c.endswith(f"_price_{currency}{tail}") and not c.startswith("allowance_"))
    return quote[0], f"allowance_price_{currency}{tail}", credit


def ets_summary(results: pd.DataFrame) -> dict[str, float]:
    """Run-level metrics of an ETS from the per-step table (empty without one): the means
    over the recorded months of the allowance quote, the allowance clearing price and the
    price covered firms paid for credits (currency per tCO2e, named as the columns are),
    and the final credits surrendered, offset integrity, unreduced tonnes, shortfall and
    abatement."""
    found = price_columns(results.columns)
    if found is None:
        return {}
    last = results.iloc[-1]
    return {
        **{f"mean_{column}": float(results[column].mean()) for column in found},
        "offsets_surrendered": int(last["offsets_surrendered"]),
        "offset_integrity": float(last["offset_integrity"]),
        "unreduced_tco2": float(last["unreduced_tco2"]),
        "compliance_shortfall_tco2": int(last["compliance_shortfall_tco2"]),
        "ets_abatement_tco2": float(last["ets_abatement_tco2"]),
    }
