"""Behaviour is configuration: every behavioural number is a validated scenario setting.

The model's behavioural constants used to be module literals no scenario could reach. Each is
now a setting with a description (unit and meaning), a range, and a value set in the baseline
preset with its source (a CALIBRATION.md row, or ``[assumption]``). What is left as a literal
in the model's modules is structural, and listed in :data:`STRUCTURAL` with the reason.
"""

import ast
import re
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

import vcm_sim
from vcm_sim.scenario import Scenario, ScenarioError, load_scenario, preset_path, with_overrides

SETTINGS = (
    # Firms: how buyers differ, what they pay for quality, what exposure costs them.
    "firms.emissions_spread",
    "firms.mac_spread",
    "firms.wtp_spread",
    "firms.unrated_real_tonnes",
    "firms.labelled_real_tonnes",
    "firms.choice_intensity",
    "firms.vintage_discount_yr",
    "firms.exposure_cost",
    "firms.exposure_reputation_factor",
    # Developers: integrity and selling.
    "developers.honesty_concentration",
    "developers.conscience_cost",
    "developers.inflation_kept_after_detection",
    "developers.ask_noise_sd",
    "developers.initial_inventory_years",
    # Verifiers: how they differ, how developers choose them, sanctions, satellites.
    "verifiers.suspension_years",
    "verifiers.corrective_rigour",
    "verifiers.strike_reputation_factor",
    "verifiers.rigour_concentration",
    "verifiers.fee_spread",
    "verifiers.satellite_boost",
    "verifiers.lax_choice_noise",
    "verifiers.cheap_choice_noise",
    # Traders.
    "traders.trend_memory_months",
    "traders.fundamental_memory_months",
    "traders.dead_band",
    "traders.min_price_usd",
    # Nature: wildfire events.
    "nature.wildfire_months",
    "nature.wildfire_multiplier",
    # Projects: how single projects vary around their type.
    "projects.rate_spread",
    "projects.area_spread",
    "projects.additionality_concentration",
    "projects.severity_concentration",
    "projects.opportunity_cost_share",
    "projects.outside_home_share",
    "projects.initial_age_years",
    # Supply with sunk costs, exit and entry (issue 12).
    "developers.cost_anchor",
    "developers.credit_line_usd",
    "developers.fire_sale_discount",
    "developers.entry_rate_yr",
    "developers.method_scrutiny",
    "developers.ask_learning",
    "developers.carry_weight",
    "projects.pipeline_months_min",
    "projects.pipeline_months_max",
    "verifiers.baseline_error_sd",
    # Demand that responds to prices, peers and trust (issue 12).
    "firms.pledge_innovation_yr",
    "firms.pledge_imitation_yr",
    "firms.pledge_drop_yr",
    "firms.purchase_spread",
    "firms.purchase_anticipation",
    "firms.buy_ahead_response",
    "firms.cost_of_capital_yr",
    "firms.bid_steps",
    "sentiment.sector_contagion",
    # Price expectations.
    "expectations.price_weight",
    "expectations.volume_weight",
    "expectations.trend_months",
    "expectations.trend_weight",
    # Rating agencies: accuracy, coverage, who pays, how they learn, the scale.
    "rating_agencies.error_sd",
    "rating_agencies.error_spread",
    "rating_agencies.coverage",
    "rating_agencies.developer_paid_share",
    "rating_agencies.developer_paid_bias",
    "rating_agencies.revision_weight",
    "rating_agencies.reputation_weight",
    "rating_agencies.notch_width",
    # Sentiment and exposure of claims.
    "sentiment.recovery_per_month",
    "sentiment.contagion_per_exposure",
    "exposure.base_visibility",
    "exposure.public_registry_visibility",
    "exposure.retired_credit_disclosure_visibility",
    "exposure.ratings_visibility",
    "exposure.vcmi_scrutiny_factor",
    # Policy knobs of the standard body.
    "rules.integrity.additionality_threshold",
    "rules.integrity.audit_rigour",
)
"""The settings that replaced behavioural literals of the model's modules (issue 11, item 4)."""

