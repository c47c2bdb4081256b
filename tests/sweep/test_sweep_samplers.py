"""Designs: grids enumerate every combination, random designs are reproducible from the root
seed and stay in their bounds, categorical parameters map onto their choices."""

from __future__ import annotations

import numpy as np
import pytest

from vcm_sim.sweep import parse_sweep
from vcm_sim.sweep.samplers import count_points, design


def spec(parameters, **sampler):
    return parse_sweep({"name": "s", "seed": 3, "sampler": sampler or {"method": "grid"},
                        "parameters": parameters})


def test_a_grid_is_the_cartesian_product_in_declaration_order():
    d = design(spec({"a.x": {"values": [1, 2]}, "b.y": {"low": 0.0, "high": 1.0, "num": 3}}))
    assert d.points == [{"a.x": 1, "b.y": 0.0}, {"a.x": 1, "b.y": 0.5}, {"a.x": 1, "b.y": 1.0},
                        {"a.x": 2, "b.y": 0.0}, {"a.x": 2, "b.y": 0.5}, {"a.x": 2, "b.y": 1.0}]


def test_mixed_int_and_float_values_become_floats_so_a_column_has_one_type():
    d = design(spec({"a.x": {"values": [0, 0.5, 1]}}))
    assert [type(p["a.x"]) for p in d.points] == [float, float, float]


def test_a_log_range_is_evenly_spaced_in_log10():
    d = design(spec({"a.x": {"low": 0.1, "high": 10.0, "num": 3, "scale": "log"}}))
    assert np.allclose([p["a.x"] for p in d.points], [0.1, 1.0, 10.0])


def test_a_grid_with_no_parameters_is_one_point():
    assert design(spec({})).points == [{}]


def test_a_latin_hypercube_is_reproducible_stratified_and_in_bounds():
    s = spec({"a.x": {"low": 2.0, "high": 4.0}, "b.y": {"values": ["p", "q"]}},
             method="lhs", samples=10)
    first, again = design(s), design(s)
    assert first.points == again.points
    xs = np.array([p["a.x"] for p in first.points])
    assert ((xs >= 2.0) & (xs < 4.0)).all()
    # one point in each tenth of the range: the Latin property
    assert sorted(np.floor((xs - 2.0) / 0.2).astype(int)) == list(range(10))
    assert {p["b.y"] for p in first.points} == {"p", "q"}


def test_another_root_seed_gives_another_latin_hypercube():
    a = parse_sweep({"name": "s", "seed": 1, "sampler": {"method": "lhs", "samples": 5},
                     "parameters": {"a.x": {"low": 0.0, "high": 1.0}}})
    b = a.model_copy(update={"seed": 2})
    assert design(a).points != design(b).points


def test_a_sobol_design_has_n_times_d_plus_2_points_and_its_salib_problem():
    d = design(spec({"a.x": {"low": 0.0, "high": 1.0}, "b.y": {"low": 5.0, "high": 6.0,
                                                               "integer": True},
                     "c.z": {"values": [True, False]}}, method="sobol", samples=8))
    assert len(d.points) == 8 * (3 + 2)
    assert d.problem["names"] == ["a.x", "b.y", "c.z"] and d.unit.shape == (40, 3)
    assert {p["b.y"] for p in d.points} <= {5, 6}
    assert {p["c.z"] for p in d.points} == {True, False}


def test_levels_expand_into_their_overrides():
    d = design(spec({"shock": {"levels": {"none": {"nature.hazard_multiplier": 1.0},
                                          "fire": {"nature": {"hazard_multiplier": 4.0},
                                                   "events": []}}}}))
    assert [p["shock"] for p in d.points] == ["none", "fire"]
    assert d.overrides(d.points[1]) == {"nature.hazard_multiplier": 4.0, "events": []}


@pytest.mark.parametrize("sampler, parameters", [
    ({"method": "grid"}, {"a.x": {"values": [1, 2, 3]}, "b.y": {"low": 0.0, "high": 1.0,
                                                                "num": 4},
                          "c": {"levels": {"p": {}, "q": {}}}}),
    ({"method": "grid"}, {}),
    ({"method": "lhs", "samples": 7}, {"a.x": {"low": 0.0, "high": 1.0}}),
    ({"method": "sobol", "samples": 8}, {"a.x": {"low": 0.0, "high": 1.0},
                                         "b.y": {"values": [1, 2]}}),
    ({"method": "sobol", "samples": 4, "second_order": True},
     {"a.x": {"low": 0.0, "high": 1.0}, "b.y": {"low": 0.0, "high": 1.0},
      "c.z": {"low": 0.0, "high": 1.0}}),
])
def test_the_run_count_is_computed_without_building_the_design(sampler, parameters):
    spec = parse_sweep({"name": "s", "seed": 1, "sampler": sampler, "parameters": parameters})
    assert count_points(spec) == len(design(spec).points)
