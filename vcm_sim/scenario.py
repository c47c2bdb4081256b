"""Scenarios: the rules plus the world they act on, loaded from TOML presets or files.

A scenario is a validated, immutable-by-convention pydantic model. Presets ship in
``vcm_sim/scenarios/*.toml``; ``load_scenario("baseline")`` loads one by name, and
``load_scenario("my.toml")`` a file. A file may start from another with ``extends``: a preset
name, or a ``.toml`` path relative to the file that names it. Overrides are nested keyword
arguments (``load_scenario("baseline", steps=60, rules={"market": {"offset_cap": 0.05}})``)
or dotted paths (``with_overrides(scenario, {"rules.market.offset_cap": 0.05})``); a table
given as a value merges into the table there, anything else (a list included) replaces it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from vcm_sim.errors import UserError
from vcm_sim.ets.settings import CurrencyCode, Ets
from vcm_sim.rules import PROJECT_TYPES, ProjectTypeName, Rules, Strict, log_spread, share
from vcm_sim.validation import describe, read_toml


SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
"""A scenario name: it becomes the output folder ``results/<name>``, so no path separators
and no '.' or '..'."""


BURN_IN = 72
"""Default burn-in, months: after it the baseline's first recorded year of the price index is
within 1% of its later level and the median MSER-5 transient left is 2 months, where 24 months
leave 7% and 20 months (``python experiments/steady_start.py``; see docs/measurement.md)."""


class ScenarioError(UserError):
    """A scenario is invalid; the message names each bad field, its value and valid range."""


def beta_concentration(default: float, what: str) -> float:
    """The concentration ``a + b`` of a Beta distribution around its mean."""
    return Field(default, gt=0.0, le=1000.0, description=(
        f"Concentration (a + b) of the Beta distribution of {what} around its mean: the "
        f"higher, the tighter."))


class Population(Strict):
    """How many agents of each kind."""

    firms: int = Field(1000, ge=1, le=1_000_000, description="Emitting firms.")
    developers: int = Field(200, ge=0, le=100_000, description="Project developers.")
    verifiers: int = Field(20, ge=1, le=10_000, description="Verification bodies.")
    traders: int = Field(0, ge=0, le=100_000, description="Speculative traders (0 for none).")
    raters: int = Field(0, ge=0, le=100, description=(
        "Rating agencies publishing letter ratings of projects (0 for none; see "
        "rating_agencies)."))


class ProjectType(Strict):
    """Physics and economics of one NbS project type."""

    mix: float = Field(ge=0.0, le=1.0, description="Share of new projects of this type.")
    rate_tco2_per_ha_yr: float = Field(gt=0.0, le=100.0, description=(
        "Mean true sequestration or avoided emission, tCO2e per hectare per year."))
    area_ha: float = Field(gt=0.0, le=1e7, description="Median project area, hectares.")
    additionality: float = share(0.8, "Mean additionality (0-1): the share of measured tonnes "
                                      "that would not have happened anyway.")
    leakage: float = share(0.1, "Share (0-1) of tonnes displaced elsewhere.")
    reversal_hazard_yr: float = share(0.01, "Annual probability (0-1) of a reversal (fire, "
                                            "pests) in a normal year.")
    reversal_severity: float = share(0.3, "Mean share (0-1) of the stored carbon lost in a "
                                          "reversal.")
    crediting_years: int = Field(30, ge=1, le=100, description="Crediting period, years.")
    capex_usd_per_ha: float = Field(ge=0.0, le=1e9, description="Up-front cost, USD per ha.")
    opex_usd_per_ha_yr: float = Field(ge=0.0, le=1e8, description="Running cost, USD/ha/yr.")
    buffer_share: float = share(0.1, "Buffer contribution (0-1) of each issuance.")
    initial_price_usd: float = Field(gt=0.0, le=1e7, description=(
        "Price of the type's credits the market expects at the first simulated month, USD "
        "per tCO2e: where a running market's adaptive expectation stands."))
    buyer_value: float = Field(1.0, gt=0.0, le=10.0, description=(
        "What buyers will pay for a credit of this type relative to their willingness to pay "
        "for a typical nature-based credit (x): removals fetch more than avoided emissions."))


class Firms(Strict):
    """Emitting firms: emissions, pledges and costs."""

    REPLACED = {"high_tier_premium": "firms value a credit by the real tonnes they expect "
                                     "behind it (firms.quality_preference, "
                                     "firms.unrated_real_tonnes) and its exposure risk "
                                     "(firms.exposure_cost)"}

    emissions_tco2_yr: float = Field(50_000.0, gt=0.0, le=1e9,
                                     description="Median annual emissions per firm, tCO2e.")
    emissions_growth_yr: float = Field(-0.02, ge=-0.5, le=0.5,
                                       description="Annual change of emissions (share).")
    pledge_none: float = share(0.5, "Share of firms without a pledge (they buy nothing).")
    pledge_neutral: float = share(0.35, "Share with a carbon-neutral claim.")
    pledge_net_zero: float = share(0.15, "Share with a net-zero pledge (residual offsets).")
    neutral_coverage: float = share(0.3, "Share of emissions a carbon-neutral firm "
                                         "covers per year with credits or abatement.")
    residual_share: float = share(0.1, "Net-zero firms' residual emissions share "
                                       "neutralised with credits.")
    mac_slope_usd: float = Field(60.0, gt=0.0, le=1e7, description=(
        "Median marginal abatement cost at full abatement, USD per tCO2e (linear MAC)."))
    willingness_to_pay_usd: float = Field(20.0, gt=0.0, le=1e6, description=(
        "Median value a firm puts on a credit backing its claim, USD per tCO2e."))
    quality_preference: float = share(0.3, (
        "Share of firms that value a credit by the real tonnes they expect behind it, given "
        "its rating, relative to an unrated credit; the others value every credit of a type "
        "alike and buy the cheapest (both weigh the risk of exposure). Books split by "
        "quality only with rules.market.quality_books; a firm whose claim is exposed joins "
        "the quality-seekers."))
    unrated_real_tonnes: float = Field(0.6, gt=0.0, le=1.0, description=(
        "Real tonnes per credit buyers expect behind a credit no agency rates (0-1]: their "
        "prior, which a rating replaces as far as they trust the agencies (their mean "
        "reputation)."))
    labelled_real_tonnes: float = Field(0.75, gt=0.0, le=1.0, description=(
        "Real tonnes per credit buyers expect behind a credit carrying the integrity label "
        "that no agency rates (0-1]: their prior for labelled credits, as "
        "unrated_real_tonnes is for the others."))
    vintage_discount_yr: float = share(0.05, (
        "With quality books, the share of its worth a credit loses to a buyer per year its "
        "segment's credits on offer are older than those of its type's youngest segment on "
        "offer (the age a buyer expects of a segment is the credit-weighted mean of what is "
        "on offer in it)."))
    choice_intensity: float = Field(5.0, ge=0.0, le=100.0, description=(
        "With quality books, how strongly a firm prefers the segment of its type with more "
        "worth per dollar: it bids in a segment with probability in proportion to the "
        "credits on offer there times (worth / expected price) to this power (0: where the "
        "credits are, whatever their worth per dollar; large: the best value on offer)."))
    exposure_cost: float = Field(1.0, ge=0.0, le=100.0, description=(
        "What a firm stands to lose if the claim a credit backs is exposed as greenwashing, "
        "as a multiple of what the credit is worth to it: a credit's worth falls by this "
        "times the yearly chance of exposure the firm expects for a claim of the credit's "
        "expected real tonnes (0: exposure risk does not enter the bid)."))
    pledge_innovation_yr: float = share(0.01, "Bass innovation rate: yearly hazard (0-1) "
                                              "that a firm without a pledge adopts one on its "
                                              "own, at full trust and affordable credits.")
    pledge_imitation_yr: float = share(0.1, "Bass imitation rate: yearly hazard (0-1) of "
                                            "adopting a pledge per unit share of firms that "
                                            "already hold one (peers).")
    pledge_potential: float = Field(1.0, gt=0.0, le=1.0, description=(
        "Bass market potential: the share (0-1] of firms that would pledge at all. New "
        "pledges come in proportion to the potential not yet taken (imitation counts the "
        "pledged share of it) and stop when the pledged share reaches it; 1 is plain Bass "
        "diffusion over all firms. A driver can move it (the count of companies setting "
        "targets); when it falls below the pledged share, nobody new pledges and existing "
        "pledges end only as pledge_drop_yr ends them."))
    pledge_drop_yr: float = share(0.05, "Yearly hazard (0-1) that a pledged firm drops its "
                                        "claim when credits are unaffordable or distrusted "
                                        "(scaled down as they become affordable and trusted).")
    purchase_spread: float = share(0.5, "How evenly firms spread their purchase through the "
                                        "claim year: 1 buys in a uniformly random month, 0 "
                                        "waits for the reporting month.")
    purchase_anticipation: float = Field(1.0, ge=0.0, le=20.0, description=(
        "How much sooner a firm buys when it expects prices to rise: factor "
        "1 + anticipation x (expected log price change per year) on its monthly hazard of "
        "buying."))
    buy_ahead_response: float = Field(0.0, ge=0.0, le=100.0, description=(
        "How much of its next claim year's credits a firm buys ahead at a price below what "
        "it expects to pay next year: the share (at most 1) is this times (ln(expected / "
        "price) - cost_of_capital_yr - pledge_drop_yr), step by step along its demand "
        "curve; it holds them and retires them when that claim year opens (0: firms buy "
        "only for the claim year at hand; large: all of next year's credits whenever the "
        "discounted expected price is above the price). Not in linked markets."))
    cost_of_capital_yr: float = Field(0.08, ge=0.0, le=1.0, description=(
        "Firms' cost of capital (a fraction a year): a credit bought a year early pays only "
        "when it is this much (plus the hazard of dropping the pledge) below next year's "
        "expected price."))
    emissions_spread: float = log_spread(1.0, "emissions across firms")
    mac_spread: float = log_spread(0.5, "marginal abatement cost slopes across firms")
    wtp_spread: float = log_spread(0.6, "willingness to pay across firms")
    exposure_reputation_factor: float = share(0.5, "Factor (0-1) on a firm's reputation each "
                                                   "time one of its claims is exposed.")
    bid_steps: int = Field(4, ge=1, le=20, description=(
        "Bids a firm splits its demand curve into: at 1/steps, 2/steps, ... of what a credit "
        "is worth to it, each for the credits it wants at that price beyond those it wants "
        "at the next (1: one bid, at its worth, for what it wants at that price)."))
    contribution_share: float = share(0.0, "Share (0-1) of firms whose claims are "
                                            "contribution claims: they finance mitigation "
                                            "without counting it against their own "
                                            "emissions, so a credit bought abroad without a "
                                            "corresponding adjustment is not double claimed; "
                                            "fixed when the firms are created.")
    obligation: bool = Field(False, description=(
        "Targets are legal obligations (a compliance market): each pledged firm covers its "
        "full coverage whatever a claimed tonne costs, so prices and the offset cap change "
        "only how it splits between credits and abatement, not the target; none is "
        "dropped (pledge_drop_yr must be 0)."))


class Developers(Strict):
    """Project developers: finance and integrity strategy."""

    discount_rate: float = Field(0.08, ge=0.0, le=1.0, description="Annual discount rate.")
    initial_projects: int = Field(2, ge=0, le=100, description="Projects each starts with.")
    invest_rate_yr: float = share(0.5, "Annual probability of appraising a new project.")
    honesty: float = share(0.5, "Mean intrinsic cost of inflating claims (0 = none, 1 = "
                                "never inflates).")
    baseline_methods: list[Annotated[float, Field(ge=0.0, le=10.0)]] = Field(
        [0.0, 0.25, 0.5, 1.0], min_length=1, max_length=20, description=(
            "Baseline methods a developer can choose for a new project, as the inflation each "
            "gives (claimed/verifiable - 1): the conservative method first, 0."))
    method_scrutiny: float = Field(1.0, ge=0.0, le=20.0, description=(
        "How much more visible an aggressive baseline is: a claim inflated by x is caught "
        "with probability 1 - (1 - d)^(1 + method_scrutiny * x), d the verifier's detection."))
    sell_share: float = share(0.5, "Share of inventory offered per step.")
    initial_cash_usd: float = Field(2e6, ge=0.0, le=1e12, description=(
        "Cash at the first simulated month, USD."))
    initial_inventory_years: float = Field(4.0, ge=0.0, le=100.0, description=(
        "Unsold credits a developer holds at the first simulated month, in years of its "
        "running projects' yearly issuance (at most what its seeded projects were issued)."))
    honesty_concentration: float = beta_concentration(4.0, "honesty across developers")
    conscience_cost: float = Field(2.0, ge=0.0, le=100.0, description=(
        "Cost of inflating claims by x (claimed/verifiable - 1): conscience_cost * honesty "
        "* x**2, per USD of price and verifiable tonne (conscience and reputation)."))
    inflation_kept_after_detection: float = share(0.5, "Share (0-1) of its baseline inflation "
                                                       "a project keeps after a verifier "
                                                       "detects it: the developer scales back.")
    cost_anchor: float = share(0.3, "Weight (0-1) a developer gives the long-run price new "
                                    "supply needs (the levelized cost of a median new "
                                    "project of its type) against the market's recent "
                                    "price, in the price it expects to sell its credits at "
                                    "later: 0 follows the market alone.")
    credit_line_usd: float = Field(1e6, ge=0.0, le=1e12, description=(
        "Overdraft lenders allow a developer, USD: below minus this much cash it goes "
        "bankrupt and exits."))
    fire_sale_discount: float = share(0.3, "Discount (0-1) on the expected price at which a "
                                           "developer in overdraft offers its credits, in "
                                           "proportion to how much of its credit line it "
                                           "has drawn, and at which a bankrupt's liquidator "
                                           "offers all of its stock.")
    entry_rate_yr: float = Field(0.1, ge=0.0, le=10.0, description=(
        "New developers entering per year, per founding developer (population.developers, "
        "the size of the pool of would-be entrants), when a typical new project of a type "
        "returns its up-front cost twice over at the long-run price (profitability index "
        "1); in proportion to the index below that, none when it is negative, and at most "
        "twice this rate."))
    ask_noise_sd: float = log_spread(0.05, "each ask around the developer's price (month to "
                                           "month)")
    carry_weight: float = Field(1.0, ge=0.0, le=5.0, description=(
        "Weight of the cost of carry in asks: the price a developer expects later is "
        "discounted at the discount rate over this many times the years the market needs "
        "to absorb the stock developers hold (1: the full cost of waiting; 0: the stock "
        "does not weigh on asks)."))
    ask_learning: float = share(0.1, "How fast a developer's markup on its ask moves (0-1 "
                                     "per month): a seller that sold all it offered asks "
                                     "this share more next month; one that did not moves "
                                     "its markup this share of the way back to none. 0 "
                                     "turns learning off.")

    @field_validator("baseline_methods")
    @classmethod
    def _methods_in_range(cls, methods: list[float]) -> list[float]:
        if sorted(set(methods)) != methods:
            raise ValueError(f"list methods once each, in increasing order, got {methods}")
        return methods


class Verifiers(Strict):
    """Verification bodies."""

    rigour_mean: float = share(0.5, "Mean own rigour (0-1), floored by the rules' minimum.")
    fee_usd: float = Field(40_000.0, ge=0.0, le=1e10, description=(
        "Fee per verification, USD (validation plus verification USD 30k-150k)."))
    capacity_yr: int = Field(60, ge=1, le=100_000, description=(
        "Verifications one verifier can perform per year."))
    baseline_error_sd: float = Field(0.15, ge=0.0, le=1.0, description=(
        "Standard deviation of a verifier's estimate of a project's additionality (the "
        "counterfactual baseline), in additionality units: a conservative review cuts the "
        "claim towards the estimate, not the truth, whatever the verifier's rigour."))
    leniency_drift: float = share(0.02, "Per-year rigour a developer-paid verifier gives up "
                                        "when it loses clients to laxer rivals.")
    strikes_to_suspend: int = Field(3, ge=1, le=100, description=(
        "Failed audits after which a verifier loses accreditation."))
    suspension_years: int = Field(2, ge=1, le=50, description=(
        "Years a verifier that lost its accreditation stays out."))
    corrective_rigour: float = share(0.1, "Rigour (0-1) a suspended verifier gains before "
                                          "re-accreditation (the corrective plan the standard "
                                          "body demands).")
    strike_reputation_factor: float = share(0.8, "Factor (0-1) on a verifier's reputation per "
                                                 "failed audit.")
    rigour_concentration: float = beta_concentration(6.0, "rigour across verifiers")
    fee_spread: float = log_spread(0.2, "fees across verifiers")
    satellite_boost: float = share(0.6, "Share (0-1) of the remaining detection gap that "
                                        "satellite monitoring closes, in verifications and "
                                        "project audits alike.")
    lax_choice_noise: float = Field(0.05, ge=0.0, le=10.0, description=(
        "How loosely an inflating developer ranks verifiers by detection probability: "
        "uniform noise from 0 to this added to each (probability units)."))
    cheap_choice_noise: float = Field(0.2, ge=0.0, le=10.0, description=(
        "How loosely an honest developer ranks verifiers by fee: uniform noise from 0 to "
        "this added to each fee over the mean fee."))


class Traders(Strict):
    """Speculators (only when population.traders > 0)."""

    chartist_share: float = share(0.5, "Share of traders extrapolating trends (the rest are "
                                       "fundamentalists).")
    aggressiveness: float = Field(0.2, ge=0.0, le=5.0, description=(
        "Credits a trader trades (an arbitrageur holds) per unit of relative mispricing "
        "(the expected gap as a share of the last price), as a share of the type's typical "
        "monthly volume per trader."))
    initial_cash_usd: float = Field(1e6, ge=0.0, le=1e12, description="Starting cash, USD.")
    trend_memory_months: int = Field(3, ge=1, le=120, description=(
        "Months over which chartists measure the trend, and ahead of which they extrapolate "
        "it."))
    fundamental_memory_months: int = Field(24, ge=2, le=600, description=(
        "Months of prices the traders remember: fundamentalists expect their average; it "
        "must exceed trend_memory_months."))
    dead_band: float = Field(0.05, ge=0.0, le=1.0, description=(
        "Expected relative mispricing (share of the last price) below which a trader does "
        "nothing."))
    min_price_usd: float = Field(0.01, gt=0.0, le=1e4, description=(
        "Lowest price a chartist expects, USD per tCO2e; traders also size purchases "
        "against their cash as if a lower limit price were this."))
    arbitrage_share: float = share(0.0, "Share (0-1) of traders that arbitrage between linked "
                                        "markets (the first ones, rounded with halves to "
                                        "even, spread evenly over the project types; fixed at "
                                        "creation; needs linking): while the best last price "
                                        "a credit of its type fetches in a market that takes "
                                        "it, net of the transfer cost, exceeds the home price "
                                        "by more than dead_band, an arbitrageur holds a "
                                        "position of aggressiveness times that relative gap "
                                        "times that market's typical volume per trader, "
                                        "buying at home and offering there at its last price "
                                        "less dead_band, never below the home price plus "
                                        "dead_band plus the transfer cost (see "
                                        "vcm_sim.arbitrage).")


class Nature(Strict):
    """Regions, reversal correlation and wildfire seasons."""

    regions: int = Field(12, ge=1, le=1000, description="Regions; reversals correlate within one.")
    bad_year_probability: float = share(0.1, "Annual probability a region has a bad fire/pest "
                                              "year.")
    bad_year_multiplier: float = Field(8.0, ge=1.0, le=100.0, description=(
        "Reversal hazard multiplier in a bad year."))
    hazard_multiplier: float = Field(1.0, ge=0.0, le=100.0, description=(
        "Scales every type's reversal hazard (a wildfire regime raises it)."))
    wildfire_months: int = Field(12, ge=1, le=120, description=(
        "Months a wildfire event raises the hazard in the regions it hits."))
    wildfire_multiplier: float = Field(25.0, ge=1.0, le=1000.0, description=(
        "Hazard multiplier in the regions a wildfire event hits, on top of the year's "
        "regional draw and hazard_multiplier."))


class ProjectVariation(Strict):
    """How single projects vary around their type's table, and where and when they sit."""

    rate_spread: float = log_spread(0.3, "sequestration rates across projects of a type")
    area_spread: float = log_spread(0.5, "areas across projects of a type")
    additionality_concentration: float = beta_concentration(
        6.0, "additionality across projects of a type")
    severity_concentration: float = beta_concentration(
        4.0, "the share of stored carbon a reversal destroys")
    opportunity_cost_share: float = share(0.0, (
        "Share (0-1) of a project's costs, up-front and running, that is the income of the "
        "land use it stops, and so grows with its additionality: protecting a forest nobody "
        "would have cleared (its tonnes not additional) forgoes nothing, protecting one "
        "about to be cleared forgoes the clearing's income. A project's costs are its type's "
        "times 1 - share + share * additionality / the type's mean additionality, which "
        "keeps the type's mean cost. 0: costs do not depend on additionality."))
    outside_home_share: float = share(0.3, "Share (0-1) of a developer's projects sited in "
                                           "a random region rather than its home region.")
    pipeline_months_min: int = Field(12, ge=0, le=240, description=(
        "Shortest validation and registration of a new project, months before it starts "
        "accruing."))
    pipeline_months_max: int = Field(36, ge=0, le=240, description=(
        "Longest validation and registration, months (each project draws uniformly "
        "between the two)."))
    initial_age_years: int = Field(15, ge=1, le=100, description=(
        "Projects running at the first simulated month started uniformly within this many "
        "years before it."))

    @model_validator(mode="after")
    def _pipeline_ordered(self) -> ProjectVariation:
        if self.pipeline_months_min > self.pipeline_months_max:
            raise ValueError(f"pipeline_months_min ({self.pipeline_months_min}) is above "
                             f"pipeline_months_max ({self.pipeline_months_max})")
        return self


