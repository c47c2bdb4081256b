"""The rule set: integrity, disclosure and market rules, as validated configuration.

Every field is documented with its unit and valid range; an invalid value or an unknown key
raises :class:`vcm_sim.scenario.ScenarioError` naming the field, the value and the range.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

PROJECT_TYPES = ("arr", "redd_plus", "ifm", "blue_carbon", "soil_carbon")
"""NbS project types: afforestation/reforestation, avoided deforestation, improved forest
management, mangrove (blue carbon), grassland and soil carbon."""

ProjectTypeName = Literal["arr", "redd_plus", "ifm", "blue_carbon", "soil_carbon"]


class Strict(BaseModel):
    """Base for configuration sections: unknown keys are errors, assignment is validated, and
    types are strict: no number from a string, no count from a boolean (``firms = true`` is
    not 1 firm), no integer from a float; an integer is a valid float (TOML ``1`` for ``1.0``).
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True, strict=True)
    REPLACED: ClassVar[dict[str, str]] = {}
    """Keys this section no longer has, each with what replaced it (the error says)."""

    @model_validator(mode="before")
    @classmethod
    def _replaced_keys(cls, data: Any) -> Any:
        """A key that was replaced fails with a message naming its replacement."""
        if isinstance(data, dict):
            for key, instead in cls.REPLACED.items():
                if key in data:
                    raise ValueError(f"{key!r} was replaced: {instead}")
        return data


def share(default: float, doc: str) -> float:
    """A field constrained to [0, 1]."""
    return Field(default, ge=0.0, le=1.0, description=doc)


def log_spread(default: float, what: str) -> float:
    """A lognormal spread: sigma in log units, 0 for none, at most 3 (a factor of 20 at
    one sigma)."""
    return Field(default, ge=0.0, le=3.0, description=(
        f"Spread of {what}: sigma of the lognormal around the median, log units."))


class IntegrityRules(Strict):
    """How hard it is to issue a credit that is not a real tonne."""

    verification_rigour: float = share(
        0.5, "Minimum rigour of accredited verifiers: probability (0-1) that a verification "
             "detects an inflated claim before satellite support.")
    satellite_mrv: float = share(
        0.2, "Share (0-1) of verifications backed by satellite monitoring; each raises the "
             "detection probability of verifiers and audits.")
    additionality_strictness: float = share(
        0.3, "Probability (0-1) that the registration test rejects a project whose "
             "additionality is below additionality_threshold.")
    additionality_threshold: float = share(
        0.5, "Additionality (0-1, the share of its tonnes that would not have happened "
             "anyway) below which the registration test may reject a project.")
    buffer_share: float | None = Field(
        None, ge=0.0, le=1.0,
        description="Share (0-1) of every issuance deposited in the buffer pool; None uses "
                    "the per-type shares of the project table.")
    verifier_assignment: Literal["developer", "regulator"] = Field(
        "developer", description="Who picks the verifier: the developer (who pays, rewarding "
                                 "leniency) or the regulator (random assignment).")
    project_audit_rate: float = share(
        0.02, "Probability (0-1) per project per year that the standard body audits it.")
    audit_rigour: float = share(
        0.7, "Probability (0-1) that a project audit finds inflation, before satellite "
             "support.")
    claim_audit_rate: float = share(
        0.02, "Probability (0-1) per claiming firm per year that the standard body audits "
              "its claim.")
    penalty_multiple: float = Field(
        1.0, ge=0.0, le=20.0,
        description="Fine on detected over-crediting, as a multiple of the market value of "
                    "the over-credited tonnes (USD per USD).")
    max_vintage_age_years: int | None = Field(
        None, ge=1, le=50, description="Credits whose vintage (the year their tonnes were "
        "captured) is more than this many years before the claim's year may not be retired "
        "against it; None for no cut-off.")
    eligible_types: list[ProjectTypeName] = Field(
        default_factory=lambda: list(PROJECT_TYPES),
        description="Project types that may register new projects.")


