"""Compare mode: two policies on the same worlds and the same random numbers (§59-60).

Both ensembles use the same seed, so world k under policy A and world k under policy B see the same
triggers and noise (common random numbers, sim.streams): the paired difference in escalation
(sim.stats.paired_difference, Newcombe's interval) is the effect of the policy change alone, and the
two stories of world 0 differ only where the policies do.
"""

from __future__ import annotations

from sim.app.levers import default_policy, lever
from sim.app.world import DEFAULT_WORLDS, DashboardModel
from sim.stats import paired_difference

#: Ready-made comparisons a facilitator can pick: (title, lever, A, B).
PRESETS = (
    ("Act within a week, or after two months (§47)", "warning_to_action_lag_days", 7, 60),
    ("Rigid or flexible envoys (§48-50)", "flexibility", 0.1, 0.9),
    ("Divided or close partnership (§51-55)", "partnership", 0.1, 0.9),
    ("Leave at once, or stay a year (§56-58)", "sustainability_days", 0, 365),
    ("Poor or good early warning (§44-46)", "early_warning", 0.1, 0.9),
)


class ComparePair:
    """Policy A and policy B, differing in one lever, run side by side on the same worlds."""

    def __init__(self, scenario: str = "generic", lever_name: str = "warning_to_action_lag_days", a=7, b=60,
                 replicates: int = DEFAULT_WORLDS, seed: int = 0, horizon_days: int | None = None):
        lv = lever(lever_name)
        self.lever, self.a_value, self.b_value = lv, lv.clamp(a), lv.clamp(b)
        base = default_policy()
        self.a = DashboardModel(scenario, policy={**base, lv.name: self.a_value}, replicates=replicates,
                                seed=seed, horizon_days=horizon_days)
        self.b = DashboardModel(scenario, policy={**base, lv.name: self.b_value}, replicates=replicates,
                                seed=seed, horizon_days=horizon_days)

    def label(self, which: str) -> str:
        value = self.a_value if which == "A" else self.b_value
        return f"{self.lever.label} {value:g} {self.lever.unit if self.lever.integer else ''}".strip()

    def step(self, days: int = 1) -> None:
        for _ in range(days):
            if not (self.a.running or self.b.running):
                break
            if self.a.running:
                self.a.step()
            if self.b.running:
                self.b.step()

    def run_to_end(self) -> None:
        while self.a.running or self.b.running:
            self.step()

    @property
    def day(self) -> int:
        return int(self.a.day)

    @property
    def finished(self) -> bool:
        return not (self.a.running or self.b.running)

    def difference(self) -> dict:
        """P(escalated under B) - P(escalated under A) so far, paired by world, with its 95 % interval."""
        return paired_difference(self.b.escalated(), self.a.escalated())