class Expectations(Strict):
    """The adaptive expected price per type that firms and developers plan with."""

    price_weight: float = share(0.3, "Weight (0-1) of the latest clearing price in the "
                                     "expected price of its type.")
    volume_weight: float = share(0.1, "Weight (0-1) of this month's volume in each type's "
                                      "typical volume, by which traders size their orders.")
    trend_months: int = Field(6, ge=1, le=60, description=(
        "Months over which buyers and developers read the trend of the expected price."))
    trend_weight: float = Field(0.2, ge=0.0, le=5.0, description=(
        "Weight of that trend (log change per year) in the price they plan with: forecast "
        "= expected x exp(weight x trend), the exponent within -1 and 1. 0 is purely "
        "adaptive; above 0 expectations feed on themselves."))


class RatingAgencies(Strict):
    """Rating agencies (``vcm_sim/agents/rater.py``): each estimates the real tonnes behind a
    credit of the projects it covers, with its own error, and publishes a letter rating on
    the scale AAA, AA, A, BBB, BB, B, C, D."""

    error_sd: float = Field(0.15, ge=0.0, le=1.0, description=(
        "Median over agencies of the standard deviation of an agency's error on a project's "
        "real tonnes per credit (drawn once per agency and project)."))
    error_spread: float = log_spread(0.5, "agencies' error standard deviations")
    coverage: float = share(0.5, "Share (0-1) of projects an agency rates: each agency decides "
                                 "once per project, when it first sees it.")
    developer_paid_share: float = share(0.5, (
        "Share (0-1) of agencies paid by the developers they rate; the others sell to buyers "
        "by subscription."))
    developer_paid_bias: float = Field(0.1, ge=0.0, le=1.0, description=(
        "Upward bias of a developer-paid agency's estimates, real tonnes per credit: the "
        "conflict of interest of the issuer-pays model."))
    revision_weight: float = share(0.5, (
        "Share (0-1) of its error on a project an agency corrects when evidence on it "
        "appears: inflation found at verification or by an audit."))
    reputation_weight: float = share(0.1, (
        "Weight (0-1) of each project found inflated in an agency's reputation, its "
        "recency-weighted share of such projects it had not rated better than the truth the "
        "case revealed."))
    notch_width: float = Field(0.1, gt=0.0, le=0.2, description=(
        "Real tonnes per credit a notch spans: AAA from 1 - width, each notch below one "
        "width lower, D below 1 - 7 widths."))