class DisclosureRules(Strict):
    """What the public can see, and therefore how likely greenwashing is exposed."""

    REPLACED = {"ratings": "rating agencies publish whenever the market has some "
                           "(population.raters > 0), and rules.market.quality_books puts their "
                           "ratings on the books"}

    public_registry: bool = Field(
        True, description="Project-level registry data are public (watchdogs can study them).")
    retired_credit_disclosure: bool = Field(
        False, description="Firms must disclose which credits back each claim.")
    watchdog_intensity: float = share(
        0.3, "Activity (0-1) of journalists and NGOs scrutinising claims.")
    claim_standard: Literal["none", "vcmi", "sbti"] = Field(
        "none", description="Claims code: 'none' lets any retirement back a neutrality claim; "
                            "'vcmi' exposes claims backed by low-rated credits more; 'sbti' "
                            "limits credits to neutralising residual emissions (net-zero "
                            "pledges only).")


class MarketRules(Strict):
    """How credits are traded."""

    REPLACED = {"quality_tiers": "rules.market.quality_books splits the books by rating grade "
                                 "and label"}

    mechanism: Literal["call_auction", "double_auction"] = Field(
        "call_auction", description="Clearing mechanism per book: a uniform-price call "
                                    "auction or a continuous double auction.")
    quality_books: bool = Field(
        False, description="Books split each project type by what buyers can see of a "
                           "credit's quality: the rating agencies' consensus grade of its "
                           "project (AAA to D, or unrated), the integrity label and the "
                           "vintage (see vcm_sim/segments.py). Off, a type trades in one "
                           "book. A 'set' event merges or splits the books mid-run.")
    recent_vintage_years: int = Field(
        5, ge=0, le=50, description="With quality books, the vintage age (years: the year "
                                    "less the vintage) up to which a credit trades in the "
                                    "books of recent vintages; older ones trade apart.")
    offset_cap: float = share(
        1.0, "Share (0-1) of a firm's obligation that credits may cover (China's CCER: 0.05).")
    price_floor_usd: float = Field(
        0.0, ge=0.0, le=1e6, description="Lowest ask accepted, USD per tCO2e.")
    price_ceiling_usd: float | None = Field(
        None, gt=0.0, le=1e6, description="Highest bid accepted, USD per tCO2e; None for none.")


class Article6Rules(Strict):
    """Paris Agreement Article 6 in linked markets (see ``vcm_sim.article6``): the host's
    authorisation of credits for international use, and buyers that require it."""

    authorised_share: float = share(
        0.0, "Share (0-1) of this market's projects whose credits the host authorises for "
             "international use (a letter of authorisation, given as each project registers; "
             "it covers credits issued in the simulated months): they sell at home without "
             "an adjustment or to buyers abroad that require one, moving to the buyer's "
             "registry with a corresponding adjustment (the host's inventory no longer counts "
             "the tonne). Raised mid-run, it reaches projects registered from then on.")
    adjusted_only: bool = Field(
        False, description="This market's buyers accept only credits authorised and "
                           "correspondingly adjusted by their host (CORSIA eligible units), "
                           "bought abroad.")


class LabelRules(Strict):
    """An integrity label in the manner of the ICVCM's Core Carbon Principles (see
    ``vcm_sim.labels``): an assessment body approves project types, and credits of an approved
    type issued while it is approved carry the label in the registry. Approvals change
    mid-run with a 'set' event on ``rules.label.approved_types``."""

    name: str = Field("ccp", min_length=1, max_length=40, description=(
        "The label's name, as batches carry it in the registry."))
    approved_types: list[ProjectTypeName] = Field(default_factory=list, description=(
        "Project types the assessment body has approved: their credits issued from now on "
        "carry the label (credits issued before stay unlabelled). Empty: no credit is "
        "labelled."))
    required_for_claims: bool = Field(False, description=(
        "Claims must rest on labelled credits: buyers here take only credits carrying the "
        "label (within the vintage cut-off), so unlabelled ones find no claimant."))


class Rules(Strict):
    """The full rule set."""

    integrity: IntegrityRules = Field(default_factory=IntegrityRules)
    disclosure: DisclosureRules = Field(default_factory=DisclosureRules)
    market: MarketRules = Field(default_factory=MarketRules)
    article6: Article6Rules = Field(default_factory=Article6Rules)
    label: LabelRules = Field(default_factory=LabelRules)
