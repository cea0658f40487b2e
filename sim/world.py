"""World mode: the countries of a world scenario, read from a committed table (configs/world/).

The table (one row per country; provenance in configs/world/README.md) gives each country its region, its land
neighbours and its armed-conflict history before the world's start year from UCDP/PRIO. This module turns it into
the scenario's sites and borders, so that the model, its results and its files see an ordinary scenario with
many sites:

- a country's **grievance** is ``grievance_base + grievance_history x h``, h the share of 1946-1989 years with
  an active armed conflict in its territory (§29: conflict begets conflict; the two coefficients are, with
  ``trigger_history``, the world's calibrated baseline); optionally h fades with the years of peace since its
  last conflict (``exp(-years / history_memory_years)``; off by default: it fitted the held-out 2000s worse,
  docs/WORLD.md);
- triggering events (contested elections, coups) come ``1 + trigger_history x h`` times as often to it: the
  conflict trap as a risk of new crises rather than a standing grievance (§29);
- a country **fighting in 1989** starts in armed conflict (at war or minor, as UCDP coded that year); a calm
  country starts a little below its grievance, never above the crisis line;
- any armed conflict before 1990 sets the conflict trap (``war_history``, §29);
- outsiders do not know whether a country's parties prefer direct or indirect talks (each world draws it).
"""

from __future__ import annotations

import csv
import functools
import math
from dataclasses import dataclass

from sim.config import CONFIG_DIR, SiteConfig, WorldConfig

WORLD_DIR = CONFIG_DIR / "world"
REGIONS = ("Africa", "Americas", "Asia", "Europe", "Middle East")
COLUMNS = ("gwno", "name", "region", "neighbours", "conflict_years_1946_1989", "war_years_1946_1989",
           "last_active_year_before_1990", "state_1989")
STATES_1989 = ("none", "minor", "war")
HISTORY_YEARS = 1989 - 1946 + 1
#: A calm country starts this far below its grievance (and below the crisis line).
CALM_MARGIN = 0.3


@dataclass(frozen=True)
class Country:
    gwno: int
    name: str
    region: str
    neighbours: tuple[int, ...]
    conflict_years: int
    war_years: int
    state_1989: str
    last_active: int | None = None  # the last year with an armed conflict before 1990

    @property
    def history_share(self) -> float:
        """Share of the years 1946-1989 with an armed conflict active in the country."""
        return min(self.conflict_years / HISTORY_YEARS, 1.0)

    def history(self, memory_years: float) -> float:
        """The conflict history that still weighs in 1990: the share of years in conflict, faded by the years of
        peace since the last one (the conflict trap weakens as peace lasts: Collier & Hoeffler 2004; Walter 2004).
        ``memory_years`` <= 0: no fading."""
        if memory_years <= 0 or self.last_active is None:
            return self.history_share
        return self.history_share * math.exp(-max(1989 - self.last_active, 0) / memory_years)


def table_names() -> list[str]:
    return sorted(p.name for p in WORLD_DIR.glob("*.csv"))


@functools.lru_cache(maxsize=8)
def read_countries(name: str) -> tuple[Country, ...]:
    """The countries of configs/world/NAME; ValueError naming the file, row and field on a bad table. Read once per
    process (every resolve of a world config, its twin and each sweep point needs it)."""
    path = WORLD_DIR / name
    if name not in table_names():  # a name, never a path
        raise ValueError(f"scenario.world.countries = {name!r} is not a table in {WORLD_DIR}: choose one of "
                         f"{', '.join(table_names()) or '(none)'}")
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path} lacks the column(s) {', '.join(missing)}: it needs {', '.join(COLUMNS)}")
        countries = []
        for line, row in enumerate(reader, start=2):
            try:
                country = Country(
                    gwno=int(row["gwno"]), name=row["name"].strip(), region=row["region"].strip(),
                    neighbours=tuple(int(g) for g in row["neighbours"].split()),
                    conflict_years=int(row["conflict_years_1946_1989"] or 0),
                    war_years=int(row["war_years_1946_1989"] or 0), state_1989=row["state_1989"].strip() or "none",
                    last_active=int(row["last_active_year_before_1990"]) if row["last_active_year_before_1990"]
                    else None,
                )
            except ValueError as err:
                raise ValueError(f"{path}, line {line}: {err}") from None
            if country.region not in REGIONS:
                raise ValueError(f"{path}, line {line}: region = {country.region!r}: choose one of "
                                 f"{', '.join(REGIONS)}")
            if country.state_1989 not in STATES_1989:
                raise ValueError(f"{path}, line {line}: state_1989 = {country.state_1989!r}: choose one of "
                                 f"{', '.join(STATES_1989)}")
            countries.append(country)
    return tuple(countries)


def world_sites(world: WorldConfig) -> tuple[dict[str, SiteConfig], list[list[str]]]:
    """The sites (by country name, in the table's order) and borders of a world scenario."""
    countries = read_countries(world.countries)
    by_code = {c.gwno: c for c in countries}
    sites = {}
    for c in countries:
        history = c.history(world.history_memory_years)
        grievance = country_grievance(world.grievance_base, world.grievance_history, history)
        sites[c.name] = SiteConfig(
            initial_tension=starting_tension(world, c.state_1989, grievance), grievance=grievance,
            war_history=c.conflict_years > 0, local_preference=0.5, preference_known=False, region=c.region,
            trigger_multiplier=country_trigger_multiplier(world.trigger_history, history),
        )
    borders = sorted({tuple(sorted((c.name, by_code[g].name))) for c in countries for g in c.neighbours
                      if g in by_code and g != c.gwno})
    return sites, [list(b) for b in borders]


def country_grievance(base: float, history: float, share: float) -> float:
    """A country's grievance from its conflict history (the share of 1946-1989 years in armed conflict)."""
    return min(base + history * share, 5.0)


def country_trigger_multiplier(trigger_history: float, share: float) -> float:
    """How many times the scenario's rate a country's triggering events come at, from its conflict history."""
    return 1.0 + trigger_history * share


def starting_tension(world: WorldConfig, state: str, grievance: float) -> float:
    """Tension on day 1: fighting as UCDP coded the year before; a calm country a little below its grievance,
    never above the crisis line."""
    if state == "war":
        return world.war_tension
    if state == "minor":
        return world.minor_tension
    return max(min(grievance - CALM_MARGIN, 1.9), 0.0)