class Sentiment(Strict):
    """Buyers' trust in each project type: lost to exposures and scandals, slowly regained."""

    recovery_per_month: float = share(0.02, "Share (0-1) of the gap to full trust that closes "
                                            "each month.")
    contagion_per_exposure: float = share(0.02, "Share (0-1) of its trust a type loses each "
                                                "time a claim backed by it is exposed.")
    sector_contagion: float = share(0.5, "Share (0-1) of a type's loss of trust that falls on "
                                         "trust in nature-based credits as a whole (every "
                                         "type).")


class Exposure(Strict):
    """How claims come to be exposed as greenwashing: what each disclosure rule lets
    watchdogs see (the shares add up to the visibility of a claim, at most 1)."""

    base_visibility: float = share(0.2, "Share (0-1) of a claim outsiders can check with no "
                                        "disclosure rule on.")
    public_registry_visibility: float = share(0.2, "Visibility (0-1) a public registry adds.")
    retired_credit_disclosure_visibility: float = share(
        0.4, "Visibility (0-1) the disclosure of the credits behind each claim adds.")
    ratings_visibility: float = share(0.2, "Visibility (0-1) third-party ratings add.")
    vcmi_scrutiny_factor: float = Field(1.5, ge=1.0, le=10.0, description=(
        "Factor on the scrutiny of every claim under the 'vcmi' claims code, which makes "
        "low-integrity claims easier to call out."))


