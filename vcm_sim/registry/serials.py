"""Serial ranges: sets of credit serial numbers, as international transfers track them.

A set is a sorted list of disjoint, non-empty, non-adjacent ``(start, end)`` ranges, ``end``
exclusive: ``[(0, 10), (20, 25)]`` is serials 0 to 9 and 20 to 24. Every function returns a set
in that form when given sets in it.
"""

from __future__ import annotations

Ranges = list[tuple[int, int]]


def count(ranges: Ranges) -> int:
    """Serials in ``ranges`` (credits)."""
    return sum(end - start for start, end in ranges)


def lowest(start: int, end: int, away: Ranges, n: int) -> Ranges:
    """The ``n`` lowest serials of ``start..end - 1`` that are not ``away`` (fewer if there
    are not ``n``)."""
    taken: Ranges = []
    cursor = start
    for gap_end, next_start in [*away, (end, end)]:
        if n and cursor < gap_end:
            take = min(n, gap_end - cursor)
            taken.append((cursor, cursor + take))
            n -= take
        cursor = max(cursor, next_start)
    return taken


def union(a: Ranges, b: Ranges) -> Ranges:
    """Serials in ``a`` or ``b``."""
    merged: Ranges = []
    for start, end in sorted(a + b):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def intersection(a: Ranges, b: Ranges) -> Ranges:
    """Serials in both ``a`` and ``b``."""
    common: Ranges = []
    i = j = 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            common.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return common


def minus(a: Ranges, b: Ranges) -> Ranges:
    """Serials in ``a`` but not in ``b``."""
    rest: Ranges = []
    for start, end in a:
        for cut_start, cut_end in intersection([(start, end)], b):
            if start < cut_start:
                rest.append((start, cut_start))
            start = cut_end
        if start < end:
            rest.append((start, end))
    return rest


def well_formed(ranges: Ranges, start: int, end: int) -> bool:
    """Whether ``ranges`` is a set in the module's form within ``start..end - 1``."""
    cursor = start - 1
    for low, high in ranges:
        if not cursor < low < high <= end:
            return False
        cursor = high
    return True
