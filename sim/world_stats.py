"""The world's annual statistics in UCDP/PRIO terms, counted by country, with 95 % intervals across worlds.

A world run follows about 150 countries (sites) in R replicate worlds for a number of years; ``sim.years`` codes
every (world, country, year of the run) none / minor / war as UCDP would. This module reads that years table with
the calendar year of the run's first year (``start_year``, 1990 by default) and computes what the record's world
targets measure (``world_...`` rows of docs/validation/ucdp_targets.csv, derived by
docs/validation/derive_targets.py):

- **countries in conflict per year** (a country-year is active when the country is coded minor or war) and
  **countries at war per year**: each world's mean over the period's calendar years, then the mean over worlds;
- **share of country-years at war**: war years / active years, summed over a world, clustered by world;
- **country onsets** per period (a country active in year t and not in t-1), all and **low-intensity** (the onset
  year coded minor). The year before the run is the record's 1989 for a world that starts there: pass ``before``
  (country name -> none / minor / war; ``states_before_start()`` reads it from configs/world/countries.csv, as the
  model's initial state does); without it every country is taken to be at peace in the year before the run;
- **crises waiting for an envoy** per day (from ``waiting``, the model's crisis-days spent waiting for an envoy per
  year and world, ``model.year_waiting_days``): each world's days waited / days of the year;
- the **life cycle** (episode durations, transitions minor <-> war <-> ended, recurrence within 5 and 10 years,
  the post-conflict onset hazard, share of episodes ever at war) from ``sim.years.annual_statistics``, unchanged:
  with one conflict per country these are the same statistics as the single-crisis model's. Episodes that were
  already running in the year before the run are counted from the run's first year (left-censored: the record's
  durations leave such episodes out; here they make the first years' episodes look shorter).

Worlds are the independent units: a mean over worlds carries the normal interval of ``sim.stats.mean_interval``
(a bootstrap where the normal one leaves the data's range), a ratio the cluster-robust interval of
``sim.years.ratio``. Periods are the calendar decades 1990-1999 and 2000-2009 and the whole run 1990-2010, each
computed only when the run covers it in full (complete years only: a partial last year is left out, as in
``sim.years``). ``compare_world`` sets the statistics against the targets with ``sim.patterns``' verdicts;
``world_values`` gives the per-world values behind them (for paired comparisons of two settings on the same worlds);
``annual_series`` the per-year means with their 90 % band of worlds, beside the record's ``observed_series``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from sim import patterns
from sim.stats import Z95, mean_interval
from sim.years import MINOR, NONE, STATES, WAR, YEAR_DAYS, Stat, annual_statistics, ratio, state_array

START_YEAR = 1990
#: The record's periods of the world targets: (first, last calendar year, suffix of the target's name).
PERIODS = ((1990, 1999, "1990s"), (2000, 2009, "2000s"), (1990, 2010, "1990_2010"))
#: Per-year measures of ``annual_series`` (and the columns of docs/validation/ucdp_years.csv they match).
SERIES = {"countries_in_conflict": "countries_active", "countries_at_war": "countries_war",
          "country_onsets": "country_onsets", "country_onsets_low_intensity": "country_onsets_low_intensity"}
#: The band of ``annual_series``: the middle 90 % of worlds.
BAND = (0.05, 0.95)
#: World statistics held against the record (those of the run's periods are compared).
WORLD_TARGETS = tuple(
    f"world_{m}_{tag}" for m in ("countries_in_conflict_per_year", "countries_at_war_per_year",
                                 "share_country_years_at_war", "country_onsets", "country_onsets_low_intensity")
    for _, _, tag in PERIODS)


class CountryYears:
    """A years table as arrays: ``states`` (W, S, Y) int8 codes, the calendar ``years`` (Y,), ``sites`` (S,)
    names, ``days`` (Y,) days of each year, and per (world, year) counts of countries active, at war, onsets."""

    def __init__(self, table: pd.DataFrame, start_year: int = START_YEAR, before: dict | None = None):
        states, world = state_array(table)
        complete = table[table["days"] >= YEAR_DAYS] if "days" in table.columns else table
        self.sites = np.array(sorted(complete["site"].astype(str).unique()))
        self.run_years = np.sort(complete["year"].unique()).astype(int)
        self.years = start_year + self.run_years
        W, S = int(world.max()) + 1, self.sites.size
        self.states = states.reshape(W, S, -1)
        self.worlds = W
        active = self.states > NONE
        prior = np.zeros((W, S), dtype=bool)
        self.unmatched_before: list[str] = []  # names in ``before`` that are no site of this table
        if before:
            unknown = sorted(set(before) - set(self.sites))
            codes = {s: i for i, s in enumerate(STATES)}
            bad = {k: v for k, v in before.items() if str(v) not in codes}
            if bad:
                raise ValueError(f"before: states must be one of {', '.join(STATES)}; got {bad}")
            prior[:] = np.array([codes[str(before.get(s, "none"))] > NONE for s in self.sites])
            self.unmatched_before = unknown
        previous = np.concatenate([prior[:, :, None], active[:, :, :-1]], axis=2)
        onset = active & ~previous
        self.active = active.sum(axis=1)  # (W, Y)
        self.war = (self.states == WAR).sum(axis=1)
        self.onsets = onset.sum(axis=1)
        self.onsets_low = (onset & (self.states == MINOR)).sum(axis=1)

    def period(self, first: int, last: int) -> np.ndarray | None:
        """Indices of the calendar years first..last, or None when the run does not cover them all."""
        idx = np.nonzero((self.years >= first) & (self.years <= last))[0]
        return idx if idx.size == last - first + 1 else None


def states_before_start(countries: str = "countries.csv") -> dict[str, str]:
    """Each country's state in the year before the world's start (``state_1989`` of the world's table,
    configs/world/NAME, as the model starts from it: sim.world), by name, as ``before`` of ``world_statistics`` and
    ``annual_series``."""
    from sim.world import read_countries

    return {c.name: c.state_1989 for c in read_countries(countries)}


def mean_stat(per_world: np.ndarray, exposure: int) -> Stat:
    """Mean over worlds of a per-world value, with its 95 % interval across worlds; ``n`` is the exposure
    (world-years), ``count`` the sum over worlds."""
    m = mean_interval(per_world)
    if m["mean"] is None:
        return Stat(math.nan, 0, math.nan, math.nan)
    lo = m["ci_low"] if m["ci_low"] is not None else math.nan
    hi = m["ci_high"] if m["ci_high"] is not None else math.nan
    return Stat(m["mean"], int(exposure), lo, hi, float(np.sum(per_world)))


def crises_waiting(waiting, cy: CountryYears) -> np.ndarray:
    """Mean number of crises waiting for an envoy per day, (W, Y): crisis-days waited in the year / 365 (only
    complete years are kept)."""
    w = np.asarray(waiting, dtype=float)
    if w.ndim != 2 or w.shape[1] != cy.worlds or w.shape[0] < cy.run_years.max() + 1:
        raise ValueError(f"waiting must have shape (years >= {cy.run_years.max() + 1}, worlds = {cy.worlds}); "
                         f"got {w.shape}")
    return (w[cy.run_years] / YEAR_DAYS).T


def _per_world(cy: CountryYears, per_day: np.ndarray | None) -> dict[str, tuple[np.ndarray, int]]:
    """Per-world values of every statistic of the covered periods, with their exposure (world-years); the share
    at war as its two per-world sums (``..._war_years``, ``..._active_years``)."""
    out: dict[str, tuple[np.ndarray, int]] = {}
    for first, last, tag in PERIODS:
        idx = cy.period(first, last)
        if idx is None:
            continue
        exposure = cy.worlds * idx.size
        out[f"world_countries_in_conflict_per_year_{tag}"] = cy.active[:, idx].mean(axis=1), exposure
        out[f"world_countries_at_war_per_year_{tag}"] = cy.war[:, idx].mean(axis=1), exposure
        out[f"world_share_country_years_at_war_{tag}_war_years"] = cy.war[:, idx].sum(axis=1), exposure
        out[f"world_share_country_years_at_war_{tag}_active_years"] = cy.active[:, idx].sum(axis=1), exposure
        out[f"world_country_onsets_{tag}"] = cy.onsets[:, idx].sum(axis=1), exposure
        out[f"world_country_onsets_low_intensity_{tag}"] = cy.onsets_low[:, idx].sum(axis=1), exposure
        if per_day is not None:
            out[f"world_crises_waiting_per_day_{tag}"] = per_day[:, idx].mean(axis=1), exposure
    if per_day is not None:
        out["world_crises_waiting_per_day"] = per_day.mean(axis=1), per_day.size
    return out


def world_statistics(table: pd.DataFrame, start_year: int = START_YEAR, waiting=None,
                     before: dict | None = None) -> dict[str, Stat]:
    """The world's statistics by name (``world_...`` as in ucdp_targets.csv, plus the life cycle of
    ``sim.years.annual_statistics`` and, with ``waiting``, ``world_crises_waiting_per_day_...``)."""
    cy = CountryYears(table, start_year, before)
    values = _per_world(cy, crises_waiting(waiting, cy) if waiting is not None else None)
    out: dict[str, Stat] = {}
    for name, (v, exposure) in values.items():
        if name.endswith("_war_years"):
            share = name.removesuffix("_war_years")
            out[share] = ratio(v, values[f"{share}_active_years"][0])
        elif not name.endswith("_active_years"):
            out[name] = mean_stat(v, exposure)
    out.update(annual_statistics(table))
    return out


def world_values(table: pd.DataFrame, start_year: int = START_YEAR, waiting=None,
                 before: dict | None = None) -> pd.DataFrame:
    """One row per world, one column per statistic of each covered period (named as ``world_statistics``): the
    per-world values behind the means, for paired comparisons of two settings on the same worlds (e.g. the decade
    experiment: ``sim.stats.mean_interval(a - b)``). The share at war is the world's own ratio (NaN for a world
    without conflict in the period)."""
    cy = CountryYears(table, start_year, before)
    values = _per_world(cy, crises_waiting(waiting, cy) if waiting is not None else None)
    cols: dict[str, np.ndarray] = {"world": np.arange(cy.worlds)}
    for name, (v, _) in values.items():
        if name.endswith("_war_years"):
            share = name.removesuffix("_war_years")
            active = values[f"{share}_active_years"][0]
            cols[share] = np.where(active > 0, v / np.maximum(active, 1), np.nan)
        elif not name.endswith("_active_years"):
            cols[name] = np.asarray(v, dtype=float)
    return pd.DataFrame(cols)


def annual_series(table: pd.DataFrame, start_year: int = START_YEAR, waiting=None,
                  before: dict | None = None) -> pd.DataFrame:
    """One row per calendar year: for countries in conflict, at war, country onsets (all, low-intensity) and, with
    ``waiting``, crises waiting for an envoy per day: the mean over worlds (``_mean``), its 95 % interval
    (``_ci_low``, ``_ci_high``) and the band of the middle 90 % of worlds (``_low``, ``_high``)."""
    cy = CountryYears(table, start_year, before)
    measures = {"countries_in_conflict": cy.active, "countries_at_war": cy.war, "country_onsets": cy.onsets,
                "country_onsets_low_intensity": cy.onsets_low}
    if waiting is not None:
        measures["crises_waiting"] = crises_waiting(waiting, cy)
    frame = {"year": cy.years}
    for name, values in measures.items():
        v = np.asarray(values, dtype=float)
        mean = v.mean(axis=0)
        half = Z95 * v.std(axis=0, ddof=1) / math.sqrt(cy.worlds) if cy.worlds > 1 else np.full(mean.shape, np.nan)
        lo, hi = np.quantile(v, BAND, axis=0)
        frame.update({f"{name}_mean": mean, f"{name}_ci_low": mean - half, f"{name}_ci_high": mean + half,
                      f"{name}_low": lo, f"{name}_high": hi})
    return pd.DataFrame(frame)


def compare_world(stats: dict[str, Stat], targets: dict[str, dict] | None = None,
                  tolerance: float = patterns.TOLERANCE) -> list[patterns.Row]:
    """The world's statistics against the record: every ``world_...`` target the run covers, then the life cycle
    (``sim.patterns.COMPARED``), each with ``sim.patterns``' two-sided verdict."""
    t = targets or patterns.load_targets()
    names = [n for n in (*WORLD_TARGETS, *patterns.COMPARED) if n in stats and n in t]
    return patterns.compare(stats, t, tolerance, names)


def observed_series(path: Path = patterns.VALIDATION / "ucdp_years.csv") -> pd.DataFrame:
    """The record's per-year series by country (docs/validation/ucdp_years.csv), columns named as
    ``annual_series``' measures: year, countries_in_conflict, countries_at_war, country_onsets, ..."""
    obs = pd.read_csv(path)
    return obs[["year", *SERIES.values()]].rename(columns={v: k for k, v in SERIES.items()})