MONTH = re.compile(r"(\d{4})-(\d{2})")
"""A calendar month, ``YYYY-MM``."""


class Event(Strict):
    """A scheduled event at a given step. A scenario file may give ``date = "YYYY-MM"``
    instead of ``step``: it becomes the step of that month from the scenario's
    ``start_year`` when the file is loaded."""

    step: int = Field(ge=0, le=100_000, description=(
        "Recorded month at which it fires (0 = the first month after burn-in)."))
    kind: Literal["scandal", "wildfire", "suspend_issuance", "resume_issuance", "set"]
    project_type: ProjectTypeName | Literal["all"] | None = Field(
        None, description="Scandal: the exposed type (default: the most-retired type), or "
                          "'all' for a scandal about nature-based credits as a whole.")
    severity: float = share(0.5, "Scandal: demand lost for the type; wildfire: share of "
                                 "regions hit.")
    path: str | None = Field(None, description="'set': the dotted rule path, e.g. "
                                               "'rules.market.offset_cap'.")
    value: Any = Field(None, description="'set': the new value.")
    cite: str | None = Field(None, description=(
        "Id of the dated event in vcm_sim/data/events.toml this one stands for, if any."))


class Driver(Strict):
    """An exogenous yearly series that moves a setting: from the first simulated month
    (burn-in included) and then each January, the setting becomes its scenario value times ``(series[year] /
    series[base_year]) ** elasticity``, held at the setting's upper bound if that is larger
    (a yearly hazard saturates at 1). Series are columns of ``vcm_sim/data/drivers.csv``
    (sources in ``drivers.toml``); between the years a series has, its value is interpolated
    log-linearly; before it starts its first value holds, after it ends its last."""

    series: str = Field(description="Column of vcm_sim/data/drivers.csv.")
    path: str = Field(description="Dotted path of the numeric setting it moves, e.g. "
                                  "'firms.pledge_innovation_yr'.")
    base_year: int = Field(ge=1990, le=2200, description=(
        "Year in which the setting has its scenario value."))
    elasticity: float = Field(1.0, ge=0.0, le=10.0, description=(
        "Exponent on the series' ratio to its base-year value (0: the driver has no effect)."))


