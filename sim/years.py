"""Per-world years in UCDP terms: every (world, site, calendar year of the run) coded none / minor / war.

UCDP/PRIO counts a conflict-year as *active* at >= 25 battle-related deaths in the calendar year and at *war*
(intensity 2) at >= 1,000. The model has no deaths: it has a latent daily tension whose phase lines mark armed
conflict (tension >= 3) and war (>= 4). A year of the run is coded from the days the site spent in each:

- **war** when the site spent at least ``WAR_MIN_DAYS`` days at war in that year;
- **minor** otherwise, when it spent at least ``ACTIVE_MIN_DAYS`` days in armed conflict (war days included);
- **none** otherwise.

The thresholds are an assumption, stated here once (and in docs/validation/README.md):

- ``ACTIVE_MIN_DAYS = 30``. 25 deaths a year is a low bar: about a month of low-level fighting at roughly one
  battle death a day, the pace of a conflict that would total a few hundred deaths over a full year — the middle
  of UCDP's minor band (25-999). Shorter spells (a few days of clashes) are coded *none*, as a year with fewer
  than 25 deaths would be.
- ``WAR_MIN_DAYS = 90``. 1,000 deaths a year need sustained heavy fighting: at roughly ten battle deaths a day
  (about 3,600 over a full year, a typical war-year) the bar is crossed after about three months.

Neither death rate is measured in the model; both are assumptions about what the latent phases mean. They are
function arguments everywhere, so a reader can try others (``python -m sim.patterns --active-days 15``).

The annual statistics follow docs/validation/derive_targets.py exactly, with a site in a world as one conflict
(one ``conflict_id`` and one ``gwno_loc``): transitions pair year t with t+1; an episode is a run of consecutive
active years; durations count completed episodes (inactive in a later year of the run); recurrence asks whether the
same site is active again within k years of an episode's last year (only episodes with k years of follow-up);
the post-conflict hazard is the onset rate in site-years with no conflict in t-1 but some in t-10..t-2. Every
statistic carries its numerator, denominator and a 95 % interval clustered by world (sites of one world are not
independent): the linearisation interval of a ratio estimator, as in the targets.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from sim.stats import Z95

#: Days in armed conflict (tension >= 3) within a calendar year for UCDP's >= 25 battle deaths (an assumption).
ACTIVE_MIN_DAYS = 30
#: Days at war (tension >= 4) within a calendar year for UCDP's >= 1,000 battle deaths (an assumption).
WAR_MIN_DAYS = 90
YEAR_DAYS = 365
STATES = ("none", "minor", "war")
NONE, MINOR, WAR = 0, 1, 2
ARMED_CONFLICT_TENSION, WAR_TENSION = 3.0, 4.0
SAME_CONFLICT_WINDOWS = (5, 10)
POST_CONFLICT_WINDOW = 10
COLUMNS = ("world", "site", "year", "state", "conflict_days", "war_days", "days")


# -- coding ------------------------------------------------------------------------------------------------------
def code_state(conflict_days, war_days, active_min_days: int = ACTIVE_MIN_DAYS,
               war_min_days: int = WAR_MIN_DAYS) -> np.ndarray:
    """UCDP-style state per year: 0 none, 1 minor, 2 war (int8), from day counts of any shape."""
    c, w = np.asarray(conflict_days), np.asarray(war_days)
    state = np.where(c >= active_min_days, MINOR, NONE).astype(np.int8)
    state[w >= war_min_days] = WAR
    return state


def n_years(horizon: int) -> int:
    return math.ceil(horizon / YEAR_DAYS)


def days_in_year(horizon: int) -> np.ndarray:
    """How many days of each calendar year of the run lie inside the horizon (the last may be partial)."""
    y = np.arange(n_years(horizon))
    return np.minimum(horizon - YEAR_DAYS * y, YEAR_DAYS).astype(np.int16)


class YearCounter:
    """Counts, per calendar year of the run, the days each site spent in armed conflict and at war.

    For models that do not keep ``year_conflict_days`` / ``year_war_days`` themselves: call ``count(model)``
    after every step (day ``model.day``, tension in ``model.tension`` of shape (S, R))."""

    def __init__(self, horizon: int, sites: int, replicates: int):
        shape = (n_years(horizon), sites, replicates)
        self.conflict = np.zeros(shape, dtype=np.int16)
        self.war = np.zeros(shape, dtype=np.int16)

    def count(self, model) -> None:
        y = (model.day - 1) // YEAR_DAYS
        self.conflict[y] += model.tension >= ARMED_CONFLICT_TENSION
        self.war[y] += model.tension >= WAR_TENSION


def year_days(model) -> tuple[np.ndarray, np.ndarray]:
    """The model's per-year day counts, each (n_years, S, R): in armed conflict (war included), at war."""
    for attrs in (("year_conflict_days", "year_war_days"), ("_years_conflict", "_years_war")):
        if all(getattr(model, a, None) is not None for a in attrs):
            return getattr(model, attrs[0]), getattr(model, attrs[1])
    raise AttributeError("the model keeps no per-year day counts (year_conflict_days, year_war_days); "
                         "run it with sim.years.run_counting_years")


