"""The story of one world in plain words, as it happens ("day 12: the regional organisation's early
warning flags rising tension in Kenya").

Reads the model's event log (:mod:`sim.events`) incrementally, so telling the story costs only the
day's new events. Event kinds are matched by *name*, so new kinds the model adds are still told
(with the model's own wording, or a generic sentence), never dropped or crashing the page.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# One vocabulary for the report's story (sim.story) and the dashboard's: phases, tools and actors.
from sim.events import ACTORS
from sim.story import actor_words, phase_words, tool_words

NEVER = np.iinfo(np.int32).max


@dataclass(frozen=True)
class Line:
    """One sentence of the story: its day, text and tone (bad, good, act or info) for colour."""

    day: int
    text: str
    tone: str = "info"
    kind: str = ""
    site: int = -1

    def __str__(self) -> str:
        return f"day {self.day}: {self.text}"


def _phase(value: float) -> str:
    from sim.config import PHASES

    return phase_words(int(min(max(value, 0), len(PHASES) - 1)))


def _talks(value: float) -> str:
    return "indirect talks (through go-betweens)" if value >= 0.5 else "direct talks between the leaders"


class Narrator:
    """Tells world ``world`` of ``model`` in plain words; :meth:`update` adds the new events."""

    def __init__(self, model, world: int = 0):
        self.model, self.world = model, world
        self.lines: list[Line] = []
        self._seen = 0

    # -- reading the log -----------------------------------------------------------------------
    def _new_events(self):
        """(day, kind name, site, actor, value) of this world's events not told yet: the log's chunks
        recorded since the last call (``EventLog.columns(since=...)``), so a day costs only its events."""
        log = getattr(self.model, "events", None)
        if log is None:
            return []
        from sim.events import EventKind

        cols = log.columns(since=self._seen)
        self._seen = log.n_chunks
        mine = np.flatnonzero(np.asarray(cols["world"]) == self.world)
        return [(int(cols["day"][i]), _kind_name(EventKind, cols["kind"][i]), int(cols["site"][i]),
                 int(cols["actor"][i]), float(cols["value"][i])) for i in mine]

    def update(self) -> list[Line]:
        """Tell the events since the last call; return the new lines."""
        new = []
        for event in self._new_events():
            line = self.describe(*event)
            last = new[-1] if new else (self.lines[-1] if self.lines else None)
            if line is not None and line != last:  # both actors' "critical moment passes" told once
                new.append(line)
        self.lines.extend(new)
        return new

    # -- words -----------------------------------------------------------------------------------
    def site_name(self, site: int) -> str:
        names = getattr(self.model, "site_names", None) or [getattr(s, "name", str(i))
                                                            for i, s in enumerate(self.model.sites)]
        return names[site] if 0 <= site < len(names) else f"country {site}"

    def _warned_days_ago(self, actor: int, site: int, day: int) -> str:
        """", 14 days after the warning" when the responder's warning day is known."""
        responder = {1: getattr(self.model, "un", None), 2: getattr(self.model, "regional", None)}.get(actor)
        warn = getattr(responder, "first_warning", None)
        if warn is None:
            return ""
        try:
            w = int(np.asarray(warn)[site, self.world])
        except (IndexError, TypeError):
            return ""
        return f", {day - w} days after the first warning" if w < NEVER else ""

    def describe(self, day: int, kind: str, site: int, actor: int, value: float) -> Line | None:
        where = self.site_name(site)
        who = ACTORS[actor] if 0 < actor < len(ACTORS) else "outside actor"
        the = actor_words(actor) if 0 < actor < len(ACTORS) else "an outside actor"
        text, tone = None, "info"
        if kind == "TRIGGER":
            text, tone = f"a shock (an election, a coup) hits {where}", "bad"
        elif kind == "PHASE_UP":
            text = f"{where} slides into {_phase(value)}"
            tone = "bad"
        elif kind == "PHASE_DOWN":
            text, tone = f"tension in {where} eases: {_phase(value)} now", "good"
        elif kind == "WARNING":
            text, tone = f"{the}'s early warning flags rising tension in {where}", "act"
        elif kind == "FALSE_ALARM":
            text = f"{the}'s warning on {where} was a false alarm: tension was lower than feared"
        elif kind == "FIRST_STEP":
            gap = f", {int(day - value)} days after its warning" if value else ""
            text, tone = f"{the} takes its first step in {where}: a statement of concern{gap}", "act"
        elif kind == "RUNG":
            text, tone = f"{the} steps up in {where} to {tool_words(int(value))}", "act"
        elif kind == "ENVOY_REQUEST":
            ready = f": one can be on the ground by day {int(value)}" if value > day else ""
            text, tone = f"{the} asks for an envoy for {where}{ready}", "act"
        elif kind == "DEPLOYMENT":
            text = f"a {who} envoy arrives in {where}{self._warned_days_ago(actor, site, day)}"
            tone = "act"
        elif kind == "APPROACH":
            text, tone = f"the {who} envoy in {where} switches to {_talks(value)}", "act"
        elif kind == "RESOLVED":
            text, tone = f"the critical moment passes in {where}", "good"
        elif kind == "RELAPSE":
            text, tone = f"{where} falls back into crisis after it had calmed", "bad"
        elif kind == "WIND_DOWN":
            text = f"{the} winds down its engagement in {where}"
        elif kind == "SETTLEMENT":
            text, tone = f"the fighting in {where} ends: a settlement, or one side gives up", "good"
        elif kind == "FALLBACK":
            text, tone = f"the war in {where} falls back to lower-intensity fighting", "good"
        elif kind == "PREFERENCE_SHIFT":
            text = f"the parties in {where} now prefer {_talks(value)}"
        else:
            text = self._fallback(day, kind, site, actor, value)
        return Line(int(day), text, tone, kind, site)

    def _fallback(self, day, kind, site, actor, value) -> str:
        """An event kind this narrator does not know: the model's own words, or a generic sentence."""
        try:
            from sim.events import Event, EventKind

            event = Event(day, self.world, site, EventKind[kind], actor, value)
            text = event.describe([self.site_name(i) for i in range(max(site + 1, 1))])
            return text.split(":", 1)[1].strip() if ":" in text else text
        except Exception:  # noqa: BLE001 - any new kind must still be told
            return f"{kind.lower().replace('_', ' ')} in {self.site_name(site)}"


def _kind_name(enum, kind) -> str:
    try:
        return enum(int(kind)).name
    except ValueError:
        return f"EVENT_{int(kind)}"