MARKET_NAME = re.compile(r"[a-z][a-z0-9_]*")
"""A market's name: it ends result columns (``price_usd_<market>``)."""

Rate = Annotated[float, Field(gt=0.0, le=1e6)]
"""An exchange rate: units of a currency per USD."""

SHARED_SETTINGS = ("name", "description", "steps", "burn_in", "start_year", "debug", "markets",
                   "linking", "exchange_rates")
"""Settings of the whole run, the same in every market: a market may not override them."""


class Market(Strict):
    """One market (jurisdiction) of a scenario with several: its name and the settings in
    which it differs from the scenario (its own populations, rules, project types, events);
    each market has its own registry, cash book and participants."""

    name: str = Field(max_length=30, description=(
        "Lower-case letters, digits and '_', starting with a letter: results name this "
        "market's columns ``<reporter>_<name>``."))
    settings: dict[str, Any] = Field(default_factory=dict, description=(
        "Dotted paths and values (as for ``--set``) where this market differs from the "
        "scenario, e.g. ``\"rules.integrity.verification_rigour\" = 0.9``."))

    @field_validator("name")
    @classmethod
    def _a_column_suffix(cls, name: str) -> str:
        if not MARKET_NAME.fullmatch(name):
            raise ValueError(f"market name {name!r}: use lower-case letters, digits and '_', "
                             "starting with a letter")
        return name

    @field_validator("settings")
    @classmethod
    def _not_shared(cls, settings: dict[str, Any]) -> dict[str, Any]:
        shared = sorted(p for p in settings if p.split(".")[0] in SHARED_SETTINGS)
        if shared:
            raise ValueError(f"{', '.join(shared)}: the same for every market; set them on "
                             "the scenario")
        return settings


class Linking(Strict):
    """How a scenario's markets are connected (see ``vcm_sim.linking``)."""

    mode: Literal["none", "mutual_recognition"] = Field("none", description=(
        "'none': separate markets. 'mutual_recognition': every market's buyers accept the "
        "credits of the others; each month a developer spreads its offer over the markets "
        "that accept its credits in proportion to their typical volume and asks in each at "
        "the best price it expects net of the transfer cost, plus that cost abroad; a buyer "
        "abroad retires the credits in the registry that issued them, on its behalf (see "
        "vcm_sim.linking)."))
    transfer_cost_usd: float = Field(0.0, ge=0.0, le=100.0, description=(
        "Cost to the seller of selling a credit abroad (registry, brokerage and legal "
        "fees), USD per credit: paid out of the markets."))
    developer_access: float = share(1.0, "Share (0-1) of each market's developers that sell "
                                         "abroad themselves (the same developers all run "
                                         "long, chosen without a draw); the others offer "
                                         "everything at home and plan with the home forecast "
                                         "and their market's own years of stock, as if the "
                                         "markets stood apart, so their credits reach buyers "
                                         "abroad only through arbitrageurs "
                                         "(traders.arbitrage_share). Sales of authorised "
                                         "credits with adjustments do not depend on it.")


MARKET_FREE = {"markets": [], "linking": Linking()}
"""What a market's own scenario leaves out: the declaration of the markets and their link."""