def run_counting_years(model) -> Any:
    """Run ``model`` to its horizon; per-year counts come from the model if it keeps them, else are counted here
    (kept on the model as ``_years_conflict`` / ``_years_war``). Returns the model."""
    if hasattr(model, "year_conflict_days"):
        model.run()
        return model
    counter = YearCounter(model.horizon, model.tension.shape[0], model.replicates)
    while model.running:
        model.step()
        counter.count(model)
    model._years_conflict, model._years_war = counter.conflict, counter.war
    return model


def counts_of(model) -> SimpleNamespace:
    """A light stand-in for a finished model, holding only what ``years_table`` needs (the per-year day counts,
    site names, horizon): a runner that does not keep its models can attach it as ``result.years`` /
    ``result.twin_years`` so that ``save_years`` still writes the years files."""
    conflict, war = year_days(model)
    return SimpleNamespace(year_conflict_days=conflict, year_war_days=war, site_names=site_names(model),
                           horizon=int(model.horizon), replicates=conflict.shape[2])


def site_names(model) -> list[str]:
    names = getattr(model, "site_names", None)
    if names is None:
        names = [s.name for s in model.sites]
    return list(names)


def years_table(model, active_min_days: int = ACTIVE_MIN_DAYS, war_min_days: int = WAR_MIN_DAYS) -> pd.DataFrame:
    """One row per world, site and calendar year of the run: state (none / minor / war, as UCDP would code it),
    days in armed conflict (war days included), days at war, and days of the year inside the horizon."""
    conflict, war = year_days(model)
    Y, S, R = conflict.shape
    names = site_names(model)
    state = code_state(conflict, war, active_min_days, war_min_days)
    # Rows ordered world, site, year: move the world axis first.
    order = (2, 1, 0)
    return pd.DataFrame({
        "world": np.repeat(np.arange(R, dtype=np.int32), S * Y),
        "site": pd.Categorical.from_codes(np.tile(np.repeat(np.arange(S), Y), R), categories=names),
        "year": np.tile(np.arange(Y, dtype=np.int16), R * S),
        "state": pd.Categorical.from_codes(state.transpose(order).ravel(), categories=list(STATES), ordered=True),
        "conflict_days": conflict.transpose(order).ravel().astype(np.int16),
        "war_days": war.transpose(order).ravel().astype(np.int16),
        "days": np.tile(days_in_year(int(model.horizon)), R * S),
    })