STRUCTURAL: dict[float, str] = {
    0: "nothing: empty arrays, start of a range, lower end of a share",
    1: "a whole: unit steps, upper end of a share; with a minus, -1 marks 'none' in an index",
    1e-3: "keeps a Beta distribution's shape parameters positive when its mean is 0 or 1",
    1e-9: "guards a division by a quantity that may be zero",
    1e-12: "guards a division by a discount rate that may be zero",
}
"""Numbers any model module may hold, and why they are not behaviour."""

STRUCTURAL_IN: dict[tuple[str, float], str] = {
    ("agents/rater.py", 9): "decimal places a rating's notch boundary is read to: float noise "
                            "(0.4 / 0.1 = 4.000000000000001), not behaviour",
    ("agents/rater.py", 2): "two draws per agency and project (coverage, error), and band 2 of "
                            "three (A or above, below A, unrated)",
    ("trading.py", 2): "an order array's two dimensions (per seller and segment), a quote's "
                       "midpoint, the third delivery part (traders' credits)",
    ("jurisdiction.py", 2): "value and volume rows, a mean of a range's two ends and of two "
                            "months' shares, labelled or not",
    ("linking.py", 2): "two columns of empty offers (origin, seller; by trader, adjusted)",
    ("segments.py", 2): "two label states (labelled or not) per rating grade in a segment",
    ("valuation.py", 2): "the middle of a grade's range of real tonnes (half its width)",
    ("issuance.py", 2): "an array at least doubles when it grows (memory only)",
    ("cash.py", 1e-6): "USD the cash statement's check allows for the rounding of float "
                       "sums (with 1e-9 of the gross flows), not behaviour",
    ("projects.py", 1e-6): "months added to a mean capture month before flooring it: float "
                           "noise in sums of tonnes times months, not behaviour",
    ("jurisdiction.py", 3): "three draws per claim verified (caught, reviewed, baseline "
                            "estimate)",
    ("agents/regulator.py", 2): "two draws per project audited (audited, found)",
    ("agents/trader.py", 2): "the third trading rule's code (ARBITRAGEUR)",
    ("streams.py", 0x5EED): "TAG: a constant that marks the model's streams in a seed's key",
    ("streams.py", 2): "the base of 2**63, the range of a fallback seed; a Philox key is "
                       "two 64-bit words",
    ("streams.py", 63): "the exponent of 2**63, the range of a fallback seed",
    ("agents/developer.py", 2): "the middle pair of a median; the 2 in the derivative of the "
                                "quadratic conscience cost",
    ("agents/firm.py", 2): "the third pledge code (NET_ZERO); x**2 / 2, the integral of a "
                           "linear marginal abatement cost",
    ("market/call_auction.py", 2): "the midpoint of a clearing interval; the base of 2.0**62",
    ("projects.py", 12): "STEPS_PER_YEAR: a step is a month",
    ("article6.py", 5.0): "the 5 in the golden ratio (sqrt(5) - 1) / 2 of the authorisation "
                          "sequence (any irrational spreads it evenly; this one best)",
    ("article6.py", 2.0): "the 2 in the golden ratio (sqrt(5) - 1) / 2",
    ("projects.py", 2): "two draws per project and month (whether hit, how badly)",
    ("issuance.py", 1024): "GROWTH: the least an array of batch facts grows by (memory only)",
    ("market/call_auction.py", 62): "2.0**62: the bound on totals that keeps sums exact",
    ("market/order_book.py", 4): "the four columns of a resting order",
    ("market/order_book.py", 64): "stale heap entries tolerated before compaction (speed only)",
}
"""Numbers only the named module may hold, and why."""

PACKAGE = Path(vcm_sim.__file__).parent
NOT_MODEL = {"cli.py", "validation.py", "errors.py", "plots.py", "registry.py", "metrics.py",
             "scenario.py", "rules.py", "hindcast.py", "hindcast_figures.py"}
