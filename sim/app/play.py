"""Play mode: the room is the responder.

The crisis runs until a **decision point** in the world on screen (world 0): the UN's early warning on a
country, the UN's request for an envoy, fighting breaking out (the first time in a country), or a relapse into
crisis. The room chooses (act now or wait, which tool, which approach, whether to ask the regional organisation to
act with it) and the run goes on.

How a choice acts on the model, through its public state between two steps:

- it sets the policy fields the model reads every day (``model.policy``: the lag for new warnings, the
  tool ceiling, coordination and burden-sharing, flexibility, funding predictability, sustainability),
  so from that day it holds in every world of the ensemble, as a rule the room has adopted;
- in world 0 it also moves the pending step itself, through the responder's agenda hooks
  (``Responder.reschedule`` / ``Responder.cancel``): the first step after *this* warning (``"start"``) or
  the envoy's arrival (``"ready"``);
- an approach is the envoy's opening stance (``dynamics.default_approach``), applied to the envoy already
  in place in world 0 with ``Mediator.set_approach``.

Decision points are read from the model's event log (``EventLog.columns(since=...)``): the UN's
``WARNING`` and ``ENVOY_REQUEST``, ``PHASE_UP`` into armed conflict, ``RELAPSE``.

At the end the room's choices, read as a decision rule (the last choice on each question), are replayed
over all worlds from day 0 beside the default policy and the no-action twin, on the same random numbers,
with Wilson intervals and paired differences (:mod:`sim.stats`). Everything is recorded and exported as
JSON with the run's full config.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from sim.app.levers import TOOL_LABELS, default_policy, tool_choices
from sim.app.world import DEFAULT_WORLDS, DashboardModel, build_config
from sim.stats import paired_difference, proportion

NEVER = np.iinfo(np.int32).max
UN = 1  # sim.events.ACTORS: the UN's actor number in the event log
ACTIVE = 2  # sim.agents.Stage.ACTIVE
FIGHTING = 3  # phase index of armed conflict (sim.config.PHASES)

#: The questions a decision point asks, each with its options in plain words.
WAIT = {"Act now": 0, "Wait a week": 7, "Wait a month": 30, "Wait three months": 90}
PARTNER = {"Ask the regional organisation to act with us": 0.9, "Go it alone": 0.0}
ENVOY = {"Send the standby team now": "now", "Wait for regular funding": "wait",
         "No envoy: stay with fact-finding": "none"}
APPROACH = {"Let the envoy adapt to what the parties want": "adapt", "Direct talks between the leaders": 0.0,
            "Indirect talks through go-betweens": 1.0}
STAY = {"Re-engage and stay a year after it calms": 365, "Keep the usual period": None,
        "Leave as soon as it calms": 0}


@dataclass
class Decision:
    """A decision point: what happened in the world on screen and the questions the room answers."""

    kind: str  # "warning", "envoy", "fighting" or "relapse"
    day: int
    site: int
    site_name: str
    title: str
    questions: dict[str, list[str]] = field(default_factory=dict)  # question -> options (first = default)

    def defaults(self) -> dict[str, str]:
        return {q: opts[0] for q, opts in self.questions.items()}


class PlaySession:
    """One play-through: the live ensemble, the pending decision, the room's choices and the replay."""

    def __init__(self, scenario: str = "generic", replicates: int = DEFAULT_WORLDS, seed: int = 0,
                 policy: dict | None = None, horizon_days: int | None = None):
        self.scenario, self.replicates, self.seed, self.horizon_days = scenario, replicates, seed, horizon_days
        self.base_policy = {**default_policy(), **(policy or {})}
        self.model = DashboardModel(scenario, policy=self.base_policy, replicates=replicates, seed=seed,
                                    horizon_days=horizon_days)
        self.rule: dict[str, Any] = {}  # policy fields the room has set
        self.dynamics_rule: dict[str, Any] = {}
        self.choices: list[dict] = []
        self.pending: Decision | None = None
        self.replay_rows: list[dict] | None = None
        self.paired: dict[str, dict] = {}
        self._fought: set[int] = set()  # countries where the room was already asked about fighting
        self._seen = self.model.events.n_chunks  # the event log read so far (EventLog.columns(since=...))

    # -- running to the next decision -------------------------------------------------------------
    def _new_events(self) -> dict[str, np.ndarray]:
        """World 0's events recorded since the last call, as columns (sim.events.EventLog)."""
        log = self.model.events
        cols = log.columns(since=self._seen)
        self._seen = log.n_chunks
        mine = np.asarray(cols["world"]) == 0
        return {k: np.asarray(v)[mine] for k, v in cols.items()}

    def detect(self) -> Decision | None:
        """A decision point reached on the last day in world 0, if any (the first one found): the UN's
        WARNING, the UN's ENVOY_REQUEST, a PHASE_UP into armed conflict (once per country), a RELAPSE."""
        from sim.events import EventKind

        ev = self._new_events()
        m, day = self.model, self.model.day
        names = m.site_names
        kind, actor, site = ev["kind"], ev["actor"], ev["site"]

        def first(mask) -> int | None:
            hits = np.flatnonzero(mask)
            return int(site[hits[0]]) if hits.size else None

        s = first((kind == EventKind.WARNING) & (actor == UN))
        if s is not None:
            questions = {"When do we act?": list(WAIT),
                         "How far up the ladder may we go?": [TOOL_LABELS.get(t, t) for t in self._tools()]}
            if getattr(m, "regional", None) is not None:
                questions["The regional organisation?"] = list(PARTNER)
            return Decision("warning", day, s, names[s],
                            f"Day {day}: early warning. Tension is rising in {names[s]}.", questions)
        s = first((kind == EventKind.ENVOY_REQUEST) & (actor == UN))
        if s is not None:
            return Decision("envoy", day, s, names[s],
                            f"Day {day}: the UN asks for an envoy for {names[s]}.",
                            {"An envoy?": list(ENVOY), "Which approach?": list(APPROACH)})
        up = (kind == EventKind.PHASE_UP) & (ev["value"] >= FIGHTING)
        fought = [int(x) for x in site[up]]
        new = [x for x in fought if x not in self._fought]
        self._fought.update(fought)
        if new:
            s = new[0]
            return Decision("fighting", day, s, names[s], f"Day {day}: fighting has broken out in {names[s]}.",
                            {"How far up the ladder now?": [TOOL_LABELS.get(t, t) for t in self._tools()]})
        s = first(kind == EventKind.RELAPSE)
        if s is not None:
            return Decision("relapse", day, s, names[s], f"Day {day}: {names[s]} has fallen back into crisis.",
                            {"How long do we stay once it calms again?": list(STAY)})
        return None

    def _cells(self, site: int) -> np.ndarray:
        """The flat (site, world) cell of ``site`` in world 0, as the responders' agenda keys it."""
        return np.array([site * self.model.replicates], dtype=np.int64)

    def _tools(self) -> list[str]:
        """The tools, the current ceiling first (the default answer)."""
        tools = list(tool_choices())
        current = getattr(self.model.policy, "tool", tools[0])
        return [current, *[t for t in tools if t != current]]

    def advance(self, max_days: int | None = None) -> Decision | None:
        """Run day by day until a decision point, the horizon or ``max_days``; return the decision."""
        if self.pending is not None:
            return self.pending
        days = 0
        while self.model.running and (max_days is None or days < max_days):
            self.model.step()
            days += 1
            decision = self.detect()
            if decision is not None:
                self.pending = decision
                return decision
        return None

    @property
    def finished(self) -> bool:
        return not self.model.running and self.pending is None

    # -- the room decides ---------------------------------------------------------------------------
    def decide(self, answers: dict[str, str] | None = None) -> dict:
        """Apply the room's answers to the pending decision (defaults for any question left out)."""
        d = self.pending
        if d is None:
            raise ValueError("there is no decision to take: run to the next decision first")
        answers = {**d.defaults(), **(answers or {})}
        for q, a in answers.items():
            if q in d.questions and a not in d.questions[q]:
                raise ValueError(f"answer {a!r} to {q!r} is not one of: {', '.join(d.questions[q])}")
        notes = getattr(self, f"_apply_{d.kind}")(d, answers)
        record = {"day": d.day, "decision": d.kind, "country": d.site_name, "answers": answers,
                  "policy_now": {k: _plain(getattr(self.model.policy, k, None)) for k in sorted(self.rule)},
                  "notes": notes}
        self.choices.append(record)
        self.pending = None
        return record

    def _set_policy(self, **values) -> None:
        for key, value in values.items():
            if hasattr(self.model.policy, key):
                setattr(self.model.policy, key, value)
                self.rule[key] = value

    def _apply_warning(self, d: Decision, answers: dict) -> list[str]:
        notes = []
        wait = WAIT[answers["When do we act?"]]
        tool_label = answers.get("How far up the ladder may we go?")
        tool = {TOOL_LABELS.get(t, t): t for t in tool_choices()}.get(tool_label)
        self._set_policy(warning_to_action_lag_days=wait)
        if tool:
            self._set_policy(tool=tool)
        partner = answers.get("The regional organisation?")
        if partner is not None:
            level = PARTNER[partner]
            self._set_policy(coordination=level, burden_sharing=level)
        un = self.model.un
        warn = _cell(un, "warn_day", d.site)
        if warn is None:  # the warning was withdrawn on the day it was given
            return ["no pending warning in the world on screen: the lag applies to later warnings"]
        if int(un.act_day[d.site, 0]) <= self.model.day:  # a lag of 0: the first step was taken today
            return [f"the first step in {d.site_name} was taken on the day of the warning"]
        new_day = max(self.model.day + 1, warn + wait)
        un.reschedule("start", self._cells(d.site), new_day)
        un.act_day[d.site, 0] = new_day
        notes.append(f"first step in {d.site_name} on day {new_day}")
        return notes

    def _apply_envoy(self, d: Decision, answers: dict) -> list[str]:
        notes = []
        choice = ENVOY[answers["An envoy?"]]
        m = self.model
        un = m.un
        if choice == "now":
            self._set_policy(funding_predictability=1.0)
            standby = int(np.asarray(m.dyn.standby_days).reshape(-1)[0])
            new_day = m.day + max(standby, 1)
            un.reschedule("ready", self._cells(d.site), new_day)
            un.envoy_ready_day[d.site, 0] = new_day
            notes.append(f"envoy on the ground in {d.site_name} by day {new_day}")
        elif choice == "none":
            self._set_policy(tool="fact_finding")
            un.cancel("ready", self._cells(d.site))
            un.envoy_ready_day[d.site, 0] = NEVER
            notes.append(f"no envoy for {d.site_name}")
        approach = APPROACH[answers["Which approach?"]]
        if approach == "adapt":
            self._set_policy(flexibility=0.9)
        else:
            self._set_policy(flexibility=0.1)
            if hasattr(m.dyn, "default_approach"):  # envoys sent from now on open with it
                m.dyn.default_approach = np.float32(approach)
                self.dynamics_rule["default_approach"] = approach
            world0 = np.array([0])
            for med in un.mediators:  # the envoy already in place in world 0 switches now
                if int(med.site[0]) == d.site:
                    med.set_approach(world0, approach)
        return notes

    def _apply_fighting(self, d: Decision, answers: dict) -> list[str]:
        label = answers["How far up the ladder now?"]
        tool = {TOOL_LABELS.get(t, t): t for t in tool_choices()}.get(label)
        if tool:
            self._set_policy(tool=tool)
        return [f"the ladder now goes up to {label}"]

    def _apply_relapse(self, d: Decision, answers: dict) -> list[str]:
        stay = STAY[answers["How long do we stay once it calms again?"]]
        if stay is None:
            stay = self.base_policy.get("sustainability_days")
        self._set_policy(sustainability_days=int(stay))
        return [f"engagement stays {int(stay)} days after the critical moment"]

    # -- the end: replay over all worlds ----------------------------------------------------------------
    def room_policy(self) -> dict:
        return {**self.base_policy, **{k: _plain(v) for k, v in self.rule.items()}}

    def replay(self, replicates: int | None = None) -> list[dict]:
        """The room's rule, the default policy and no action, over the same worlds from day 0."""
        from sim.model import PreventiveDiplomacyModel

        R = replicates or self.replicates
        runs = [("Your choices", self.room_policy(), self.dynamics_rule),
                ("Default policy", default_policy(), {}),
                ("No action (the twin)", {**default_policy(), "intervene": False}, {})]
        rows, flags = [], {}
        for label, policy, dyn in runs:
            cfg = build_config(self.scenario, policy, R, self.seed, self.horizon_days, dyn)
            model = PreventiveDiplomacyModel(cfg)
            model.run()
            escalated = np.asarray(model.first_escalation) < NEVER
            flags[label] = escalated
            rows.append({"label": label, **proportion(escalated), "worlds": R})
        mine = flags["Your choices"]
        self.paired = {
            "vs default policy": paired_difference(mine, flags["Default policy"]),
            "vs no action": paired_difference(mine, flags["No action (the twin)"]),
        }
        self.replay_rows = rows
        return rows

    # -- the record ---------------------------------------------------------------------------------
    def export(self) -> dict:
        """The room's choices with the run's config, JSON-ready."""
        from omegaconf import OmegaConf

        try:
            config = OmegaConf.to_container(OmegaConf.structured(self.model.config))
        except Exception:  # noqa: BLE001 - a config the schema no longer describes: keep what we can
            config = {"scenario": self.scenario, "seed": self.seed, "replicates": self.replicates}
        try:
            from sim import __version__ as version
        except ImportError:  # pragma: no cover
            version = "unknown"
        return {
            "what": "pdsim workshop play-through: the room's choices as the responder",
            "exported": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "pdsim_version": version,
            "scenario": self.scenario, "seed": self.seed, "replicates": self.replicates,
            "day_reached": int(self.model.day),
            "choices": self.choices,
            "decision_rule": {"policy": {k: _plain(v) for k, v in self.rule.items()},
                              "dynamics": dict(self.dynamics_rule)},
            "room_policy": self.room_policy(),
            "replay": self.replay_rows,
            "paired_differences": self.paired,
            "pending": asdict(self.pending) if self.pending else None,
            "config": config,
        }

    def export_json(self) -> str:
        return json.dumps(self.export(), indent=2, default=_plain)


def _plain(v):
    if isinstance(v, np.generic):
        return v.item()
    return v


def _cell(responder, attr: str, site: int, world: int = 0):
    arr = getattr(responder, attr, None)
    if arr is None:
        return None
    value = int(np.asarray(arr)[site, world])
    return None if value == NEVER else value
