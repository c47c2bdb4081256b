"""Credits as exact integers: the largest quantity and the valid steps, the checks every
operation makes of its arguments, and the exact buffer split."""

from __future__ import annotations

from collections import abc
from fractions import Fraction
from functools import lru_cache
from numbers import Integral
from typing import Sequence

import numpy as np

MAX_QUANTITY = 2**63 - 1
"""Most credits one operation may move, and most the registry may ever issue in all: the journal
stores quantities as 64-bit integers, and with every total bounded so, every sum the registry
forms (per account, per batch, in :meth:`Registry.check`'s replay) is exact in 64 bits."""
STEPS = range(-2**31, 2**31)
"""Valid values of :attr:`Registry.step`: the journal stores steps as 32-bit integers."""


class RegistryError(ValueError):
    """A registry operation was refused; the registry is unchanged."""


def buffer_credits(quantity: int, share: float) -> int:
    """Credits of an issuance of ``quantity`` that go to the buffer pool:
    ``floor(quantity * share)`` in exact integer arithmetic, ``share`` read as the shortest
    decimal that is its float (so never more than ``quantity`` for a share of at most 1)."""
    num, den = _decimal_ratio(share)
    return quantity * num // den


@lru_cache(maxsize=1024)
def _decimal_ratio(share: float) -> tuple[int, int]:
    """``share`` as an exact fraction of its shortest decimal form (0.3 -> (3, 10))."""
    return Fraction(repr(float(share))).as_integer_ratio()


def check_quantities(quantities: Sequence[int], n: int) -> np.ndarray:
    """``quantities`` as an int64 array of ``n`` positive entries of at most
    :data:`MAX_QUANTITY`, or RegistryError naming the first bad one (booleans are refused,
    as by the single operations)."""
    try:
        quantity = np.asarray(quantities)
    except (OverflowError, ValueError, TypeError):
        quantity = np.asarray(quantities, dtype=object)
    if quantity.shape != (n,):
        raise RegistryError(f"{quantity.size} quantities for {n} entries")
    bools = (quantity.dtype.kind == "b" or not isinstance(quantities, np.ndarray)
             and any(type(q) is bool for q in quantities))
    if n and (quantity.dtype.kind not in "iu" or bools):
        raise RegistryError(f"quantities must be positive integers (credits), got "
                            f"{quantities!r:.80}")
    # The maximum is int64's own: only a uint64 quantity can exceed it.
    if n and (quantity.min() <= 0 or quantity.dtype == np.uint64 and quantity.max() > MAX_QUANTITY):
        bad = (quantity <= 0) | (quantity > MAX_QUANTITY)
        k = int(bad.nonzero()[0][0])
        raise RegistryError(f"entry {k}: quantity must be a positive integer (credits) of at "
                            f"most {MAX_QUANTITY}, got {quantity[k].item()!r}")
    return quantity.astype(np.int64, copy=False)


def check_shares(shares: Sequence[float], n: int) -> np.ndarray:
    """Buffer shares as a float array of ``n`` entries in [0, 1], or RegistryError."""
    raw = np.asarray(shares)
    if raw.shape != (n,):
        raise RegistryError(f"{raw.size} buffer shares for {n} entries")
    if n and raw.dtype.kind not in "iuf":
        raise RegistryError(f"buffer shares must be numbers in [0, 1], got {shares!r:.80}")
    share = raw.astype(np.float64)
    if n and not 0.0 <= share.min() <= share.max() <= 1.0:  # NaN fails too
        k = int((~((share >= 0.0) & (share <= 1.0))).nonzero()[0][0])
        raise RegistryError(f"entry {k}: buffer_share must be in [0, 1], got {share[k].item()!r}")
    return share


def check_quantity(quantity: object) -> int:
    """``quantity`` as a Python int, or RegistryError if it is not a positive integer of at
    most :data:`MAX_QUANTITY`."""
    if type(quantity) is int:
        if 0 < quantity <= MAX_QUANTITY:
            return quantity
    elif (isinstance(quantity, Integral) and not isinstance(quantity, bool)
          and 0 < quantity <= MAX_QUANTITY):
        return int(quantity)
    raise RegistryError(f"quantity must be a positive integer (credits) of at most "
                        f"{MAX_QUANTITY}, got {quantity!r}")


def check_label(label: object, where: str = "") -> None:
    """RegistryError unless ``label`` is ``None`` (unlabelled) or a non-empty string."""
    if label is not None and (not isinstance(label, str) or not label):
        raise RegistryError(f"{where}label must be None or a non-empty string, got {label!r}")


def check_vintages(vintages: int | Sequence[int], n: int) -> list[int]:
    """``n`` vintages (integer years): ``vintages`` itself, or one year repeated; else
    RegistryError naming the first bad one (booleans are refused)."""
    if isinstance(vintages, Integral) and not isinstance(vintages, bool):
        return [int(vintages)] * n
    whole = (isinstance(vintages, np.ndarray) and vintages.ndim == 1
             and vintages.dtype.kind in "iu")  # integer years all: no entry to check
    if not whole and (isinstance(vintages, (str, bytes, bool))
                      or not isinstance(vintages, (abc.Sequence, np.ndarray))):
        raise RegistryError(f"vintage must be an integer year or one per entry, got "
                            f"{vintages!r:.80}")
    years = vintages.tolist() if whole else list(vintages)
    if len(years) != n:
        raise RegistryError(f"vintages has {len(years)} entries, expected {n}")
    if whole:
        return years
    for k, year in enumerate(years):
        if not isinstance(year, Integral) or isinstance(year, bool):
            raise RegistryError(f"entry {k}: vintage must be an integer year, got {year!r}")
    return [int(year) for year in years]


def check_labels(labels: Sequence[str | None] | None, n: int) -> list[str | None]:
    """``n`` labels (each as :func:`check_label` wants it), or ``n`` times ``None``."""
    if labels is None:
        return [None] * n
    labels = list(labels)
    if len(labels) != n:
        raise RegistryError(f"labels has {len(labels)} entries, expected {n}")
    for k, label in enumerate(labels):
        check_label(label, f"entry {k}: ")
    return labels