def save_years(result, directory: str | Path, metadata: dict | None = None) -> list[Path]:
    """Write ``years.parquet`` (policy run) and ``twin_years.parquet`` (twin) next to a run's other files.

    The tables come from ``result.years`` / ``result.twin_years`` when a runner attached them (a years table, or
    a finished model), else from the finished models ``result.model`` / ``result.twin_model``; a run whose models
    were not kept and that attached no table writes none. Returns the files written."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    written = []
    for name, model_attr in (("years", "model"), ("twin_years", "twin_model")):
        source = getattr(result, name, None)
        if source is None:
            source = getattr(result, model_attr, None)
        if source is None:
            continue
        try:
            frame = source if isinstance(source, pd.DataFrame) else years_table(source)
        except AttributeError:  # a model that kept no per-year counts
            continue
        # One thread: for a few thousand rows pyarrow's thread pool costs more (about 1 ms a table) than converting.
        table = pa.Table.from_pandas(frame, preserve_index=False, nthreads=1)
        if metadata:
            table = table.replace_schema_metadata({**(table.schema.metadata or {}), **metadata})
        path = Path(directory) / f"{name}.parquet"
        pq.write_table(table, path)
        written.append(path)
    return written


# -- annual statistics -------------------------------------------------------------------------------------------
@dataclass
class Stat:
    """A statistic with its numerator (count), denominator (n) and 95 % interval."""

    value: float
    n: int
    ci_low: float
    ci_high: float
    count: float = math.nan

    def as_dict(self) -> dict:
        return asdict(self)


def ratio(y: np.ndarray, x: np.ndarray, bounded: bool = True) -> Stat:
    """sum(y) / sum(x) over clusters (one entry per world) with the cluster-robust linearisation interval."""
    y, x = np.asarray(y, dtype=float), np.asarray(x, dtype=float)
    big_y, big_x = float(y.sum()), float(x.sum())
    if big_x <= 0:
        return Stat(math.nan, 0, math.nan, math.nan, big_y)
    r = big_y / big_x
    c = int((x > 0).sum())
    se = math.sqrt(c / (c - 1) * float(((y - r * x) ** 2).sum())) / big_x if c > 1 else math.nan
    lo, hi = r - Z95 * se, r + Z95 * se
    if bounded:
        lo, hi = max(lo, 0.0), min(hi, 1.0)
    return Stat(r, int(round(big_x)), max(lo, 0.0), hi, big_y)


def median_stat(values: np.ndarray) -> Stat:
    """Median with the distribution-free order-statistic 95 % interval."""
    v = np.sort(np.asarray(values, dtype=float))
    n = v.size
    if n == 0:
        return Stat(math.nan, 0, math.nan, math.nan)
    j = max(int(math.floor(n / 2 - Z95 * math.sqrt(n) / 2)), 1)
    k = min(int(math.ceil(n / 2 + Z95 * math.sqrt(n) / 2)), n)
    return Stat(float(np.median(v)), n, float(v[j - 1]), float(v[k - 1]))


def state_array(table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(states (U, Y) int8, world index (U,)) from a years table: one row per (world, site) unit; only years
    complete inside the horizon (``days`` = 365, when the column is there)."""
    t = table
    if "days" in t.columns:
        t = t[t["days"] >= YEAR_DAYS]
    state = t["state"]
    codes = state.cat.codes.to_numpy() if isinstance(state.dtype, pd.CategoricalDtype) else \
        state.map({s: i for i, s in enumerate(STATES)}).to_numpy()
    world = pd.factorize(t["world"], sort=True)[0]
    site = pd.factorize(t["site"].astype(str), sort=True)[0]
    year = pd.factorize(t["year"], sort=True)[0]
    W, S, Y = world.max() + 1, site.max() + 1, year.max() + 1
    out = np.zeros((W * S, Y), dtype=np.int8)
    out[world * S + site, year] = codes
    return out, np.repeat(np.arange(W), S)


def per_world(values: np.ndarray, world: np.ndarray, n_worlds: int) -> np.ndarray:
    return np.bincount(world, weights=np.asarray(values, dtype=float), minlength=n_worlds)