class Scenario(Strict):
    """Everything a run needs, apart from its seed."""

    REPLACED = {"ratings": "rating agencies are agents (population.raters, rating_agencies) "
                           "rating each project, and rules.market.quality_books puts their "
                           "ratings on the books"}

    name: str = Field("custom", max_length=100, description=(
        "Short name; ``vcm-sim run`` writes to results/<name>."))
    description: str = ""
    steps: int = Field(240, ge=1, le=100_000, description=(
        "Horizon in recorded steps (months), after burn-in."))
    burn_in: int = Field(BURN_IN, ge=0, le=1200, description=(
        "Months simulated before recording starts (see docs/measurement.md): they fall in "
        "the years before start_year; cumulative flows and ratios count from the first "
        "recorded month; stocks carry on."))
    start_year: int = Field(2025, ge=1990, le=2200, description=(
        "Calendar year of the first recorded month (step 0)."))
    debug: bool = Field(False, description="Check registry invariants after every step.")
    population: Population = Field(default_factory=Population)
    rules: Rules = Field(default_factory=Rules)
    project_types: dict[ProjectTypeName, ProjectType]
    firms: Firms = Field(default_factory=Firms)
    developers: Developers = Field(default_factory=Developers)
    verifiers: Verifiers = Field(default_factory=Verifiers)
    traders: Traders = Field(default_factory=Traders)
    nature: Nature = Field(default_factory=Nature)
    projects: ProjectVariation = Field(default_factory=ProjectVariation)
    expectations: Expectations = Field(default_factory=Expectations)
    rating_agencies: RatingAgencies = Field(default_factory=RatingAgencies)
    sentiment: Sentiment = Field(default_factory=Sentiment)
    exposure: Exposure = Field(default_factory=Exposure)
    currency: CurrencyCode = Field("USD", description=(
        "ISO code of the currency the market's money is in: its money settings (those "
        "named *_usd keep their names, linking.transfer_cost_usd aside, and their bounds "
        "leave room for currencies of many units per USD) are read in it, and it clears and "
        "keeps cash in it. Its result columns stay in USD, converted at "
        "exchange_rates, and price_<code>, price_index_<code> give its prices in its own "
        "currency (price_cny). A market with an ETS clears credits in USD."))
    exchange_rates: dict[CurrencyCode, Rate] = Field(default_factory=dict, description=(
        "Units of each currency per USD (e.g. {CNY = 7.1}), constant over the run: every "
        "market's currency but USD needs one. Linked markets convert at these rates."))
    ets: Ets = Field(default_factory=Ets, description=(
        "A compliance emissions trading system beside the market (see Ets); off by default."))
    events: list[Event] = Field(default_factory=list)
    drivers: list[Driver] = Field(default_factory=list, description=(
        "Exogenous series that move settings year by year (see Driver)."))
    markets: list[Market] = Field(default_factory=list, description=(
        "Several markets (jurisdictions), each the scenario with its own settings (see "
        "Market); none: one market, the scenario itself."))
    linking: Linking = Field(default_factory=Linking, description=(
        "Whether and how the markets are linked (with several markets)."))

    def market_scenarios(self) -> list[tuple[str, Scenario]]:
        """Each market's name and scenario, in the order they run: ``("", self)`` for a
        scenario that declares no markets."""
        if not self.markets:
            return [("", self)]
        common = self.model_copy(update=MARKET_FREE)
        return [(m.name, with_overrides(common, m.settings, as_market=True))
                for m in self.markets]

    @model_validator(mode="before")
    @classmethod
    def _dated_events(cls, data: Any) -> Any:
        """Events given by ``date = "YYYY-MM"`` get the step of that month."""
        if not isinstance(data, dict) or not isinstance(data.get("events"), list):
            return data
        start = data.get("start_year", cls.model_fields["start_year"].default)
        data = dict(data, events=[_dated(event, start) for event in data["events"]])
        return data

    @field_validator("exchange_rates")
    @classmethod
    def _usd_at_par(cls, rates: dict[str, float]) -> dict[str, float]:
        if rates.get("USD", 1.0) != 1.0:
            raise ValueError(f"exchange_rates.USD must be 1, got {rates['USD']:g}")
        return rates

    @property
    def per_usd(self) -> float:
        """Units of :attr:`currency` per USD (1 for USD)."""
        return 1.0 if self.currency == "USD" else self.exchange_rates[self.currency]

    @field_validator("name")
    @classmethod
    def _a_safe_folder_name(cls, name: str) -> str:
        if not SAFE_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a safe folder name (it becomes results/<name>): "
                             "use letters, digits, '_', '.' and '-', starting with a letter "
                             "or digit")
        return name


def _check_quality_books(scenario: Scenario) -> None:
    """Quality books split a market that is not linked and whose firms do not buy ahead:
    linked markets still trade in one book per type, and firms size their bids for next
    year's credits on their type's price (neither is built for quality books yet)."""
    for name, market in scenario.market_scenarios():
        if not market.rules.market.quality_books:
            continue
        where = f"market {name!r}: " if name else ""
        if market.firms.buy_ahead_response:
            raise ScenarioError(f"{where}rules.market.quality_books with "
                                "firms.buy_ahead_response > 0: firms size their bids for next "
                                "year's credits on their type's price, not on a segment's "
                                "(buying ahead in quality books is not built yet)")
        if scenario.linking.mode != "none":
            raise ScenarioError(f"{where}rules.market.quality_books with linking.mode = "
                                f"{scenario.linking.mode!r}: linked markets trade in one book "
                                "per type (quality books across a link are not built yet)")


def _check_ets(scenario: Scenario) -> None:
    """An ETS's eligible types must be the market's own, and its covered firms buy only
    their own market's credits (an ETS in linked markets is not built yet)."""
    for name, market in scenario.market_scenarios():
        ets = market.ets
        if not ets.enabled:
            continue
        where = f"market {name!r}: " if name else ""
        unknown = sorted(set(ets.offset_types) - set(market.project_types))
        if unknown:
            raise ScenarioError(f"{where}ets.offset_types: {', '.join(unknown)} is not a "
                                f"project type of the market ({', '.join(market.project_types)})")
        if scenario.linking.mode != "none":
            raise ScenarioError(f"{where}ets.enabled with linking.mode = "
                                f"{scenario.linking.mode!r}: covered firms buy only domestic "
                                "credits, and linked markets with an ETS are not built yet; "
                                "set linking.mode = 'none'")


def _check_currencies(scenario: Scenario) -> None:
    """Every market's currency has an exchange rate, and a market with an ETS clears its
    credits in USD (the ETS converts them with its own ``per_usd``)."""
    for name, market in scenario.market_scenarios():
        where = f"market {name!r}: " if name else ""
        if market.currency == "USD":
            continue
        if market.currency not in scenario.exchange_rates:
            raise ScenarioError(f"{where}currency {market.currency!r} needs its rate: set "
                                f"exchange_rates.{market.currency} (units per USD)")
        if market.ets.enabled:
            raise ScenarioError(f"{where}a market with an ETS clears its credits in USD (the "
                                f"ETS converts them with ets.per_usd): set currency = 'USD'")


