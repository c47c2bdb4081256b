"""The regulator (standard body): audits projects, sanctions, and scheduled policy events."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from vcm_sim.agents.base import Member
from vcm_sim.agents.verifier import with_satellites
from vcm_sim.projects import STEPS_PER_YEAR

if TYPE_CHECKING:
    from vcm_sim.model import VCMModel


class Regulator(Member):
    """The standard body: applies the rules of the scenario."""

    prefix = "regulator"

    def audit_detection(self, rigour: float, satellite: float, boost: float) -> float:
        """Probability (0-1) that an audit of ``rigour`` finds a project's inflation, with
        satellites as for verifiers (see :func:`~vcm_sim.agents.verifier.with_satellites`)."""
        return with_satellites(rigour, satellite, boost)

    def audit_projects(self) -> int:
        """Audit a random share of projects; returns how many were caught over-crediting.

        A project is caught when it still has credits issued only because its inflation went
        undetected (recorded per batch at issuance) and the audit finds them. Those credits
        are cancelled from its developer's holdings as far as they go, the developer is fined
        ``penalty_multiple`` times their market value at its type's latest price, the
        project's inflation is reset to zero, and every verifier that accepted an inflated
        batch gets a strike (and loses accreditation after too many).
        """
        model: VCMModel = self.model
        rules = model.config.rules.integrity
        projects = model.projects
        draw = model.draws("audits").random((len(projects), 2))
        audited = draw[:, 0] < rules.project_audit_rate / STEPS_PER_YEAR
        if not audited.any():
            return 0
        over = np.bincount(model.truth.view("project"), weights=model.truth.view("over_credited"),
                           minlength=len(projects))
        inflated = audited & (over > 0)
        found = draw[:, 1] < self.audit_detection(
            rules.audit_rigour, rules.satellite_mrv, model.config.verifiers.satellite_boost)
        caught = (inflated & found).nonzero()[0]
        for p in caught.tolist():
            self._sanction(model, p)
        return len(caught)

    def _sanction(self, model: VCMModel, project: int) -> None:
        rules = model.config.rules.integrity
        batches = ((model.truth.view("project") == project)
                   & model.truth.view("inflated")).nonzero()[0]
        over = int(model.truth.over_credited[batches].sum())
        developer = model.projects.developer[project]
        account = model.developer_accounts[developer]
        remaining = over
        for b in batches.tolist():
            held = model.registry.balance(account, b)
            take = min(held, remaining)
            if take:
                model.registry.cancel(b, account, take,
                                      reason=f"audit: over-crediting of project {project}")
                remaining -= take
        price = model.latest_price_by_type[model.projects.kind[project]]
        fine = rules.penalty_multiple * over * (price if np.isfinite(price)
                                                else model.reference_price())
        model.cash.pay(model.developer_ids[developer], model.cash.ids([self.account])[0], fine)
        model.tally.fines_usd += fine
        # Detection counts against the over-claims of the recorded months it is a share of.
        recorded = batches >= model.first_recorded_batch
        model.tally.detected_over_tco2 += int(model.truth.over_credited[batches[recorded]].sum())
        model.truth.inflated[batches] = False
        model.truth.over_credited[batches] = 0
        model.projects.inflation[project] = 0.0
        verifiers = np.unique(model.truth.view("verifier")[batches])
        model.verifiers.strike(verifiers[verifiers >= 0], model.config.verifiers)

    def apply_event(self, kind: str, project_type: str | None, severity: float,
                    path: str | None = None, value: object = None) -> None:
        """Fire a scheduled or triggered event now."""
        model: VCMModel = self.model
        if kind == "scandal":
            if project_type == "all":
                model.sentiment.shock_sector(severity)
            else:
                kind_idx = (model.types.names.index(project_type) if project_type
                            else model.most_retired_type())
                model.sentiment.shock(kind_idx, severity,
                                      model.config.sentiment.sector_contagion)
            model.tally.scandals += 1
        elif kind == "wildfire":
            nature = model.config.nature
            hit = (model.draws("events").random(nature.regions)
                   < max(severity, 1.0 / nature.regions))
            model.fire_season = np.where(hit, nature.wildfire_multiplier, 1.0)
            model.fire_season_until = model.month_index + nature.wildfire_months
        elif kind == "suspend_issuance":
            model.issuance_open = False
        elif kind == "resume_issuance":
            model.issuance_open = True
        elif kind == "set":
            model.set_rule(path, value)
        else:
            raise ValueError(f"unknown event kind {kind!r}; expected scandal, wildfire, "
                             "suspend_issuance, resume_issuance or set")
