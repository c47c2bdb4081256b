"""The credit registry: the single source of truth for every credit.

Credits are integers (1 credit = 1 tCO2e claimed). They are issued in batches, each with a
project id, a vintage (year), an integrity label or none, and a serial range that never
overlaps another batch's; a credit keeps its batch's vintage and label wherever it moves. A
batch is issued with a label only if its project type is approved for that label
(:meth:`Registry.approve_label`). Every movement (issue, buffer deposit, transfer, retire,
cancel, and export to or import from the registry of a linked market) is appended to a
columnar journal.

Guarantees (checked by :meth:`Registry.check`, by the property-based tests and, in the model's
debug mode, after every step):

* for every batch: issued (or imported) = sum of holdings (buffer pool included) + retired +
  cancelled + exported;
* across linked registries, every credit is in exactly one of them, by serial number
  (checked by :func:`check_linked`);
* no holding is ever negative;
* retired and cancelled credits leave every account and never move again;
* every retirement names exactly one beneficiary and at most one claim;
* a bad operation raises :class:`RegistryError` naming the offending value and changes
  nothing: balances, totals and journal are exactly as before (in both registries of a
  transfer abroad);
* arithmetic is exact at any size: quantities, buffer splits and totals are Python or 64-bit
  integers, never floats, and anything that would not fit is refused (see :data:`MAX_QUANTITY`).

Accounts are plain string names and must be opened before they hold credits, so a misspelt
name is an error rather than a silent new account. The buffer pool is the account ``"buffer"``,
open from the start.

The package: :mod:`~vcm_sim.registry.ledger` (the :class:`Registry`: accounts, single operations,
queries), :mod:`~vcm_sim.registry.bulk` (the same operations for many entries at once),
:mod:`~vcm_sim.registry.approvals` (the project types approved for each label),
:mod:`~vcm_sim.registry.invariants` (:meth:`Registry.check`), :mod:`~vcm_sim.registry.journal`,
:mod:`~vcm_sim.registry.batch`, :mod:`~vcm_sim.registry.quantities` (limits and argument
checks), :mod:`~vcm_sim.registry.international` (transfers between registries) and
:mod:`~vcm_sim.registry.serials` (the serial ranges they track).
"""

from vcm_sim.registry.batch import Batch
from vcm_sim.registry.bulk import Deliveries
from vcm_sim.registry.international import check_linked, transfer_abroad
from vcm_sim.registry.journal import Journal, Kind
from vcm_sim.registry.ledger import BUFFER, Registry
from vcm_sim.registry.quantities import MAX_QUANTITY, STEPS, RegistryError

__all__ = ["BUFFER", "MAX_QUANTITY", "STEPS", "Batch", "Deliveries", "Journal", "Kind",
           "Registry", "RegistryError", "check_linked", "transfer_abroad"]
