"""The model as the dashboard runs it: an ensemble of R worlds, of which world 0 is on screen.

:class:`DashboardModel` is :class:`sim.model.PreventiveDiplomacyModel` built from keyword arguments
(so Mesa's SolaraViz re-creates it from its sliders on Reset) that also keeps, day by day, what the screen
shows: world 0's tension per country, the ensemble's quantiles of regional tension, and the
escalation probability so far with its Wilson interval (:mod:`sim.stats`). It reads the model only
through public attributes and tolerates missing ones (the core is being reworked).
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from sim.app.narrate import Narrator
from sim.config import PHASES
from sim.model import PreventiveDiplomacyModel
from sim.runner import configure
from sim.stats import proportion

#: Worlds run alongside the one on screen (a few hundred: a smooth fan, an interval of a few points).
DEFAULT_WORLDS = 300
FAN = (0.05, 0.25, 0.5, 0.75, 0.95)
ARMED_LINE = 3.0  # tension at which a country is in armed conflict (sim.agents.ARMED_CONFLICT)


def build_config(scenario: str = "generic", policy: dict | None = None, replicates: int = DEFAULT_WORLDS,
                 seed: int = 0, horizon_days: int | None = None, dynamics: dict | None = None):
    """A validated RunConfig from a preset name and policy fields (through sim.runner.configure)."""
    overrides = [f"scenario={scenario}", f"replicates={int(replicates)}", f"seed={int(seed)}",
                 "output.plot=false", "output.progress=false"]
    if horizon_days is not None:
        overrides.append(f"horizon_days={int(horizon_days)}")
    for key, value in (policy or {}).items():
        overrides.append(f"policy.{key}={_fmt(value)}")
    for key, value in (dynamics or {}).items():
        overrides.append(f"dynamics.{key}={_fmt(value)}")
    try:
        from sim.validation import validate
    except ImportError:  # pragma: no cover - validation module renamed
        return configure(*overrides)
    return validate(configure(*overrides))


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class DashboardModel(PreventiveDiplomacyModel):
    """The ensemble of ``replicates`` worlds with a record of what the screen shows (world 0)."""

    def __init__(self, preset: str = "generic", warning_to_action_lag_days=None, flexibility=None,
                 partnership=None, early_warning=None, sustainability_days=None, roster_size=None,
                 tool=None, intervene=True, replicates: int = DEFAULT_WORLDS, seed: int = 0,
                 horizon_days: int | None = None, policy: dict | None = None, dynamics: dict | None = None,
                 config=None, scenario=None, **_ignored):
        # ``scenario`` is Mesa's: SolaraViz's Reset passes a fresh ``mesa.experimental.scenarios.Scenario``.
        # The preset is ``preset``; a preset name passed as ``scenario`` is still understood.
        if isinstance(scenario, str):
            preset = scenario
        scenario = preset
        if config is None:
            levers = dict(warning_to_action_lag_days=warning_to_action_lag_days, flexibility=flexibility,
                          partnership=partnership, early_warning=early_warning,
                          sustainability_days=sustainability_days, roster_size=roster_size, tool=tool,
                          intervene=intervene)
            chosen = {k: v for k, v in levers.items() if v is not None}
            chosen.update(policy or {})
            config = build_config(scenario, chosen, replicates, seed, horizon_days, dynamics)
        self._step_lock = threading.RLock()
        super().__init__(config)
        self.scenario_name = getattr(self.scenario_config, "name", None) or preset
        self.days: list[int] = []
        self.world_tension: list[np.ndarray] = []  # per day: world 0's tension per country
        self.world_regional: list[float] = []  # per day: world 0's highest tension in the region
        self.fan: list[np.ndarray] = []  # per day: FAN quantiles of the regional tension over worlds
        self.escalated_history: list[tuple[float, float, float]] = []  # per day: p, low, high
        self.narrator = Narrator(self, world=0)
        self.record()

    @property
    def site_names(self) -> list[str]:
        """The countries' names, in the model's order."""
        return [getattr(s, "name", str(i)) for i, s in enumerate(getattr(self, "sites", []))]

    # -- what the screen shows -------------------------------------------------------------------
    def step(self) -> None:
        # One step at a time: SolaraViz's play thread and the page's own buttons may both step the model.
        with self._step_lock:
            # Mesa's controls may press Step after the horizon (they learn ``running`` only from their own steps).
            if not self.running:
                return
            super().step()
            self.record()

    def record(self) -> None:
        tension = np.asarray(self.tension)
        regional = tension.max(axis=0)
        self.days.append(int(self.day))
        self.world_tension.append(tension[:, 0].astype(float).copy())
        self.world_regional.append(float(regional[0]))
        self.fan.append(np.quantile(regional, FAN))
        p = self.escalation()
        self.escalated_history.append((p["probability"], p["ci_low"], p["ci_high"]))
        self.narrator.update()

    def escalated(self) -> np.ndarray:
        """Per world: has any country reached armed conflict so far?"""
        first = getattr(self, "first_escalation", None)
        if first is not None:
            return np.asarray(first) <= self.day
        return np.asarray(self.tension).max(axis=0) >= ARMED_LINE  # pragma: no cover - renamed outcome

    def escalation(self) -> dict:
        """The share of worlds escalated so far, with its Wilson interval (sim.stats.proportion)."""
        return proportion(self.escalated())

    def phase_names(self, world: int = 0) -> list[str]:
        """The phase of each country in ``world``, as words."""
        phase = np.asarray(getattr(self, "phase", np.minimum(np.asarray(self.tension), 4).astype(int)))
        return [PHASES[int(min(max(p, 0), len(PHASES) - 1))] for p in phase[:, world]]

    def run_to(self, day: int) -> None:
        while self.running and self.day < day:
            self.step()

    def finished(self) -> bool:
        return not self.running
