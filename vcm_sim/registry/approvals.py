"""Label approvals: which project types the assessment body behind each integrity label has
approved, as a registry holds them to tag credits (Verra tags a credit with the ICVCM's CCP
label only if its methodology category is approved).

The registry checks a labelled issuance against them, before anything changes; imported
credits keep the label they were issued with, unchecked (the issuing registry checked it).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Iterable, Mapping, Sequence

from vcm_sim.registry.quantities import RegistryError


class LabelApprovals:
    """Per label name, the project types approved for it (a label with none is unknown)."""

    def __init__(self) -> None:
        self._types: dict[str, frozenset[str]] = {}

    @property
    def view(self) -> Mapping[str, frozenset[str]]:
        """A read-only view: label name -> the project types approved for it."""
        return MappingProxyType(self._types)

    def approve(self, name: str, project_types: Iterable[str]) -> None:
        """Approve exactly ``project_types`` (names) for label ``name``, replacing its
        approvals; none withdraws them all. RegistryError, changing nothing, unless ``name``
        is a non-empty string and ``project_types`` an iterable of non-empty strings."""
        if not isinstance(name, str) or not name:
            raise RegistryError(f"label name must be a non-empty string, got {name!r}")
        if isinstance(project_types, (str, bytes)):
            raise RegistryError(f"project types of label {name!r} must be a collection of "
                                f"names, got the string {project_types!r}")
        try:
            types = list(project_types)
        except TypeError:
            raise RegistryError(f"project types of label {name!r} must be a collection of "
                                f"names, got {project_types!r}") from None
        for kind in types:
            if not isinstance(kind, str) or not kind:
                raise RegistryError(f"project types of label {name!r} must be non-empty "
                                    f"strings, got {kind!r}")
        if types:
            self._types[name] = frozenset(types)
        else:
            self._types.pop(name, None)

    def check(self, label: str | None, project_type: str | None, where: str = "") -> None:
        """RegistryError unless a batch of ``project_type`` may carry ``label`` (any batch may
        carry none); ``where`` prefixes the message ("entry 3: ")."""
        if label is None:
            return
        approved = self._types.get(label)
        if approved is None:
            raise RegistryError(f"{where}unknown label {label!r}: no project type is approved "
                                "for it")
        if project_type is None:
            raise RegistryError(f"{where}a batch labelled {label!r} must name its project "
                                "type (project_type), got None")
        if not isinstance(project_type, str) or project_type not in approved:
            raise RegistryError(f"{where}label {label!r} is not approved for project type "
                                f"{project_type!r} (approved: {', '.join(sorted(approved))})")

    def check_many(self, labels: list[str | None], project_types: Sequence[str] | None,
                   n: int) -> None:
        """:meth:`check` of every entry of ``labels`` (``n`` of them, already checked as
        labels) with its type in ``project_types`` (one per entry, or None for none), naming
        the first refused entry. Each distinct (label, type) pair is looked up once."""
        if project_types is None:
            project_types = [None] * n
        elif isinstance(project_types, (str, bytes)) or not hasattr(project_types, "__len__"):
            raise RegistryError(f"project_types must be one name per entry, got "
                                f"{project_types!r:.80}")
        elif len(project_types) != n:
            raise RegistryError(f"project_types has {len(project_types)} entries, expected {n}")
        pairs = list(zip(labels, project_types))
        try:
            distinct = set(pairs)
        except TypeError:  # an unhashable type, refused below by name
            distinct = pairs
        approved = self._types
        refused = [pair for pair in distinct if pair[0] is not None and not (
            isinstance(pair[1], str) and pair[1] in approved.get(pair[0], ()))]
        if refused:
            k = min(map(pairs.index, refused))
            self.check(*pairs[k], f"entry {k}: ")
