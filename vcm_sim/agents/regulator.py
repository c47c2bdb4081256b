"""The regulator (standard body): audits projects, sanctions, and scheduled policy events."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from vcm_sim.agents.base import Member
from vcm_sim.agents.verifier import with_satellites
from vcm_sim.projects import STEPS_PER_YEAR

if TYPE_CHECKING:
    from vcm_sim.jurisdiction import Jurisdiction


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
        market: Jurisdiction = self.market
        rules = market.config.rules.integrity
        projects = market.projects
        draw = market.draws("audits").random((len(projects), 2))
        audited = draw[:, 0] < rules.project_audit_rate / STEPS_PER_YEAR
        if not audited.any():
            return 0
        over = np.bincount(market.truth.view("project"), weights=market.truth.view("over_credited"),
                           minlength=len(projects))
        inflated = audited & (over > 0)
        found = draw[:, 1] < self.audit_detection(
            rules.audit_rigour, rules.satellite_mrv, market.config.verifiers.satellite_boost)
        caught = (inflated & found).nonzero()[0]
        for p in caught.tolist():
            self._sanction(market, p)
        return len(caught)

    def _sanction(self, market: Jurisdiction, project: int) -> None:
        rules = market.config.rules.integrity
        batches = ((market.truth.view("project") == project)
                   & market.truth.view("inflated")).nonzero()[0]
        over = int(market.truth.over_credited[batches].sum())
        developer = market.projects.developer[project]
        account = market.developer_accounts[developer]
        remaining = over
        for b in batches.tolist():
            held = market.registry.balance(account, b)
            take = min(held, remaining)
            if take:
                market.registry.cancel(b, account, take,
                                      reason=f"audit: over-crediting of project {project}")
                remaining -= take
        price = market.latest_price_by_type[market.projects.kind[project]]
        fine = rules.penalty_multiple * over * (price if np.isfinite(price)
                                                else market.reference_price())
        market.cash.pay(market.developer_ids[developer], market.cash.ids([self.account])[0], fine,
                        "fines")
        market.tally.fines_usd += fine
        # Detection counts against the over-claims of the recorded months it is a share of.
        recorded = batches >= market.first_recorded_batch
        market.tally.detected_over_tco2 += int(market.truth.over_credited[batches[recorded]].sum())
        market.truth.inflated[batches] = False
        market.truth.over_credited[batches] = 0
        market.raters.evidence(market.projects, np.array([project]))
        market.projects.inflation[project] = 0.0
        verifiers = np.unique(market.truth.view("verifier")[batches])
        market.verifiers.strike(verifiers[verifiers >= 0], market.config.verifiers)

    def apply_event(self, kind: str, project_type: str | None, severity: float,
                    path: str | None = None, value: object = None) -> None:
        """Fire a scheduled or triggered event now."""
        market: Jurisdiction = self.market
        if kind == "scandal":
            if project_type == "all":
                market.sentiment.shock_sector(severity)
            else:
                kind_idx = (market.types.names.index(project_type) if project_type
                            else market.most_retired_type())
                market.sentiment.shock(kind_idx, severity,
                                      market.config.sentiment.sector_contagion)
            market.tally.scandals += 1
        elif kind == "wildfire":
            nature = market.config.nature
            hit = (market.draws("events").random(nature.regions)
                   < max(severity, 1.0 / nature.regions))
            market.fire_season = np.where(hit, nature.wildfire_multiplier, 1.0)
            market.fire_season_until = market.month_index + nature.wildfire_months
        elif kind == "suspend_issuance":
            market.issuance_open = False
        elif kind == "resume_issuance":
            market.issuance_open = True
        elif kind == "set":
            market.set_rule(path, value)
        else:
            raise ValueError(f"unknown event kind {kind!r}; expected scandal, wildfire, "
                             "suspend_issuance, resume_issuance or set")
