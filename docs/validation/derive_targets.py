"""Derive pattern-oriented validation targets from the UCDP/PRIO Armed Conflict Dataset 21.1.

Standalone (standard library + pandas). Run from anywhere:

    python docs/validation/derive_targets.py [PATH_TO_UCDP_CSV] [--date YYYY-MM-DD]

PATH defaults to ``../shared/data/ucdp-prio-acd-211.csv`` relative to the repository root. Writes
``docs/validation/ucdp_targets.csv`` (columns ``target, value, unit, definition, period, n, ci_low, ci_high``),
``docs/validation/ucdp_years.csv`` (one row per calendar year: active conflicts, minor, war, onsets; and the same
counted by country, for the world mode, whose ``world_...`` targets follow the others) and
``docs/validation/README.md`` (provenance: dataset, version, citations, definitions, date, sha256 of the input).
The model never reads the UCDP file at run time; it reads the small committed tables.

Scope: intrastate (type_of_conflict 3) and internationalised intrastate (4) conflicts. In ACD 21.1 a conflict that
switches type only ever switches between 3 and 4, so filtering conflict-years to types 3-4 keeps whole conflicts.
An *episode* is a run of consecutive calendar years in which a conflict_id is active (in the dataset); a gap of one
or more inactive years ends it (the UCDP episode rule, ep_end).

Every target carries its denominator ``n`` and a 95 % interval. Shares, probabilities and means are ratios of sums
over clusters (conflicts, or locations for the hazard); their interval is the cluster-robust linearisation
(delta-method) interval of a ratio estimator, so conflict-years of one conflict are not treated as independent.
Medians get the distribution-free order-statistic interval; counts a Poisson interval (k +/- 1.96 sqrt k); means over
calendar years a normal interval from the year-to-year spread. No random numbers: re-deriving is exact.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import math
import sys
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEFAULT_INPUT = REPO.parent / "shared" / "data" / "ucdp-prio-acd-211.csv"
TARGETS = HERE / "ucdp_targets.csv"
YEARS = HERE / "ucdp_years.csv"
README = HERE / "README.md"
COLUMNS = ("target", "value", "unit", "definition", "period", "n", "ci_low", "ci_high")
YEAR_COLUMNS = ("year", "active", "minor", "war", "onsets", "onsets_low_intensity", "countries_active",
                "countries_war", "country_onsets", "country_onsets_low_intensity")
TYPES = (3, 4)
DECADES = ((1990, 1999), (2000, 2009), (2010, 2019))
RECURRENCE_WINDOW = 30  # years
POST_CONFLICT_WINDOW = 10  # years
SAME_CONFLICT_WINDOWS = (5, 10)  # years after an episode's end
PERIOD = (1990, 2019)  # years t of the year-on-year transitions; episodes ending from 1990 for recurrence
WORLD_PERIOD = (1990, 2010)  # the world mode's default run
WORLD_DECADES = ((1990, 1999), (2000, 2009))
Z95 = 1.959963984540054


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def load(path: Path) -> pd.DataFrame:
    """Conflict-years of types 3-4: conflict_id, year, intensity_level, gwno_loc (one code for these types)."""
    df = pd.read_csv(path, usecols=["conflict_id", "year", "intensity_level", "type_of_conflict", "gwno_loc"])
    df = df[df["type_of_conflict"].isin(TYPES)].copy()
    df["gwno_loc"] = df["gwno_loc"].astype(str).str.strip()
    if df["gwno_loc"].str.contains(",").any():
        raise ValueError("a type 3-4 conflict-year lists several locations; the recurrence rule assumes one")
    if df.duplicated(["conflict_id", "year"]).any():
        raise ValueError("duplicate conflict-years")
    return df.sort_values(["conflict_id", "year"]).reset_index(drop=True)


def episodes(df: pd.DataFrame) -> pd.DataFrame:
    """One row per episode: conflict_id, location, start, end, years, ever_war, war_in_first_year."""
    d = df.copy()
    new = (d["conflict_id"] != d["conflict_id"].shift()) | (d["year"] != d["year"].shift() + 1)
    d["episode"] = new.cumsum()
    g = d.groupby("episode")
    ep = pd.DataFrame({
        "conflict_id": g["conflict_id"].first(),
        "gwno_loc": g["gwno_loc"].first(),
        "start": g["year"].min(),
        "end": g["year"].max(),
        "ever_war": g["intensity_level"].max() == 2,
        "war_in_first_year": g["intensity_level"].first() == 2,
    })
    ep["years"] = ep["end"] - ep["start"] + 1
    return ep.reset_index(drop=True)


# -- intervals (no random numbers) -----------------------------------------------------------------------------
def ratio_interval(num, den, cluster, bounded: bool = True) -> tuple[float, int, float, float]:
    """Ratio sum(num) / sum(den) with a cluster-robust (linearisation) 95 % interval: (value, n, low, high).

    ``num`` and ``den`` are per-observation values, ``cluster`` their cluster (conflict or location); ``n`` is
    sum(den). se^2 = C/(C-1) * sum_c (y_c - r x_c)^2 / X^2 over the C clusters (Cochran 1977, section 6.9)."""
    d = pd.DataFrame({"y": num, "x": den, "c": cluster}).astype({"y": float, "x": float})
    g = d.groupby("c")[["y", "x"]].sum()
    big_x = g["x"].sum()
    r = g["y"].sum() / big_x
    c = len(g)
    se = math.sqrt(c / (c - 1) * ((g["y"] - r * g["x"]) ** 2).sum()) / big_x if c > 1 else math.nan
    lo, hi = r - Z95 * se, r + Z95 * se
    if bounded:
        lo, hi = max(lo, 0.0), min(hi, 1.0)
    return float(r), int(round(big_x)), max(lo, 0.0), hi


def median_interval(values) -> tuple[float, int, float, float]:
    """Median with the distribution-free order-statistic 95 % interval (ranks n/2 -/+ 1.96 sqrt(n)/2)."""
    v = sorted(float(x) for x in values)
    n = len(v)
    j = max(int(math.floor(n / 2 - Z95 * math.sqrt(n) / 2)), 1)
    k = min(int(math.ceil(n / 2 + Z95 * math.sqrt(n) / 2)), n)
    return float(pd.Series(v).median()), n, v[j - 1], v[k - 1]


def count_interval(k: int, exposure: int) -> tuple[float, int, float, float]:
    """A count with a Poisson 95 % interval k -/+ 1.96 sqrt(k); n is the exposure (calendar years)."""
    half = Z95 * math.sqrt(k)
    return float(k), exposure, max(k - half, 0.0), k + half


def mean_over_years(series: pd.Series) -> tuple[float, int, float, float]:
    """Mean of a per-year series with a normal 95 % interval from its year-to-year spread."""
    n = len(series)
    half = Z95 * float(series.std(ddof=1)) / math.sqrt(n)
    m = float(series.mean())
    return m, n, m - half, m + half


def derive(df: pd.DataFrame) -> list[dict]:
    rows: list[dict] = []

    def add(target, stat, unit, definition, period, digits=4):
        value, n, lo, hi = stat
        rows.append({"target": target, "value": round(value, digits), "unit": unit, "definition": definition,
                     "period": period, "n": n, "ci_low": round(lo, digits), "ci_high": round(hi, digits)})

    first, last = int(df["year"].min()), int(df["year"].max())
    ep = episodes(df)
    per_year = df.groupby("year").size().reindex(range(first, last + 1), fill_value=0)

    # 1. Conflicts active per year.
    add("active_conflicts_per_year", mean_over_years(per_year.loc[1990:2020]), "conflicts/year",
        "mean number of type 3-4 conflicts active (>= 25 battle deaths) per calendar year", "1990-2020", 2)
    for a, b in DECADES:
        add(f"active_conflicts_per_year_{a}s", mean_over_years(per_year.loc[a:b]), "conflicts/year",
            "mean number of type 3-4 conflicts active per calendar year", f"{a}-{b}", 2)

    # 2. Share of active conflict-years at war (n = conflict-years; clustered by conflict).
    def war_share(a, b):
        r = df[df["year"].between(a, b)]
        return ratio_interval(r["intensity_level"] == 2, [1] * len(r), r["conflict_id"])

    add("share_conflict_years_at_war", war_share(1990, 2020), "share",
        "share of type 3-4 conflict-years with intensity_level 2 (>= 1,000 battle deaths in the year)",
        "1990-2020")
    for a, b in DECADES:
        add(f"share_conflict_years_at_war_{a}s", war_share(a, b), "share",
            "share of type 3-4 conflict-years at intensity_level 2, this decade", f"{a}-{b}")

    # 3. Onsets (first year of an episode) per decade: all, and low-intensity (first year at intensity 1).
    for a, b in DECADES:
        add(f"onsets_{a}s", count_interval(int(ep["start"].between(a, b).sum()), b - a + 1), "episodes/decade",
            "number of new episodes (first active year after >= 1 inactive year, or the conflict's first year)",
            f"{a}-{b}", 0)
    for a, b in DECADES:
        k = int((ep["start"].between(a, b) & ~ep["war_in_first_year"]).sum())
        add(f"onsets_low_intensity_{a}s", count_interval(k, b - a + 1), "episodes/decade",
            "number of new episodes whose first calendar year is at intensity_level 1 (25-999 battle deaths)",
            f"{a}-{b}", 0)

    # 4. Episode durations: completed episodes, not left-censored (start > first year) nor right-censored.
    done = ep[(ep["start"] > first) & (ep["end"] < last)]
    span = f"{first + 1}-{last - 1}"
    n_done = len(done)
    add("episodes_completed_n", (n_done, n_done, n_done, n_done), "episodes",
        f"episodes starting {span} and inactive by {last} (denominator of the duration rows)", span, 0)
    add("episode_duration_median", median_interval(done["years"]), "years",
        "median episode length in calendar years (consecutive active years; a one-year episode counts 1)", span)
    add("episode_duration_mean", ratio_interval(done["years"], [1] * n_done, done["conflict_id"], bounded=False),
        "years", "mean episode length in calendar years (completed episodes only: biased short, see README)",
        span, 2)
    add("episode_share_1y", ratio_interval(done["years"] == 1, [1] * n_done, done["conflict_id"]), "share",
        "share of completed episodes confined to one calendar year", span)
    add("episode_share_7y_plus", ratio_interval(done["years"] >= 7, [1] * n_done, done["conflict_id"]), "share",
        "share of completed episodes lasting 7 or more calendar years (cf. Collier & Hoeffler's ~7-year war)", span)

    # 5. Year-to-year transitions of a conflict: year t in 1990-2019, state in t+1 (absent = inactive).
    nxt = df[["conflict_id", "year", "intensity_level"]].copy()
    nxt["year"] -= 1
    pair = df[df["year"].between(*PERIOD)].merge(
        nxt, on=["conflict_id", "year"], how="left", suffixes=("", "_next"))
    minor, war = pair[pair["intensity_level"] == 1], pair[pair["intensity_level"] == 2]
    t_period = f"t = {PERIOD[0]}-{PERIOD[1]}"

    def trans(frame, cond):
        return ratio_interval(cond, [1] * len(frame), frame["conflict_id"])

    add("transition_minor_to_war", trans(minor, minor["intensity_level_next"] == 2), "probability/year",
        "P(intensity 2 in year t+1 | conflict active at intensity 1 in year t)", t_period)
    add("transition_war_to_minor", trans(war, war["intensity_level_next"] == 1), "probability/year",
        "P(intensity 1 in year t+1 | conflict active at intensity 2 in year t)", t_period)
    add("transition_minor_to_inactive", trans(minor, minor["intensity_level_next"].isna()), "probability/year",
        "P(conflict not active in year t+1 | active at intensity 1 in year t): a minor conflict ends", t_period)
    add("transition_war_to_inactive", trans(war, war["intensity_level_next"].isna()), "probability/year",
        "P(conflict not active in year t+1 | active at intensity 2 in year t): a war ends outright", t_period)
    add("transition_active_to_inactive", trans(pair, pair["intensity_level_next"].isna()), "probability/year",
        "P(conflict not active in year t+1 | active in year t), either intensity", t_period)

    # 6. Recurrence of the same conflict within k years of an episode's end (last active year e): active again
    #    in any of e+1 .. e+k. Only episodes ending 1990 .. last-k (the k years of follow-up lie in the data).
    active_by_conflict = df.groupby("conflict_id")["year"].apply(lambda s: set(s.tolist())).to_dict()
    for k in SAME_CONFLICT_WINDOWS:
        e = ep[ep["end"].between(PERIOD[0], last - k)]
        back = [any(y in active_by_conflict[c] for y in range(end + 1, end + k + 1))
                for c, end in zip(e["conflict_id"], e["end"], strict=True)]
        add(f"recurrence_same_conflict_{k}y", ratio_interval(back, [1] * len(e), e["conflict_id"]), "share",
            f"share of episodes (ending {PERIOD[0]}-{last - k}) whose conflict_id is active again within {k} "
            "calendar years of the episode's last active year", f"ends {PERIOD[0]}-{last - k}")

    # 7. Recurrence: onsets in a location with an earlier type 3-4 episode active within the previous 30 years.
    active_years = df.groupby("gwno_loc")["year"].apply(lambda s: set(s.tolist())).to_dict()

    def had_prior(loc, start):
        return any(y in active_years[loc] for y in range(start - RECURRENCE_WINDOW, start))

    ep["prior_30y"] = [had_prior(loc, s) for loc, s in zip(ep["gwno_loc"], ep["start"], strict=True)]
    lo = first + RECURRENCE_WINDOW  # onsets whose 30-year look-back lies inside the data
    rec = ep[ep["start"] >= lo]
    add("onsets_recurrence_n", (len(rec),) * 4, "episodes",
        f"onsets {lo}-{last} (denominator of recurrence_share_onsets)", f"{lo}-{last}", 0)
    add("recurrence_share_onsets", ratio_interval(rec["prior_30y"], [1] * len(rec), rec["gwno_loc"]), "share",
        "share of onsets in a location (gwno_loc) where a type 3-4 conflict (same or another conflict_id) was "
        f"active in any of the {RECURRENCE_WINDOW} preceding years", f"{lo}-{last}")
    dec = ep[ep["start"].between(2000, 2009)]
    add("recurrence_share_onsets_2000s", ratio_interval(dec["prior_30y"], [1] * len(dec), dec["gwno_loc"]),
        "share", f"as recurrence_share_onsets, onsets 2000-2009 only (cf. WDR 2011 section 29: 90 %; n = {len(dec)})",
        "2000-2009")

    # 8. Post-conflict annual onset hazard: location-years at peace after recent conflict (clustered by location).
    onset_years = {(loc, s) for loc, s in zip(ep["gwno_loc"], ep["start"], strict=True)}
    h_loc, h_onset = [], []
    for loc, years in active_years.items():
        for t in range(1990, last + 1):
            recent_conflict = any(y in years for y in range(t - POST_CONFLICT_WINDOW, t - 1))
            if (t - 1) not in years and recent_conflict:
                h_loc.append(loc)
                h_onset.append((loc, t) in onset_years)
    hazard = ratio_interval(h_onset, [1] * len(h_onset), h_loc)
    add("post_conflict_onset_hazard", hazard, "probability/year",
        "P(onset in year t | location had no type 3-4 conflict active in t-1 but one active in "
        f"t-{POST_CONFLICT_WINDOW}..t-2); n = {hazard[1]} location-years (cf. Mueller: > 9 % after recent conflict)",
        "t = 1990-2020")

    # 9. Escalation to war.
    full = ep[ep["start"] > first]
    span = f"{first + 1}-{last}"
    add("episodes_n", (len(full),) * 4, "episodes", f"episodes starting {span} (denominator of the war rows)",
        span, 0)
    add("share_episodes_ever_war", ratio_interval(full["ever_war"], [1] * len(full), full["conflict_id"]), "share",
        "share of episodes with at least one year at intensity 2 (right-censored episodes included as observed)",
        span)
    add("share_episodes_war_first_year",
        ratio_interval(full["war_in_first_year"], [1] * len(full), full["conflict_id"]), "share",
        "share of episodes already at intensity 2 in their first calendar year", span)

    # 10. The world mode: the same record counted by country (after the rows above, which stay as they were).
    rows.extend(world_rows(df))
    return rows


# -- the world mode: countries, not conflicts --------------------------------------------------------------------
def country_years(df: pd.DataFrame) -> pd.DataFrame:
    """One row per (country, calendar year) with a type 3-4 conflict active in the country: gwno_loc, year,
    intensity (the highest of its conflicts that year), onset (not active in year - 1; a country's first year in
    the data counts, as a conflict's first year does). A multi-country ``gwno_loc`` ("750, 770") counts in each."""
    d = df[["gwno_loc", "year", "intensity_level"]].copy()
    d["gwno_loc"] = d["gwno_loc"].astype(str).str.split(",")
    d = d.explode("gwno_loc")
    d["gwno_loc"] = d["gwno_loc"].str.strip()
    cy = d.groupby(["gwno_loc", "year"], as_index=False)["intensity_level"].max()
    cy = cy.rename(columns={"intensity_level": "intensity"}).sort_values(["gwno_loc", "year"], ignore_index=True)
    cy["onset"] = (cy["gwno_loc"] != cy["gwno_loc"].shift()) | (cy["year"] != cy["year"].shift() + 1)
    return cy


def world_rows(df: pd.DataFrame) -> list[dict]:
    """Targets of the world mode (one potential conflict per country): countries with an active type 3-4 conflict
    per year, at war per year, share of country-years at war, country onsets (all, low-intensity); per decade and
    over the world's default run 1990-2010."""
    cy = country_years(df)
    first, last = int(df["year"].min()), int(df["year"].max())
    span = range(first, last + 1)
    active = cy.groupby("year").size().reindex(span, fill_value=0)
    war = cy[cy["intensity"] == 2].groupby("year").size().reindex(span, fill_value=0)
    rows: list[dict] = []

    def add(target, stat, unit, definition, period, digits=4):
        value, n, lo, hi = stat
        rows.append({"target": target, "value": round(value, digits), "unit": unit, "definition": definition,
                     "period": period, "n": n, "ci_low": round(lo, digits), "ci_high": round(hi, digits)})

    periods = [(a, b, f"{a}s") for a, b in WORLD_DECADES] + [(*WORLD_PERIOD, f"{WORLD_PERIOD[0]}_{WORLD_PERIOD[1]}")]
    for a, b, tag in periods:
        add(f"world_countries_in_conflict_per_year_{tag}", mean_over_years(active.loc[a:b]), "countries/year",
            "mean number of countries (gwno_loc) with a type 3-4 conflict active per calendar year", f"{a}-{b}", 2)
    for a, b, tag in periods:
        add(f"world_countries_at_war_per_year_{tag}", mean_over_years(war.loc[a:b]), "countries/year",
            "mean number of countries with a type 3-4 conflict at intensity_level 2 per calendar year", f"{a}-{b}", 2)
    for a, b, tag in periods:
        r = cy[cy["year"].between(a, b)]
        add(f"world_share_country_years_at_war_{tag}", ratio_interval(r["intensity"] == 2, [1] * len(r),
                                                                      r["gwno_loc"]), "share",
            "share of country-years in conflict (any type 3-4 conflict active) with one at intensity_level 2; "
            "clustered by country", f"{a}-{b}")
    for a, b, tag in periods:
        k = int((cy["onset"] & cy["year"].between(a, b)).sum())
        add(f"world_country_onsets_{tag}", count_interval(k, b - a + 1), "country onsets",
            "number of country onsets: a country's first year with a type 3-4 conflict active after >= 1 year "
            "with none", f"{a}-{b}", 0)
    for a, b, tag in periods:
        k = int((cy["onset"] & cy["year"].between(a, b) & (cy["intensity"] == 1)).sum())
        add(f"world_country_onsets_low_intensity_{tag}", count_interval(k, b - a + 1), "country onsets",
            "number of country onsets whose first year is at intensity_level 1 (no conflict of the country at war "
            "that year)", f"{a}-{b}", 0)
    return rows


def year_series(df: pd.DataFrame) -> list[dict]:
    """One row per calendar year: conflicts active, at intensity 1 and 2, onsets (all, low-intensity); and on a
    country basis (the world mode): countries with a conflict active, at war, country onsets (all, low-intensity)."""
    ep = episodes(df)
    cy = country_years(df)
    out = []
    for y in range(int(df["year"].min()), int(df["year"].max()) + 1):
        r = df[df["year"] == y]
        s = ep[ep["start"] == y]
        c = cy[cy["year"] == y]
        out.append({"year": y, "active": len(r), "minor": int((r["intensity_level"] == 1).sum()),
                    "war": int((r["intensity_level"] == 2).sum()), "onsets": len(s),
                    "onsets_low_intensity": int((~s["war_in_first_year"]).sum()),
                    "countries_active": len(c), "countries_war": int((c["intensity"] == 2).sum()),
                    "country_onsets": int(c["onset"].sum()),
                    "country_onsets_low_intensity": int((c["onset"] & (c["intensity"] == 1)).sum())})
    return out
def to_csv(rows: list[dict], columns=COLUMNS) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: format_value(v) if k in ("value", "ci_low", "ci_high") else v for k, v in r.items()})
    return buf.getvalue()