"""Modules outside the scan: the doors and error plumbing (cli, validation, errors), the run
figure's layout (plots), the ledger's exact-arithmetic limits (registry), the definitions of
reported quantities (metrics), the settings themselves, whose defaults and ranges are the
point (scenario, rules), and the comparison of runs with data, whose weights and tolerances
are the measurement's, not the model's (hindcast, hindcast_figures). ``sweep/``, ``app/``,
``calibrate/`` and ``validate/`` are outside the model too."""


def model_modules() -> list[Path]:
    files = [*PACKAGE.glob("*.py"), *(PACKAGE / "agents").glob("*.py"),
             *(PACKAGE / "market").glob("*.py")]
    return sorted(f for f in files if f.name not in NOT_MODEL or f.parent != PACKAGE)


def numbers(source: str) -> list[tuple[int, float]]:
    """(line, value) of every numeric literal in ``source`` (booleans are not numbers)."""
    return [(node.lineno, node.value) for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Constant) and type(node.value) in (int, float)]


def behavioural_literals(module: str, source: str) -> list[str]:
    """``module:line: value`` of each number in ``source`` that is not structural there."""
    return [f"{module}:{line}: {value!r}" for line, value in sorted(numbers(source))
            if value not in STRUCTURAL and (module, value) not in STRUCTURAL_IN]


def field(path: str):
    """The pydantic field at dotted ``path`` of :class:`Scenario`."""
    model: type[BaseModel] = Scenario
    *sections, name = path.split(".")
    for section in sections:
        model = model.model_fields[section].annotation
    return model.model_fields[name]


def bounds(info) -> dict[str, float]:
    """The field's range constraints: ``{"ge": 0.0, "le": 1.0}`` and the like."""
    found = {}
    for constraint in info.metadata:
        for key in ("ge", "gt", "le", "lt"):
            if getattr(constraint, key, None) is not None:
                found[key] = getattr(constraint, key)
    return found


def value_at(scenario: Scenario, path: str):
    node = scenario
    for key in path.split("."):
        node = getattr(node, key)
    return node


def inside(default: float, limits: dict[str, float], integer: bool) -> float:
    """A valid value other than ``default``: half way towards the lower bound (or the upper,
    when the default sits on the lower)."""
    low = limits.get("ge", limits.get("gt"))
    high = limits.get("le", limits.get("lt"))
    if integer:
        return default - 1 if default - 1 >= low else default + 1
    return (default + low) / 2 if default > low else (default + high) / 2


def outside(limits: dict[str, float], integer: bool) -> list[float]:
    """Values just outside each bound."""
    step = 1 if integer else 1e-3
    values = []
    if "le" in limits:
        values.append(limits["le"] + step)
    if "lt" in limits:
        values.append(limits["lt"])
    if "ge" in limits:
        values.append(limits["ge"] - step)
    if "gt" in limits:
        values.append(limits["gt"])
    return values


def test_the_settings_are_listed_once():
    assert len(set(SETTINGS)) == len(SETTINGS)


@pytest.mark.parametrize("path", SETTINGS)
def test_each_setting_has_a_description_with_its_meaning_and_a_range_on_both_sides(path):
    info = field(path)
    assert info.description and len(info.description) > 20, path
    limits = bounds(info)
    assert {"ge", "gt"} & limits.keys() and {"le", "lt"} & limits.keys(), (path, limits)


@pytest.mark.parametrize("path", SETTINGS)
def test_each_setting_can_be_overridden_and_refuses_a_value_out_of_range(path):
    baseline = load_scenario("baseline")
    default = value_at(baseline, path)
    integer = field(path).annotation is int
    changed = with_overrides(baseline, {path: inside(default, bounds(field(path)), integer)})
    assert value_at(changed, path) != default
    for bad in outside(bounds(field(path)), integer):
        with pytest.raises(ScenarioError, match=re.escape(path)):
            with_overrides(baseline, {path: bad})


@pytest.mark.parametrize("path", SETTINGS)
def test_each_setting_is_read_by_the_model(path):
    name = path.rsplit(".", 1)[1]
    read = {node.attr for module in model_modules()
            for node in ast.walk(ast.parse(module.read_text()))
            if isinstance(node, ast.Attribute)}
    assert name in read, f"{path} is never read by a model module"


