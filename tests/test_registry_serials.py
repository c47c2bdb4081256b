"""Property tests of serial-range arithmetic against Python sets of serials."""

import hypothesis.strategies as st
from hypothesis import given

from vcm_sim.registry.serials import (count, intersection, lowest, minus, union, well_formed)

END = 60
serial_sets = st.sets(st.integers(0, END - 1))


def ranges(serials: set[int]) -> list[tuple[int, int]]:
    """The set as ranges, built serial by serial."""
    built: list[tuple[int, int]] = []
    for s in sorted(serials):
        if built and built[-1][1] == s:
            built[-1] = (built[-1][0], s + 1)
        else:
            built.append((s, s + 1))
    return built


def members(rs: list[tuple[int, int]]) -> set[int]:
    return {s for start, end in rs for s in range(start, end)}


@given(serial_sets, serial_sets)
def test_set_operations_equal_those_of_python_sets(a, b):
    for result, expected in ((union(ranges(a), ranges(b)), a | b),
                             (intersection(ranges(a), ranges(b)), a & b),
                             (minus(ranges(a), ranges(b)), a - b)):
        assert result == ranges(expected) and well_formed(result, 0, END)
    assert count(ranges(a)) == len(a)


@given(serial_sets, st.integers(0, END))
def test_lowest_takes_the_lowest_serials_not_away(away, n):
    here = sorted(set(range(END)) - away)
    assert lowest(0, END, ranges(away), n) == ranges(set(here[:n]))


@given(serial_sets)
def test_well_formed_accepts_only_merged_sorted_ranges_within_bounds(a):
    rs = ranges(a)
    assert well_formed(rs, 0, END) and well_formed(rs, min(a, default=0), max(a, default=0) + 1)
    if rs:
        assert not well_formed(rs, 0, rs[-1][1] - 1)
        assert not well_formed(rs[::-1], 0, END) or len(rs) == 1
        start, end = rs[0]
        assert not well_formed([(start, start + 1), (start + 1, end + 1), *rs[1:]], 0, END + 1)
        assert not well_formed([(start, start)], 0, END)