def episodes(active: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs of consecutive active years per unit: (unit, start year, end year), ordered by unit and start."""
    U, Y = active.shape
    pad = np.zeros((U, 1), dtype=bool)
    before = np.hstack([pad, active[:, :-1]])
    after = np.hstack([active[:, 1:], pad])
    su, sy = np.nonzero(active & ~before)
    eu, ey = np.nonzero(active & ~after)
    assert np.array_equal(su, eu)
    return su, sy, ey


def annual_statistics(table: pd.DataFrame | tuple[np.ndarray, np.ndarray]) -> dict[str, Stat]:
    """The model's annual statistics in UCDP terms, named as the targets in docs/validation/ucdp_targets.csv,
    from a years table (or from ``state_array``'s output)."""
    states, world = state_array(table) if isinstance(table, pd.DataFrame) else table
    W = int(world.max()) + 1 if world.size else 0
    U, Y = states.shape
    active = states > NONE
    out: dict[str, Stat] = {}

    def share(flags_unit_level, units):
        """Share of items (one per entry of ``units``) with the flag, clustered by world."""
        w = world[units]
        return ratio(per_world(flags_unit_level, w, W), per_world(np.ones(len(units)), w, W))

    # Transitions year t -> t+1.
    now, nxt = states[:, :-1], states[:, 1:]
    w2 = np.broadcast_to(world[:, None], now.shape)

    def trans(frm, cond):
        base = now == frm if frm is not None else now > NONE
        return ratio(per_world((base & cond)[base], w2[base], W), per_world(np.ones(base.sum()), w2[base], W))

    out["transition_minor_to_war"] = trans(MINOR, nxt == WAR)
    out["transition_war_to_minor"] = trans(WAR, nxt == MINOR)
    out["transition_minor_to_inactive"] = trans(MINOR, nxt == NONE)
    out["transition_war_to_inactive"] = trans(WAR, nxt == NONE)
    out["transition_active_to_inactive"] = trans(None, nxt == NONE)

    # Share of conflict-years at war.
    at_war = (states == WAR)[active]
    wa = np.broadcast_to(world[:, None], states.shape)[active]
    out["share_conflict_years_at_war"] = ratio(per_world(at_war, wa, W), per_world(np.ones(at_war.size), wa, W))

    # Episodes.
    unit, start, end = episodes(active)
    years = end - start + 1
    done = end < Y - 1  # inactive again in a later year of the run
    idx = np.nonzero(done)[0]
    du = unit[idx]
    out["episodes_completed_n"] = Stat(float(idx.size), int(idx.size), float(idx.size), float(idx.size))
    out["episode_duration_median"] = median_stat(years[idx])
    out["episode_duration_mean"] = ratio(per_world(years[idx], world[du], W), per_world(np.ones(idx.size),
                                                                                        world[du], W), False)
    out["episode_share_1y"] = share(years[idx] == 1, du)
    out["episode_share_7y_plus"] = share(years[idx] >= 7, du)
    first_state = states[unit, start]
    cs_war = np.concatenate([np.zeros((U, 1), dtype=np.int64), np.cumsum(states == WAR, axis=1)], axis=1)
    ever_war = (cs_war[unit, end + 1] - cs_war[unit, start]) > 0
    out["episodes_n"] = Stat(float(unit.size), int(unit.size), float(unit.size), float(unit.size))
    out["share_episodes_ever_war"] = share(ever_war, unit)
    out["share_episodes_war_first_year"] = share(first_state == WAR, unit)

    # Recurrence of the same site within k years of an episode's last active year.
    cs = np.concatenate([np.zeros((U, 1), dtype=np.int64), np.cumsum(active, axis=1)], axis=1)
    for k in SAME_CONFLICT_WINDOWS:
        ok = np.nonzero(end + k <= Y - 1)[0]
        back = cs[unit[ok], end[ok] + k + 1] - cs[unit[ok], end[ok] + 1] > 0
        out[f"recurrence_same_conflict_{k}y"] = share(back, unit[ok])

    # Post-conflict onset hazard: years t with no conflict in t-1 but some in t-10 .. t-2.
    t = np.arange(2, Y)
    if t.size:
        lo = np.maximum(t - POST_CONFLICT_WINDOW, 0)
        recent = (cs[:, t - 1] - cs[:, lo]) > 0  # active in lo .. t-2
        eligible = recent & ~active[:, t - 1]
        onset = active[:, t] & eligible
        we = np.broadcast_to(world[:, None], eligible.shape)
        out["post_conflict_onset_hazard"] = ratio(per_world(onset[eligible], we[eligible], W),
                                                  per_world(np.ones(eligible.sum()), we[eligible], W))
    else:
        out["post_conflict_onset_hazard"] = Stat(math.nan, 0, math.nan, math.nan)
    return out


def statistics_frame(stats: dict[str, Stat]) -> pd.DataFrame:
    """The statistics as a table: statistic, value, count, n, ci_low, ci_high."""
    return pd.DataFrame([{"statistic": k, **v.as_dict()} for k, v in stats.items()])
