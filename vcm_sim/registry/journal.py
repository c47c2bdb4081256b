"""The journal: an append-only, columnar record of every registry operation."""

from __future__ import annotations

from array import array
from enum import IntEnum
from numbers import Integral
from typing import Sequence

import numpy as np
import pandas as pd

NONE = -1
"""Account or text id of a journal entry that has none."""
_COLUMNS = ("step", "kind", "batch", "src", "dst", "quantity", "note", "claim")
"""The journal's columns, in order."""
_DTYPES = {"b": np.int8, "i": np.int32, "q": np.int64}
"""numpy dtype of each journal column's array typecode."""


class Kind(IntEnum):
    """Kinds of journal entry."""

    ISSUE = 0
    BUFFER_DEPOSIT = 1
    TRANSFER = 2
    RETIRE = 3
    CANCEL = 4
    EXPORT = 5
    IMPORT = 6


class Journal:
    """Append-only, columnar record of every registry operation.

    Columns are typed arrays (about 33 bytes per entry), so a million entries fit in tens of
    megabytes. Account names and free text (reasons, beneficiaries, claim ids) are interned.
    """

    def __init__(self) -> None:
        self.step = array("i")
        self.kind = array("b")
        self.batch = array("i")
        self.src = array("i")
        self.dst = array("i")
        self.quantity = array("q")
        self.note = array("i")
        self.claim = array("i")
        self._texts: list[str] = []
        self._text_ids: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.kind)

    def intern(self, text: str | None) -> int:
        """Index of ``text`` in the journal's string table (-1 for None)."""
        if text is None:
            return NONE
        idx = self._text_ids.get(text)
        if idx is None:
            idx = self._text_ids[text] = len(self._texts)
            self._texts.append(text)
        return idx

    def append(self, step: int, kind: Kind, batch: int, src: int, dst: int, quantity: int,
               note: int = NONE, claim: int = NONE) -> None:
        """Record one entry; ids are account ids or text ids, -1 meaning none."""
        self.step.append(step)
        self.kind.append(kind)
        self.batch.append(batch)
        self.src.append(src)
        self.dst.append(dst)
        self.quantity.append(quantity)
        self.note.append(note)
        self.claim.append(claim)

    def intern_many(self, texts: Sequence[str | None]) -> list[int]:
        """Indices of ``texts`` in the string table (see :meth:`intern`)."""
        known = self._text_ids.get
        return [i if (i := known(t)) is not None else self.intern(t) for t in texts]

    def extend(self, step: int, kind: Kind | Sequence[int], batch: Sequence[int],
               src: Sequence[int], dst: Sequence[int], quantity: Sequence[int],
               note: Sequence[int] | None = None, claim: Sequence[int] | None = None) -> None:
        """Record several entries at once: columns of equal length (``kind`` may be one kind
        for all); ``note`` and ``claim`` default to none."""
        n = len(batch)
        columns = (self.step, self.kind, self.batch, self.src, self.dst, self.quantity,
                   self.note, self.claim)
        start = len(self.kind)
        try:
            for name, column, values in zip(_COLUMNS, columns, (step, kind, batch, src, dst,
                                                                quantity, note, claim)):
                # Lists, what the registry passes, go straight into their column
                # (array.fromlist, no intermediate array); the rest are typed first.
                listed = type(values) is list
                if not listed:
                    values = _typed_column(name, column.typecode,
                                           NONE if values is None else values, n)
                if len(values) != n:
                    raise ValueError(f"journal column {name} has {len(values)} entries, not {n}")
                if listed:
                    column.fromlist(values)
                else:
                    column.extend(values)
        except (OverflowError, TypeError, ValueError):  # a value that does not fit or a
            for column in columns:  # column of another length: no entry recorded
                del column[start:]
            raise

    def _columns(self) -> dict[str, array]:
        return {name: getattr(self, name) for name in _COLUMNS}

    def nbytes(self) -> int:
        """Memory held by the journal's columns, in bytes."""
        return sum(c.itemsize * len(c) for c in self._columns().values())

    def arrays(self) -> dict[str, np.ndarray]:
        """The raw columns as numpy arrays (account and text ids, -1 for none)."""
        return {name: np.frombuffer(column, dtype=_DTYPES[column.typecode]).copy()
                for name, column in self._columns().items()}

    def to_frame(self, accounts: list[str]) -> pd.DataFrame:
        """The journal as a DataFrame with readable names.

        Columns: ``step``, ``kind`` (issue, buffer_deposit, transfer, retire, cancel, export,
        import), ``batch``, ``from``, ``to`` (account names or None), ``quantity`` (credits),
        ``note`` (reason of a cancellation, beneficiary of a retirement, the other registry of
        an export or import), ``claim``.
        """
        cols = self.arrays()
        names = np.array([*accounts, None], dtype=object)
        texts = np.array([*self._texts, None], dtype=object)
        kinds = np.array([k.name.lower() for k in Kind], dtype=object)
        return pd.DataFrame({
            "step": cols["step"],
            "kind": pd.Categorical(kinds[cols["kind"]], categories=list(kinds)),
            "batch": cols["batch"],
            "from": names[cols["src"]],
            "to": names[cols["dst"]],
            "quantity": cols["quantity"],
            "note": texts[cols["note"]],
            "claim": texts[cols["claim"]],
        })


def _typed_column(name: str, code: str, values: Sequence[int] | int, n: int) -> array:
    """``n`` journal entries of column ``name`` as an array of typecode ``code``: from a
    list, a 1-d numpy array or one integer for every entry; ValueError if a numpy array is
    not ``n`` long (OverflowError if one does not fit the column). The caller checks the
    length of the others."""
    if isinstance(values, list):
        return array(code, values)
    if isinstance(values, int):
        return array(code, (values,)) * n
    if isinstance(values, np.ndarray) and values.ndim:
        if values.shape != (n,):
            raise ValueError(f"journal column {name} has shape {values.shape}, not ({n},)")
        return array(code, values.astype(_DTYPES[code], copy=False).tobytes())
    if isinstance(values, (Integral, np.ndarray)):
        return array(code, (int(values),)) * n
    return array(code, values)