def _check_article6(scenario: Scenario, links: bool) -> None:
    """A market whose buyers require adjusted credits issues none of its own (imports into a
    registry that also issues are not modelled); with ``links`` (a whole scenario, not one of
    its markets), authorised credits and the buyers that require them trade only between
    linked markets: a market that authorises or requires them needs a link."""
    for name, market in scenario.market_scenarios():
        article6 = market.rules.article6
        where = f"market {name!r}: " if name else ""
        if article6.adjusted_only and market.population.developers:
            raise ScenarioError(f"{where}rules.article6.adjusted_only: its buyers take only "
                                "adjusted credits from abroad, and a market that imports them "
                                "issues none of its own: set population.developers = 0")
        if not links or scenario.linking.mode != "none":
            continue
        if article6.authorised_share > 0:
            raise ScenarioError(f"{where}rules.article6.authorised_share = "
                                f"{article6.authorised_share:g} needs linked markets (authorised "
                                "credits are sold abroad): declare [[markets]] and set "
                                "linking.mode = 'mutual_recognition'")
        if article6.adjusted_only:
            raise ScenarioError(f"{where}rules.article6.adjusted_only needs linked markets "
                                "(adjusted credits are bought abroad): declare [[markets]] and "
                                "set linking.mode = 'mutual_recognition'")


def _dated(event: Any, start_year: Any) -> Any:
    """``event`` with its ``date`` turned into the step of that month."""
    if not isinstance(event, dict) or "date" not in event:
        return event
    event = dict(event)
    date = event.pop("date")
    match = MONTH.fullmatch(date) if isinstance(date, str) else None
    if match is None or not 1 <= int(match[2]) <= 12:
        raise ValueError(f"event date must be 'YYYY-MM', got {date!r}")
    if "step" in event:
        raise ValueError(f"event dated {date} also gives step {event['step']}: give one")
    if not isinstance(start_year, int):
        return event
    step = (int(match[1]) - start_year) * 12 + int(match[2]) - 1
    if step < 0:
        raise ValueError(f"event dated {date} falls before start_year {start_year}")
    return dict(event, step=step)


def preset_names() -> list[str]:
    """Names of the presets shipped with the package."""
    folder = resources.files("vcm_sim") / "scenarios"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def preset_path(name: str) -> Path:
    """Path of the preset TOML file called ``name``."""
    if name not in preset_names():
        raise ScenarioError(f"unknown scenario {name!r}; presets: {', '.join(preset_names())}")
    return Path(str(resources.files("vcm_sim") / "scenarios" / f"{name}.toml"))


def load_scenario(name_or_path: str | Path, **overrides: Any) -> Scenario:
    """Load a preset by name, or a TOML file by path, apply nested overrides and validate.

    A file may start from a preset with ``extends = "baseline"``, or from another file with
    ``extends = "base.toml"`` (relative to the file's folder), and give only what changes.
    """
    data = _read(name_or_path)
    return validate(_merge(data, overrides))


