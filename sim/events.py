"""The event log: what happened, where and when, in every replicate world, readable as a story.

Events are recorded column-wise (day, world, site, kind, actor, value) in chunks of NumPy arrays, so
logging all R worlds costs a few array appends a day; :meth:`EventLog.story` reads one world back.
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
        text = {
            EventKind.TRIGGER: f"a triggering event (election or coup) shocks {site}",
            EventKind.PHASE_UP: f"{site} escalates to {PHASES[int(v)]}",
            EventKind.PHASE_DOWN: f"{site} de-escalates to {PHASES[int(v)]}",
            EventKind.WARNING: f"{who} early warning on {site} (estimated tension {v:.2f})",
            EventKind.FALSE_ALARM: f"{who} warning on {site} was a false alarm (true tension {v:.2f})",
            EventKind.FIRST_STEP: f"{who} takes its first step on {site} ({TOOLS[0]}) after {v:.0f} days",
            EventKind.RUNG: f"{who} response on {site} climbs to {TOOLS[int(v)]}",
            EventKind.DEPLOYMENT: f"{who} envoy #{int(v)} arrives in {site}",
            EventKind.APPROACH: f"{who} mediator in {site} shifts to "
            + ("indirect talks" if v >= 0.5 else "direct talks"),
            EventKind.RESOLVED: f"critical moment passes in {site}",
            EventKind.RELAPSE: f"{site} relapses into crisis",
            EventKind.WIND_DOWN: f"{who} winds down engagement in {site}",
            EventKind.PREFERENCE_SHIFT: f"local preference in {site} shifts to "
            + ("indirect talks" if v >= 0.5 else "direct talks"),
        }[self.kind]
        return f"day {self.day:4d}: {text}"


class EventLog:
    """Column-wise store of events across all replicate worlds."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self._chunks: list[tuple[np.ndarray, ...]] = []

    def record(self, day: int, kind: EventKind, mask: np.ndarray, actor: int = 0, value=None):
        """Record one event for every (site, world) where ``mask`` (shape S x R) is true."""
        if not self.enabled or not mask.any():
            return
        sites, worlds = np.divmod(np.flatnonzero(mask), mask.shape[1])
        if value is None:
            vals = np.zeros(sites.size, dtype=np.float32)
        elif np.ndim(value) == 0:
            vals = np.full(sites.size, value, dtype=np.float32)
        else:
            vals = np.asarray(value)[sites, worlds].astype(np.float32)
        self._chunks.append(
            (
                np.full(sites.size, day, dtype=np.int32),
                worlds.astype(np.int32),
                sites.astype(np.int16),
                np.full(sites.size, int(kind), dtype=np.int8),
                np.full(sites.size, actor, dtype=np.int8),
                vals,
            )
        )

    def columns(self) -> dict[str, np.ndarray]:
        names = ("day", "world", "site", "kind", "actor", "value")
        if not self._chunks:
            return {n: np.zeros(0) for n in names}
        return {n: np.concatenate([c[i] for c in self._chunks]) for i, n in enumerate(names)}

    def __len__(self) -> int:
        return sum(c[0].size for c in self._chunks)

    def for_world(self, world: int) -> list[Event]:
        """All events of one replicate world, in the order they happened."""
        events = []
        for day, w, site, kind, actor, val in self._chunks:
            for i in np.flatnonzero(w == world):
                events.append(
                    Event(int(day[i]), world, int(site[i]), EventKind(int(kind[i])), int(actor[i]),
                          float(val[i]))
                )
        return events

    def story(self, world: int, site_names: list[str]) -> str:
        return "\n".join(e.describe(site_names) for e in self.for_world(world))