def test_the_baseline_sets_each_setting_with_its_source():
    """``key = value  # [seed: row]``, ``[ext: row]``, ``[data: file]`` (a figure computed
    from ``shared/data``) or ``[assumption]``, in its table."""
    cited: set[str] = set()
    table = ""
    for line in preset_path("baseline").read_text().splitlines():
        header = re.match(r"\s*\[([\w.]+)\]", line)
        if header:
            table = header.group(1)
            continue
        entry = re.match(r"\s*(\w+)\s*=[^#]*#(.*)", line)
        if entry and re.search(r"\[(seed|ext|data): [^\]]+\]|\[assumption\]", entry.group(2)):
            cited.add(f"{table}.{entry.group(1)}")
    missing = [path for path in SETTINGS if path not in cited]
    assert not missing, f"baseline.toml does not set these with a source: {missing}"


def test_the_defaults_are_the_baseline_values():
    """Code defaults and the baseline agree, so a scenario that does not extend the baseline
    behaves as it does where it does not say otherwise."""
    baseline = load_scenario("baseline")
    for path in SETTINGS:
        assert value_at(baseline, path) == field(path).default, path


def test_traders_must_remember_more_months_than_their_trend_spans():
    with pytest.raises(ScenarioError, match="trend_memory_months must be below"):
        with_overrides(load_scenario("baseline"), {"traders.trend_memory_months": 24})


def test_the_visibility_a_disclosure_adds_cannot_make_a_claim_more_than_fully_visible():
    with pytest.raises(ScenarioError, match="at most 1"):
        with_overrides(load_scenario("baseline"), {"exposure.ratings_visibility": 0.5})


def walk_fields(model: type[BaseModel], prefix: str = ""):
    for name, info in model.model_fields.items():
        nested = [a for a in (info.annotation, *typing.get_args(info.annotation))
                  if isinstance(a, type) and issubclass(a, BaseModel)]
        if nested:
            yield from walk_fields(nested[0], f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", info


def test_every_numeric_setting_of_a_scenario_is_described_and_bounded():
    numeric = {int, float}
    for path, info in walk_fields(Scenario):
        kinds = {info.annotation, *typing.get_args(info.annotation)}
        limits = bounds(info)
        value = (typing.get_args(info.annotation)[1]
                 if typing.get_origin(info.annotation) is dict else None)
        if typing.get_origin(value) is typing.Annotated:  # a table of numbers: bound its values
            value_type, value_info = typing.get_args(value)
            kinds, limits = {value_type}, bounds(value_info)
        if kinds & numeric and bool not in kinds:
            assert info.description, path
            assert {"ge", "gt"} & limits.keys() and {"le", "lt"} & limits.keys(), path


def test_the_literal_scan_flags_behaviour_and_passes_structure():
    assert behavioural_literals("segments.py", "x = 0.3 * y[-1] + f(2, on=True)") == [
        "segments.py:1: 0.3"]
    assert behavioural_literals("model.py", "months = 12") == ["model.py:1: 12"]
    assert behavioural_literals("projects.py", "STEPS_PER_YEAR = 12") == []


def test_no_behavioural_literal_is_left_in_a_model_module():
    found = [hit for module in model_modules()
             for hit in behavioural_literals(module.relative_to(PACKAGE).as_posix(),
                                             module.read_text())]
    assert not found, ("numbers in model modules that no scenario can set; make each a "
                       "setting, or add it to STRUCTURAL with the reason:\n  "
                       + "\n  ".join(found))


def test_the_scan_covers_the_model_modules():
    names = {m.relative_to(PACKAGE).as_posix() for m in model_modules()}
    assert {"model.py", "jurisdiction.py", "trading.py", "claims.py", "projects.py", "issuance.py",
            "agents/developer.py", "agents/firm.py", "agents/verifier.py",
            "agents/regulator.py", "agents/trader.py", "market/call_auction.py"} <= names
    assert not names & NOT_MODEL