def format_value(v) -> str:
    if isinstance(v, (int,)) or (isinstance(v, float) and v.is_integer()):
        return str(int(v))
    return repr(round(float(v), 4))


def readme(rows: list[dict], digest: str, n_rows: int, date: str, input_name: str, check: str) -> str:
    table = "\n".join(
        f"| `{r['target']}` | {format_value(r['value'])} | [{format_value(r['ci_low'])}, "
        f"{format_value(r['ci_high'])}] | {r['n']} | {r['unit']} | {r['period']} | "
        f"{r['definition'].replace('|', chr(92) + '|')} |"
        for r in rows
    )
    rec_from = 1946 + RECURRENCE_WINDOW
    return f"""# Validation targets from UCDP/PRIO ACD 21.1

`ucdp_targets.csv` holds small, committed targets for pattern-oriented validation (Grimm et al. 2005) of `pdsim`,
each with its denominator `n` and a 95 % interval; `ucdp_years.csv` holds the per-year series (conflicts active,
minor, at war, onsets, low-intensity onsets, 1946-2020; and the same counted by country for the world mode).
Both are derived by `derive_targets.py` from the UCDP/PRIO Armed Conflict Dataset; the model and its tests read
only the committed tables, never the dataset (which is not part of this repository). `tests/test_patterns.py` and
`tests/test_world_stats.py` check the tables and, when the dataset is present at
`../shared/data/ucdp-prio-acd-211.csv`, that re-deriving them reproduces the committed files exactly. How the model
is held against them, and the calibration of its baseline, are described below ([Use in the
model](#use-in-the-model)); `calibration.csv` and `CALIBRATION.md` hold the committed fit.

## Provenance

- **Dataset:** UCDP/PRIO Armed Conflict Dataset, version 21.1 (conflict-years of state-based armed conflict,
  1946-2020; {n_rows} rows in the file used).
- **Input file:** `{input_name}`, sha256 `{digest}`.
- **Derived:** {date}, by `docs/validation/derive_targets.py` (pandas {pd.__version__}).
- **Cite:** Gleditsch, N. P., Wallensteen, P., Eriksson, M., Sollenberg, M. & Strand, H. (2002). Armed Conflict
  1946-2001: A New Dataset. *Journal of Peace Research* 39(5): 615-637. Davies, S., Pettersson, T. & Öberg, M.
  (2021). Organized violence 1989-2020, with a special emphasis on Syria. *Journal of Peace Research* 58(4):
  593-610. UCDP (Uppsala University) and PRIO publish the data openly for reuse with citation.

Re-derive with `python docs/validation/derive_targets.py [PATH] --date YYYY-MM-DD` (`--date` keeps this file stable).

## Definitions and choices

- **Scope:** intrastate (`type_of_conflict` 3) and internationalised intrastate (4) conflicts only; extrasystemic
  (1) and interstate (2) conflicts are left out because the model describes a crisis inside a country with
  neighbours that may be pulled in. In ACD 21.1 a conflict that changes type only moves between 3 and 4.
- **Active:** a conflict-year is in the dataset (>= 25 battle-related deaths). **War:** `intensity_level` 2
  (>= 1,000 battle-related deaths in the calendar year); **minor:** `intensity_level` 1 (25-999).
- **Episode:** a run of consecutive active calendar years of one `conflict_id`; one or more inactive years end it
  (the UCDP episode rule). **Onset:** the first year of an episode. **Low-intensity onset:** an onset whose first
  year is at intensity 1. {check}
- **Decades** are calendar decades 1990-1999, 2000-2009, 2010-2019; 2020 enters only the 1990-2020 rows.
- **Durations** use completed episodes that start after 1946 (not left-censored) and end before 2020 (not
  right-censored). Leaving out the episodes still active in 2020 biases mean and share >= 7 years downwards;
  durations are in calendar years, so an episode confined to one year counts as 1.
- **Transitions** pair each conflict-year t ({PERIOD[0]}-{PERIOD[1]}) with the same conflict's state in t+1; a
  conflict absent in t+1 is inactive. Year-on-year, not day-to-day. From minor conflict the three exits (to war, to
  inactive, staying minor) sum to 1, and so do those from war (to minor, to inactive, staying at war).
- **Recurrence of the same conflict** (`recurrence_same_conflict_5y`, `_10y`): an episode whose last active year
  is e recurs within k years if the same `conflict_id` is active in any of e+1 .. e+k (so a new episode starts in
  e+2 .. e+k). Only episodes ending {PERIOD[0]}-(2020-k) count, so the k years of follow-up lie inside the data.
  UCDP keeps one `conflict_id` per incompatibility (the government of a country, or one territory), so a new rebel
  group fighting over the same incompatibility continues the same conflict.
- **Recurrence share of onsets:** an onset recurs if any type 3-4 conflict (the same or another `conflict_id`) was
  active in the same `gwno_loc` in any of the {RECURRENCE_WINDOW} preceding years. Only onsets from {rec_from} on
  count, so the look-back lies inside the data. This differs from WDR 2011 section 29 ("90 % of conflicts started
  in the 2000s were in countries with a prior civil war"): the look-back is limited to 30 years, and a prior
  conflict need only have been minor (>= 25 deaths), not a civil war.
- **Post-conflict hazard:** location-years t (1990-2020) with no type 3-4 conflict active in t-1 but one active
  within t-{POST_CONFLICT_WINDOW}..t-2; the hazard is the share with an onset in t. The hazard *without* recent
  violence (Mueller: < 1 % a year) cannot be derived from the ACD alone, which lists no country-years without
  conflict.
- **Ever at war:** episodes starting 1947-2020 with at least one intensity-2 year; episodes still active in 2020 are
  counted as observed so far (a lower bound for them).
- **World mode, by country** (rows `world_...`; columns `countries_active`, `countries_war`, `country_onsets`,
  `country_onsets_low_intensity` of `ucdp_years.csv`): the world mode has one potential conflict per country, so its
  targets count countries (`gwno_loc`), not conflicts. A **country-year in conflict** has at least one type 3-4
  conflict active in the country (several conflicts in one country-year count once; a conflict listed in several
  locations counts in each); it is **at war** when one of them is at intensity 2. A **country onset** is a
  country's first year in conflict after at least one year without (a country's first year in the data counts, as a
  conflict's first year does); **low-intensity** when that year is not at war. Periods: the decades 1990-1999 and
  2000-2009 and the world's default run, 1990-2010. The share at war is clustered by country. UCDP's location codes
  are used as they are here; `configs/world/countries.csv` (built by `derive_countries.py`, provenance in
  `configs/world/README.md`) gives the world's countries and their conflict history before 1990.

## Denominators and intervals

Every row carries `n`, the denominator the value is computed over (conflict-years for transitions and the share at
war, episodes for durations, war shares and recurrence, location-years for the hazard, calendar years for counts
and means per year), and a 95 % interval `ci_low`-`ci_high`:

- **shares, probabilities and means of episodes** are ratios of sums over clusters, with the cluster-robust
  linearisation (delta-method) interval of a ratio estimator (Cochran 1977, section 6.9): clusters are conflicts
  (`conflict_id`), locations (`gwno_loc`) for the hazard and the recurrence share of onsets. Years of one conflict
  are not independent, so this interval is wider than a binomial (Wilson) interval from `n` would be;
- **the median duration:** the distribution-free order-statistic interval;
- **counts per decade:** Poisson, k -/+ 1.96 sqrt(k) (ignores over-dispersion: a lower bound on the uncertainty);
- **conflicts active per year:** mean over the calendar years with a normal interval from the year-to-year spread
  (years are serially correlated, so this too is narrow).

The intervals describe sampling uncertainty of the record as a sample of conflicts; they say nothing of coding
uncertainty, nor of how far a stylised model should be expected to match (see the tolerance below).

## Use in the model

The model follows R replicate worlds, each a region of sites (countries), for a horizon of years; every site is
one potential conflict (one `conflict_id`, one `gwno_loc`). `sim/years.py` codes every (world, site, calendar year
of the run) as UCDP would: from the days of that year the site spent in armed conflict (tension >= 3) and at war
(tension >= 4), a year is **active** when the site spent at least `ACTIVE_MIN_DAYS` days in armed conflict and at
**war** when it spent at least `WAR_MIN_DAYS` days at war (both named constants with their justification in
`sim/years.py`: an assumption that maps the latent daily scale onto UCDP's 25 / 1,000 battle deaths a year). The
same definitions as above then give the model's annual statistics (transitions, durations, recurrence, hazard,
share at war), each with its denominator and a 95 % interval clustered by world. Every run writes them per world as
`years.parquet` (policy) and `twin_years.parquet` (twin).

`python -m sim.patterns` runs the no-intervention model for a multi-year horizon (default 30 years) and writes
`patterns.csv` (target, observed, observed interval, model, model interval, tolerance, verdict). A verdict is
**consistent** when the model's 95 % interval overlaps the observed interval widened on each side by the tolerance
(default 20 % of the observed value: the record itself moves by about that much between decades, e.g. the share of
conflict-years at war, 1990s vs 2000s), **too high** when the model's whole interval lies above that band, **too
low** when below, **missing** when the model produced no case to compute it from (no war, so nothing can end
from war), and **too few cases** when it produced fewer than 30: failures too, not a "consistent" won by a wide
interval. Nothing is exempt: every target the model's years can produce gets a two-sided verdict.
The coding thresholds are arguments (`--active-days`, `--war-days`), so the verdicts' sensitivity to them can be
read off directly.

`pdsim-calibrate` fits the no-intervention baseline's life-cycle coefficients to these targets by minimising the
sum of squared standardised differences (model - observed) / sqrt(se_obs^2 + se_model^2 + (tolerance x observed)^2)
over the transitions, episode length, recurrence, hazard and share at war, with
`scipy.optimize.differential_evolution` (fixed seed). Every parameter set meets the same worlds (common random
numbers): a generation of the population runs as one model run, each set a block of worlds whose random numbers
are those of the same worlds run alone. The best set is re-run with more worlds, and that run is reported. It writes
the fitted values, their plausible ranges (every evaluated set within the 95 % chi-square cut-off of the best) and
provenance to `calibration.csv`, and the fit per target to `calibration_fit.csv` and `CALIBRATION.md`.

Counts over the world (conflicts active per year, onsets per decade) need a world of many countries: the world mode
(about 150 countries, 1990-2010) is held against the `world_...` rows, counted by country as its model is, with
`sim/world_stats.py` (countries in conflict and at war per year, share of country-years at war, country onsets per
decade, all and low-intensity, each with a 95 % interval across worlds) and drawn against the per-year series by
`sim/analysis/world.py`. The record's conflict counts (`active_conflicts_per_year_...`, `onsets_...`) are higher than
the country counts because a country can hold several conflicts at once (India, Myanmar, Ethiopia).

## Targets

| target | value | 95 % interval | n | unit | period | definition |
|---|---|---|---|---|---|---|
{table}
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", nargs="?", default=str(DEFAULT_INPUT), help="UCDP/PRIO ACD 21.1 CSV")
    ap.add_argument("--date", default=datetime.now(UTC).date().isoformat(), help="derivation date for README")
    ap.add_argument("--out", default=str(HERE), help="output folder (default: docs/validation)")
    args = ap.parse_args(argv)
    path = Path(args.path)
    if not path.exists():
        print(f"input not found: {path}", file=sys.stderr)
        return 1
    df = load(path)
    rows = derive(df)
    raw = pd.read_csv(path, usecols=["conflict_id", "type_of_conflict", "start_date2"])
    official = raw[raw["type_of_conflict"].isin(TYPES)].drop_duplicates(["conflict_id", "start_date2"])
    check = (f"Check: this rule gives {len(episodes(df))} episodes of types 3-4, and the file holds "
             f"{len(official)} distinct (`conflict_id`, `start_date2`) episode starts.")
    n_rows = len(pd.read_csv(path, usecols=["conflict_id"]))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / TARGETS.name).write_text(to_csv(rows), encoding="utf-8")
    (out / YEARS.name).write_text(to_csv(year_series(df), YEAR_COLUMNS), encoding="utf-8")
    (out / README.name).write_text(readme(rows, sha256(path), n_rows, args.date, path.name, check), encoding="utf-8")
    print(f"wrote {out / TARGETS.name} ({len(rows)} targets), {out / YEARS.name} and {out / README.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
