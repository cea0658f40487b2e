"""The event log: what happened, where and when, in every replicate world (sim.story tells it as prose).

Events are recorded column-wise (day, world, site, kind, actor, value) in chunks of NumPy arrays, so
logging all R worlds costs a few array appends a day; :meth:`EventLog.for_world` reads one world back.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from sim.config import PHASES, TOOLS


class EventKind(IntEnum):
    TRIGGER = 0  # election, coup or other triggering event (§35-40)
    PHASE_UP = 1  # tension crossed a phase threshold upwards
    PHASE_DOWN = 2
    WARNING = 3  # an actor's early-warning system raised a warning
    FALSE_ALARM = 4  # ... while true tension was still low
    FIRST_STEP = 5  # the first step on the ground after the warning-to-action lag
    RUNG = 6  # the response climbed a rung of the tool ladder
    DEPLOYMENT = 7  # an envoy arrived
    APPROACH = 8  # a mediator changed approach (direct <-> indirect talks)
    RESOLVED = 9  # the critical moment passed
    RELAPSE = 10  # tension returned to crisis after resolution
    WIND_DOWN = 11  # engagement ended, envoy back on the roster
    PREFERENCE_SHIFT = 12  # the local preference for talks changed
    SETTLEMENT = 13  # an armed conflict ended (settlement, exhaustion or victory); value: phase before
    FALLBACK = 14  # a war fell back to minor armed conflict
    ENVOY_REQUEST = 15  # an actor asked for an envoy from its roster; value: the day it can be ready


ACTORS = ("site", "UN", "regional organisation", "civil society")


@dataclass
class Event:
    day: int
    world: int
    site: int
    kind: EventKind
    actor: int
    value: float

    def describe(self, site_names: list[str]) -> str:
        site = site_names[self.site] if 0 <= self.site < len(site_names) else str(self.site)
        who = ACTORS[self.actor] if 0 <= self.actor < len(ACTORS) else "?"
        v = self.value
        talks = "indirect talks" if v >= 0.5 else "direct talks"
        # Callables, so that only this event's text is built (values mean different things per kind).
        text = {
            EventKind.TRIGGER: lambda: f"a triggering event (election or coup) shocks {site}",
            EventKind.PHASE_UP: lambda: f"{site} escalates to {PHASES[int(v)]}",
            EventKind.PHASE_DOWN: lambda: f"{site} de-escalates to {PHASES[int(v)]}",
            EventKind.WARNING: lambda: f"{who} early warning on {site} (estimated tension {v:.2f})",
            EventKind.FALSE_ALARM: lambda: f"{who} finds its warning on {site} was a false alarm "
            f"(true tension {v:.2f}) and stands down",
            EventKind.FIRST_STEP: lambda: f"{who} takes its first step on {site} ({TOOLS[0]}), "
            f"{self.day - int(v)} days after its warning",
            EventKind.RUNG: lambda: f"{who} response on {site} climbs to {TOOLS[int(v)]}",
            EventKind.DEPLOYMENT: lambda: f"{who} envoy #{int(v)} arrives in {site}",
            EventKind.APPROACH: lambda: f"{who} mediator in {site} shifts to {talks}",
            EventKind.RESOLVED: lambda: f"critical moment passes in {site}",
            EventKind.RELAPSE: lambda: f"{site} relapses into crisis",
            EventKind.WIND_DOWN: lambda: f"{who} winds down engagement in {site}",
            EventKind.PREFERENCE_SHIFT: lambda: f"local preference in {site} shifts to {talks}",
            EventKind.SETTLEMENT: lambda: f"the {PHASES[int(v)].replace('_', ' ')} in {site} ends "
            "(settlement, exhaustion or victory)",
            EventKind.FALLBACK: lambda: f"the war in {site} falls back to armed conflict",
            EventKind.ENVOY_REQUEST: lambda: f"{who} asks for an envoy for {site} (ready on day {int(v)})",
        }[self.kind]()
        return f"day {self.day:4d}: {text}"


class EventLog:
    """Events across all replicate worlds, stored as chunks: one chunk per (day, kind, actor) with the
    flat (site, world) indices where it happened and, if given, a value for each."""

    def __init__(self, enabled: bool = True, n_worlds: int = 1):
        self.enabled = enabled
        self.n_worlds = n_worlds
        self._chunks: list[tuple[int, int, int, np.ndarray, np.ndarray | None]] = []

    def record(self, day: int, kind: EventKind, mask: np.ndarray, actor: int = 0, value=None):
        """Record one event for every (site, world) where ``mask`` (shape S x R) is true; ``value`` is a
        scalar or an S x R array read at those places."""
        if not self.enabled or not mask.any():
            return
        flat = np.flatnonzero(mask)
        if value is not None and np.ndim(value) > 0:
            value = np.asarray(value).reshape(-1)[flat]
        self.record_at(day, kind, flat, actor, value)

    def record_at(self, day: int, kind: EventKind, flat: np.ndarray, actor: int = 0, value=None):
        """Record one event at each flat (site, world) index; ``value`` a scalar or one per index."""
        if not self.enabled or flat.size == 0:
            return
        if value is None:
            vals = None
        elif isinstance(value, np.ndarray) and value.ndim:  # the common case first (np.ndim is a slow dispatch)
            vals = value.astype(np.float32, copy=False)
        elif np.ndim(value) == 0:
            vals = np.full(flat.size, value, dtype=np.float32)
        else:
            vals = np.asarray(value, dtype=np.float32)
        self._chunks.append((day, int(kind), actor, flat.astype(np.int32), vals))

    @property
    def n_chunks(self) -> int:
        """How many chunks are recorded so far: pass it to ``columns(since=...)`` to read only newer events."""
        return len(self._chunks)

    def columns(self, since: int = 0) -> dict[str, np.ndarray]:
        """All events (or those recorded after chunk ``since``) as columns: day, world, site, kind, actor, value."""
        if since:
            newer = EventLog(self.enabled, self.n_worlds)
            newer._chunks = self._chunks[since:]
            return newer.columns()
        if not self._chunks:
            empty = np.zeros(0, dtype=np.int32)
            return {"day": empty, "world": empty, "site": empty, "kind": empty.astype(np.int8),
                    "actor": empty.astype(np.int8), "value": empty.astype(np.float32)}
        sizes = [c[3].size for c in self._chunks]
        flat = np.concatenate([c[3] for c in self._chunks])
        site, world = np.divmod(flat, self.n_worlds)
        return {
            "day": np.repeat([c[0] for c in self._chunks], sizes).astype(np.int32),
            "world": world.astype(np.int32),
            "site": site.astype(np.int16),
            "kind": np.repeat([c[1] for c in self._chunks], sizes).astype(np.int8),
            "actor": np.repeat([c[2] for c in self._chunks], sizes).astype(np.int8),
            "value": np.concatenate(
                [c[4] if c[4] is not None else np.zeros(c[3].size, np.float32) for c in self._chunks]
            ),
        }

    def __len__(self) -> int:
        return sum(c[3].size for c in self._chunks)

    def for_world(self, world: int) -> list[Event]:
        """All events of one replicate world, in the order they happened."""
        events = []
        for day, kind, actor, flat, vals in self._chunks:
            site, w = np.divmod(flat, self.n_worlds)
            for i in np.flatnonzero(w == world):
                value = float(vals[i]) if vals is not None else 0.0
                events.append(Event(day, world, int(site[i]), EventKind(kind), actor, value))
        return events
