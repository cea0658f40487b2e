"""The dashboard's levers, built from the schema in :mod:`sim.config` (one source of truth).

Every slider's default, range and unit come from the ``metadata`` of :class:`sim.config.PolicyConfig`
fields; nothing here repeats a number. ``tests/test_app.py`` checks that they agree.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from mesa.visualization.user_param import Slider

from sim.config import HEADLINE_LEVERS, TOOLS, PolicyConfig

#: Plain-language names of the levers, for a room of non-programmers (the report's words).
LABELS = {
    "warning_to_action_lag_days": "Warning-to-action lag",
    "flexibility": "Flexibility of envoys",
    "partnership": "UN-regional partnership",
    "early_warning": "Early-warning quality",
    "sustainability_days": "Sustainability: stay after the crisis",
    "roster_size": "UN envoys on the roster",
}

#: Report paragraphs behind each lever, shown beside it.
PARAGRAPHS = {
    "warning_to_action_lag_days": "§47",
    "flexibility": "§48-50",
    "partnership": "§51-55",
    "early_warning": "§44-46",
    "sustainability_days": "§56-58",
    "roster_size": "§17, §62",
}

#: Tool ladder names a room understands.
TOOL_LABELS = {
    "statement": "statement of concern",
    "fact_finding": "fact-finding mission",
    "envoy": "envoy",
    "mission": "political mission",
    "coercive": "coercive measures",
}

#: Slider ends for a lever whose schema range is open above (none of the headline levers today).
_WORKSHOP_MAX: dict[str, float] = {}


@dataclass(frozen=True)
class Lever:
    """One headline lever: its schema field, default, range, unit and step."""

    name: str
    default: Any
    lo: float
    hi: float
    unit: str
    source: str
    integer: bool

    @property
    def label(self) -> str:
        return LABELS.get(self.name, self.name.replace("_", " "))

    @property
    def step(self):
        return 1 if self.integer else 0.05

    def slider_label(self) -> str:
        """Label with unit and range, e.g. 'Warning-to-action lag (days, 0-730) §47'."""
        span = f"{self.lo:g}-{self.hi:g}"
        par = PARAGRAPHS.get(self.name, "")
        unit = self.unit if span in self.unit else f"{self.unit}, {span}"
        return f"{self.label} ({unit}) {par}".strip()

    def slider(self, value=None) -> Slider:
        """A Mesa ``Slider`` (mesa.visualization.user_param) for this lever."""
        value = self.default if value is None else value
        return Slider(
            self.slider_label(), value=value, min=self.lo, max=self.hi, step=self.step,
            dtype=int if self.integer else float,
        )

    def clamp(self, value):
        """``value`` forced into the lever's range (and type)."""
        v = min(max(value, self.lo), self.hi)
        return int(round(v)) if self.integer else float(v)


def _policy_fields() -> dict[str, Any]:
    return {f.name: f for f in fields(PolicyConfig)}


def lever(name: str) -> Lever:
    """The lever ``name`` as the schema declares it."""
    f = _policy_fields()[name]
    meta = dict(f.metadata)
    lo, hi = meta.get("range", (None, None))
    default = getattr(PolicyConfig(), name)
    integer = isinstance(default, int) and not isinstance(default, bool)
    if lo is None:
        lo = 0
    if hi is None:
        hi = _WORKSHOP_MAX.get(name, max(default * 10, 1))
    return Lever(name, default, lo, hi, meta.get("unit", ""), meta.get("source", ""), integer)


def headline_levers() -> list[Lever]:
    """The report's headline levers (sim.config.HEADLINE_LEVERS), in that order."""
    return [lever(n) for n in HEADLINE_LEVERS]


def tool_choices() -> tuple[str, ...]:
    """The tool ladder from the schema's choices (falls back to sim.config.TOOLS)."""
    meta = dict(_policy_fields()["tool"].metadata)
    return tuple(meta.get("choices", TOOLS))


def default_policy() -> dict[str, Any]:
    """The headline levers, the tool and the intervene switch at their schema defaults."""
    p = PolicyConfig()
    return {**{lv.name: lv.default for lv in headline_levers()}, "tool": p.tool, "intervene": p.intervene}


def model_params(scenario: str, replicates: int, seed: int, scenarios: list[str]) -> dict[str, Any]:
    """Mesa ``model_params`` for SolaraViz: a preset picker, the headline sliders, the tool, fixed R and seed.

    Keys are :class:`sim.app.world.DashboardModel` keyword arguments; the preset is ``preset`` because
    Mesa's Reset passes its own ``scenario`` (a ``mesa.experimental.scenarios.Scenario``)."""
    params: dict[str, Any] = {
        "preset": {"type": "Select", "value": scenario, "values": scenarios, "label": "Scenario preset"},
    }
    for lv in headline_levers():
        params[lv.name] = lv.slider()
    params["tool"] = {
        "type": "Select", "value": PolicyConfig().tool, "values": list(tool_choices()),
        "label": "Highest tool on the ladder (§12-14, §42)",
    }
    params["intervene"] = {"type": "Checkbox", "value": PolicyConfig().intervene,
                           "label": "Anyone acts (off = the no-action twin)"}
    params["replicates"] = replicates
    params["seed"] = seed
    return params