def _read(name_or_path: str | Path, chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The file's data merged over its ``extends`` parents; ``chain`` holds the files whose
    parents are being read, to refuse a cycle."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = preset_path(str(name_or_path))
    if path.resolve() in chain:
        names = " -> ".join(str(p) for p in (*chain, path.resolve()))
        raise ScenarioError(f"extends cycle: {names}")
    data = read_toml(path, ScenarioError, "scenario")
    parent = data.pop("extends", None)
    if parent is None:
        return data
    return _merge(_read(_parent_of(path, parent), (*chain, path.resolve())), data)


def _parent_of(path: Path, parent: Any) -> str | Path:
    """What ``extends = parent`` in the file at ``path`` names: a preset, or a .toml file
    relative to that file's folder (not to the working directory)."""
    if not isinstance(parent, str):
        raise ScenarioError(f"{path}: extends = {parent!r}: must be a preset name or the path "
                            f"of a .toml file, as a string")
    return path.parent / parent if parent.endswith(".toml") else parent


def validate(data: dict[str, Any], *, as_market: bool = False) -> Scenario:
    """A :class:`Scenario` from plain data, or :class:`ScenarioError` listing every problem;
    ``as_market``: the data are one market of a scenario with several (its links are checked
    with the scenario)."""
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError("invalid scenario:\n  " + describe(err, Scenario)) from None
    total = sum(t.mix for t in scenario.project_types.values())
    if abs(total - 1.0) > 1e-6:
        raise ScenarioError(f"project_types.*.mix must sum to 1, got {total:g}")
    pledges = scenario.firms.pledge_none + scenario.firms.pledge_neutral + scenario.firms.pledge_net_zero
    if abs(pledges - 1.0) > 1e-6:
        raise ScenarioError(f"firms.pledge_none + pledge_neutral + pledge_net_zero must sum "
                            f"to 1, got {pledges:g}")
    if scenario.firms.obligation and scenario.firms.pledge_drop_yr > 0:
        raise ScenarioError(f"firms.obligation with firms.pledge_drop_yr = "
                            f"{scenario.firms.pledge_drop_yr:g}: a legal obligation is not "
                            "dropped when credits are dear; set firms.pledge_drop_yr = 0")
    traders = scenario.traders
    if traders.trend_memory_months >= traders.fundamental_memory_months:
        raise ScenarioError(f"traders.trend_memory_months must be below "
                            f"traders.fundamental_memory_months (the trend is measured within "
                            f"the prices remembered), got {traders.trend_memory_months} and "
                            f"{traders.fundamental_memory_months}")
    exposure = scenario.exposure
    seen = (exposure.base_visibility + exposure.public_registry_visibility
            + exposure.retired_credit_disclosure_visibility + exposure.ratings_visibility)
    if seen > 1.0 + 1e-6:
        raise ScenarioError(f"exposure.*_visibility must add up to at most 1 (a claim cannot "
                            f"be more than fully visible), got {seen:g}")
    names = [m.name for m in scenario.markets]
    if len(set(names)) < len(names):
        raise ScenarioError(f"markets must have distinct names, got {', '.join(names)}")
    for market in scenario.markets:
        try:
            with_overrides(scenario.model_copy(update=MARKET_FREE), market.settings,
                           as_market=True)
        except ScenarioError as err:
            raise ScenarioError(f"market {market.name!r}: {err}") from None
    if scenario.linking.mode != "none":
        _check_linking(scenario)
    _check_ets(scenario)
    _check_quality_books(scenario)
    _check_currencies(scenario)
    _check_article6(scenario, links=not as_market)
    if not as_market:
        _check_arbitrage(scenario)
    for event in scenario.events:
        if event.kind == "set":
            _check_set_event(scenario, event, as_market)
    for driver in scenario.drivers:
        _check_driver(scenario, driver)
    cited = {event.cite for event in scenario.events} - {None}
    if cited:
        from vcm_sim.drivers import event_ids
        unknown = sorted(cited - set(event_ids()))
        if unknown:
            raise ScenarioError(f"events cite {', '.join(map(repr, unknown))}, not in "
                                f"vcm_sim/data/events.toml")
    return scenario


def _check_linking(scenario: Scenario) -> None:
    """Linked markets need at least two markets; a market whose buyers take only adjusted
    credits from abroad has no traders (they would hold nothing they could sell there)."""
    if len(scenario.markets) < 2:
        raise ScenarioError(f"linking.mode = {scenario.linking.mode!r} links markets: declare "
                            f"at least two [[markets]], got {len(scenario.markets)}")
    ahead = [name for name, market in scenario.market_scenarios()
             if market.firms.buy_ahead_response]
    if ahead:
        raise ScenarioError(f"firms buying ahead in linked markets are not modelled (credits "
                            f"from abroad are retired on delivery): set "
                            f"firms.buy_ahead_response = 0 in {', '.join(ahead)}")
    trading = [name for name, market in scenario.market_scenarios()
               if market.population.traders and market.rules.article6.adjusted_only]
    if trading:
        raise ScenarioError(f"traders in a market that takes only adjusted credits from "
                            f"abroad are not modelled: set population.traders = 0 in "
                            f"{', '.join(trading)}")


def _check_arbitrage(scenario: Scenario) -> None:
    """Arbitrageurs trade between linked markets: a scenario with some needs a link, and a
    share of arbitrageurs needs traders in some market."""
    markets = scenario.market_scenarios()
    arbitraging = [(name, m) for name, m in markets if m.traders.arbitrage_share > 0]
    if not arbitraging:
        return
    if not any(m.population.traders for _, m in markets):
        raise ScenarioError(f"traders.arbitrage_share = "
                            f"{arbitraging[0][1].traders.arbitrage_share:g} but no market has "
                            "traders: set population.traders")
    if scenario.linking.mode != "none":
        return
    for name, market in arbitraging:
        if market.population.traders:
            where = f"market {name!r}: " if name else ""
            raise ScenarioError(f"{where}traders.arbitrage_share = "
                                f"{market.traders.arbitrage_share:g} needs linked markets "
                                "(arbitrageurs sell where the price is best): declare "
                                "[[markets]] and set linking.mode = 'mutual_recognition', or "
                                "set traders.arbitrage_share = 0")


def with_overrides(scenario: Scenario,
                   overrides: Mapping[str, Any] | Iterable[tuple[str, Any]], *,
                   as_market: bool = False) -> Scenario:
    """A copy of ``scenario`` with dotted-path overrides applied in order, then validated
    (``as_market``: as one market of a scenario with several, see :func:`validate`).

    A value that is a table (dict) merges into the table at its path, key by key and at every
    depth; any other value, a list included, replaces what is there. Overrides may be a
    mapping or ``(path, value)`` pairs (pairs may repeat a path: two tables both merge).
    """
    data = scenario.model_dump()
    pairs = overrides.items() if isinstance(overrides, Mapping) else overrides
    for path, value in pairs:
        _set_path(data, path, value)
    return validate(data, as_market=as_market)


FIXED_FOR_RUN = ("currency", "exchange_rates")
"""Settings no event, driver or mid-run change may move: a market's results are converted at
its rate, month after month."""


def check_changeable(path: str) -> None:
    """ScenarioError if the setting at ``path`` may not change during a run."""
    if path.split(".")[0] in FIXED_FOR_RUN:
        raise ScenarioError(f"{path!r} is fixed for the whole run (results are converted at "
                            "one rate): set it in the scenario")


def _check_set_event(scenario: Scenario, event: Event, as_market: bool) -> None:
    if not event.path:
        raise ScenarioError(f"event at step {event.step}: kind 'set' needs a 'path'")
    check_changeable(event.path)
    with_overrides(scenario.model_copy(update={"events": []}), {event.path: event.value},
                   as_market=as_market)


def _check_driver(scenario: Scenario, driver: Driver) -> None:
    from vcm_sim.drivers import series

    check_changeable(driver.path)
    try:
        values = series(driver.series)
    except UserError as err:
        raise ScenarioError(str(err)) from None
    if driver.base_year not in values:
        raise ScenarioError(f"driver {driver.series!r}: no value in base_year "
                            f"{driver.base_year} (it has {min(values)}-{max(values)})")
    current = setting(scenario, driver.path)
    if isinstance(current, bool) or not isinstance(current, int | float):
        raise ScenarioError(f"driver {driver.series!r}: {driver.path!r} is not a numeric "
                            f"setting")


def setting(scenario: Scenario, path: str) -> Any:
    """The value of the setting at dotted ``path``; ScenarioError if there is none."""
    node: Any = scenario.model_dump()
    for key in path.split("."):
        try:
            node = _child(node, key)
        except KeyError:
            raise ScenarioError(_unknown(path)) from None
    return node


def _unknown(path: str, detail: str = "") -> str:
    """The message for a setting at dotted ``path`` that does not exist: what replaced it,
    when it was replaced (:attr:`Strict.REPLACED`), else ``detail``."""
    model: Any = Scenario
    for key in path.split("."):
        if not (isinstance(model, type) and issubclass(model, Strict)):
            break
        if key in model.REPLACED:
            return f"setting {path!r}: {key!r} was replaced: {model.REPLACED[key]}"
        field = model.model_fields.get(key)
        model = field.annotation if field is not None else None
    return f"unknown setting {path!r}{detail}"


def _child(node: Any, key: str) -> Any:
    """``node[key]`` for a table, or item ``int(key)`` of a list (``drivers.0.elasticity``);
    KeyError when there is none."""
    if isinstance(node, dict) and key in node:
        return node[key]
    if isinstance(node, list) and key.isdigit() and int(key) < len(node):
        return node[int(key)]
    raise KeyError(key)


def _set_path(data: dict[str, Any], path: str, value: Any) -> None:
    keys = path.split(".")
    node = data
    for depth, key in enumerate(keys[:-1]):
        try:
            node = _child(node, key)
        except KeyError:
            raise ScenarioError(_unknown(path, f": no {'.'.join(keys[:depth + 1])!r}")
                                ) from None
    if not isinstance(node, dict) or keys[-1] not in node:
        raise ScenarioError(_unknown(path))
    node.update(_merge({keys[-1]: node[keys[-1]]}, {keys[-1]: value}))


def _merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


__all__ = ["Scenario", "ScenarioError", "load_scenario", "with_overrides", "preset_names",
           "validate", "setting", "Driver", "PROJECT_TYPES"]
