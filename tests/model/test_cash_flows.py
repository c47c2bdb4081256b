"""The monthly cash-flow statement of a running market (issue 16's first point): money enters
only from declared sources, leaves only through declared uses, and otherwise moves between
accounts; the statement agrees with the model's own tallies of the same payments."""

import numpy as np
import pytest

from vcm_sim.cash import SOURCES, TRANSFERS, USES
from vcm_sim.model import VCMModel

from .conftest import small
from .test_currency import in_yuan, linked


def columns(frame, kind: str, names) -> list[str]:
    return [f"{kind}_{name}_usd" for name in names]


def test_each_months_cash_changes_by_its_sources_less_its_uses():
    """Every month (debug mode checks each statement as it closes, burn-in included) and in
    the recorded frame: closing less opening is sources less uses, and months chain."""
    model = VCMModel(small(steps=36, population={"traders": 6}), rng=4).run()
    flows = model.cash_flows()
    assert len(flows) == 36 and list(flows.step) == list(model.results().step)
    net = flows[columns(flows, "source", SOURCES)].sum(axis=1) \
        - flows[columns(flows, "use", USES)].sum(axis=1)
    assert (flows.closing_usd - flows.opening_usd).to_numpy() == pytest.approx(net.to_numpy())
    assert (flows.opening_usd.iloc[1:].to_numpy() == flows.closing_usd.iloc[:-1].to_numpy()).all()
    assert flows.closing_usd.iloc[-1] == pytest.approx(model.market.cash.total())


@pytest.mark.parametrize("preset, paying", [("baseline", "transfer_credit_trades_usd"),
                                             ("history", "use_capex_usd")])
def test_the_statement_agrees_with_the_tallies_of_developers_costs_and_fines(preset, paying):
    """Capex, opex and verification fees are what developers paid; fines what the regulator
    took; firms' payments for credits what they spent on them (no trader, no link). Small
    baseline markets trade but start no project in ten years, small history ones invest
    but hardly trade: each shows one side moving money."""
    model = VCMModel(small(preset, steps=120, population={"traders": 0}), rng=6).run()
    flows, tally = model.cash_flows(), model.market.tally
    paid = flows[["use_capex_usd", "use_opex_usd", "transfer_verification_fees_usd"]].sum().sum()
    assert paid == pytest.approx(tally.developer_cost_usd)
    assert flows.transfer_fines_usd.sum() == pytest.approx(tally.fines_usd)
    assert flows.transfer_credit_trades_usd.sum() == pytest.approx(tally.firm_credit_spend_usd)
    assert flows[paying].sum() > 0 and flows.use_opex_usd.sum() > 0
    assert flows[columns(flows, "transfer", TRANSFERS)].ge(0).all().all()


def test_linked_markets_money_crossing_a_border_is_a_use_here_and_a_source_there():
    """What buyers in one market pay for credits from the other leaves its book as a
    purchase abroad and enters the other's as a sale abroad, less the transfer cost, in
    USD whatever each market's currency."""
    model = VCMModel(small("linked", steps=36), rng=2).run()
    flows = {name: model.cash_flows(name) for name in model.market_names}
    bought = sum(f.use_purchases_abroad_usd.sum() for f in flows.values())
    sold = sum(f.source_sales_abroad_usd.sum() for f in flows.values())
    cost = sum(m.tally.transfer_cost_usd / m.config.per_usd for m in model.markets)
    assert bought > 0
    assert bought - sold == pytest.approx(cost, rel=1e-9)


def test_a_market_in_another_currency_reports_the_same_statement_in_usd():
    """The lax market of a linked pair with its money settings in yuan at 8 per USD: its
    statement, in USD, is the all-dollar run's, flow by flow."""
    base = linked(steps=24)
    dollars = VCMModel(base, rng=3).run().cash_flows("lax")
    yuan = VCMModel(in_yuan(base, 8.0, 8.0), rng=3).run().cash_flows("lax")
    assert list(yuan.columns) == list(dollars.columns)
    np.testing.assert_allclose(yuan.to_numpy(float), dollars.to_numpy(float), rtol=1e-9)
    assert dollars.use_purchases_abroad_usd.sum() + dollars.source_sales_abroad_usd.sum() > 0
