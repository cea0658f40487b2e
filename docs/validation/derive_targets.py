"""Derive pattern-oriented validation targets from the UCDP/PRIO Armed Conflict Dataset 21.1.

Standalone (standard library + pandas). Run from anywhere:

    python docs/validation/derive_targets.py [PATH_TO_UCDP_CSV] [--date YYYY-MM-DD]

PATH defaults to ``../shared/data/ucdp-prio-acd-211.csv`` relative to the repository root. Writes
``docs/validation/ucdp_targets.csv`` (columns ``target, value, unit, definition, period``) and
``docs/validation/README.md`` (provenance: dataset, version, citations, definitions, date, sha256 of the input).
The model never reads the UCDP file at run time; it reads the small committed table.

Scope: intrastate (type_of_conflict 3) and internationalised intrastate (4) conflicts. In ACD 21.1 a conflict that
switches type only ever switches between 3 and 4, so filtering conflict-years to types 3-4 keeps whole conflicts.
An *episode* is a run of consecutive calendar years in which a conflict_id is active (in the dataset); a gap of one
or more inactive years ends it (the UCDP episode rule, ep_end).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import sys
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEFAULT_INPUT = REPO.parent / "shared" / "data" / "ucdp-prio-acd-211.csv"
TARGETS = HERE / "ucdp_targets.csv"
README = HERE / "README.md"
COLUMNS = ("target", "value", "unit", "definition", "period")
TYPES = (3, 4)
DECADES = ((1990, 1999), (2000, 2009), (2010, 2019))
RECURRENCE_WINDOW = 30  # years
POST_CONFLICT_WINDOW = 10  # years


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


def derive(df: pd.DataFrame) -> list[dict]:
    rows: list[dict] = []

    def add(target, value, unit, definition, period):
        rows.append({"target": target, "value": value, "unit": unit, "definition": definition, "period": period})

    first, last = int(df["year"].min()), int(df["year"].max())
    ep = episodes(df)
    per_year = df.groupby("year").size().reindex(range(first, last + 1), fill_value=0)

    # 1. Conflicts active per year.
    add("active_conflicts_per_year", round(per_year.loc[1990:2020].mean(), 2), "conflicts/year",
        "mean number of type 3-4 conflicts active (>= 25 battle deaths) per calendar year", "1990-2020")
    for a, b in DECADES:
        add(f"active_conflicts_per_year_{a}s", round(per_year.loc[a:b].mean(), 2), "conflicts/year",
            "mean number of type 3-4 conflicts active per calendar year", f"{a}-{b}")

    # 2. Share of active conflict-years at war.
    recent = df[df["year"].between(1990, 2020)]
    add("share_conflict_years_at_war", round((recent["intensity_level"] == 2).mean(), 4), "share",
        "share of type 3-4 conflict-years with intensity_level 2 (>= 1,000 battle deaths in the year)",
        "1990-2020")

    # 3. Onsets (first year of an episode) per decade.
    for a, b in DECADES:
        add(f"onsets_{a}s", int(ep["start"].between(a, b).sum()), "episodes/decade",
            "number of new episodes (first active year after >= 1 inactive year, or the conflict's first year)",
            f"{a}-{b}")

    # 4. Episode durations: completed episodes, not left-censored (start > first year) nor right-censored.
    done = ep[(ep["start"] > first) & (ep["end"] < last)]
    add("episodes_completed_n", len(done), "episodes",
        f"episodes starting {first + 1}-{last - 1} and inactive by {last} (denominator of the duration rows)",
        f"{first + 1}-{last - 1}")
    add("episode_duration_median", float(done["years"].median()), "years",
        "median episode length in calendar years (consecutive active years; a one-year episode counts 1)",
        f"{first + 1}-{last - 1}")
    add("episode_duration_mean", round(done["years"].mean(), 2), "years",
        "mean episode length in calendar years (completed episodes only: biased short, see README)",
        f"{first + 1}-{last - 1}")
    add("episode_share_7y_plus", round((done["years"] >= 7).mean(), 4), "share",
        "share of completed episodes lasting 7 or more calendar years (cf. Collier & Hoeffler's ~7-year war)",
        f"{first + 1}-{last - 1}")

    # 5. Year-to-year transitions of a conflict: year t in 1990-2019, state in t+1 (absent = inactive).
    nxt = df[["conflict_id", "year", "intensity_level"]].copy()
    nxt["year"] -= 1
    pair = df[df["year"].between(1990, 2019)].merge(
        nxt, on=["conflict_id", "year"], how="left", suffixes=("", "_next"))
    minor, war = pair[pair["intensity_level"] == 1], pair[pair["intensity_level"] == 2]
    add("transition_minor_to_war", round((minor["intensity_level_next"] == 2).mean(), 4), "probability/year",
        "P(intensity 2 in year t+1 | conflict active at intensity 1 in year t)", "t = 1990-2019")
    add("transition_war_to_minor", round((war["intensity_level_next"] == 1).mean(), 4), "probability/year",
        "P(intensity 1 in year t+1 | conflict active at intensity 2 in year t)", "t = 1990-2019")
    add("transition_active_to_inactive", round(pair["intensity_level_next"].isna().mean(), 4), "probability/year",
        "P(conflict not active in year t+1 | active in year t), either intensity", "t = 1990-2019")

    # 6. Recurrence: onsets in a location with an earlier type 3-4 episode active within the previous 30 years.
    active_years = df.groupby("gwno_loc")["year"].apply(lambda s: set(s.tolist())).to_dict()

    def had_prior(loc, start):
        return any(y in active_years[loc] for y in range(start - RECURRENCE_WINDOW, start))

    ep["prior_30y"] = [had_prior(loc, s) for loc, s in zip(ep["gwno_loc"], ep["start"], strict=True)]
    lo = first + RECURRENCE_WINDOW  # onsets whose 30-year look-back lies inside the data
    rec = ep[ep["start"] >= lo]
    add("onsets_recurrence_n", len(rec), "episodes",
        f"onsets {lo}-{last} (denominator of recurrence_share_onsets)", f"{lo}-{last}")
    add("recurrence_share_onsets", round(rec["prior_30y"].mean(), 4), "share",
        "share of onsets in a location (gwno_loc) where a type 3-4 conflict (same or another conflict_id) was "
        f"active in any of the {RECURRENCE_WINDOW} preceding years", f"{lo}-{last}")
    dec = ep[ep["start"].between(2000, 2009)]
    add("recurrence_share_onsets_2000s", round(dec["prior_30y"].mean(), 4), "share",
        f"as recurrence_share_onsets, onsets 2000-2009 only (cf. WDR 2011 section 29: 90 %; n = {len(dec)})",
        "2000-2009")

    # 7. Post-conflict annual onset hazard: location-years at peace after recent conflict.
    hazard_n = hazard_k = 0
    onset_years = {(loc, s) for loc, s in zip(ep["gwno_loc"], ep["start"], strict=True)}
    for loc, years in active_years.items():
        for t in range(1990, last + 1):
            recent_conflict = any(y in years for y in range(t - POST_CONFLICT_WINDOW, t - 1))
            if (t - 1) not in years and recent_conflict:
                hazard_n += 1
                hazard_k += (loc, t) in onset_years
    add("post_conflict_onset_hazard", round(hazard_k / hazard_n, 4), "probability/year",
        "P(onset in year t | location had no type 3-4 conflict active in t-1 but one active in "
        f"t-{POST_CONFLICT_WINDOW}..t-2); n = {hazard_n} location-years (cf. Mueller: > 9 % after recent conflict)",
        "t = 1990-2020")

    # 8. Escalation to war.
    full = ep[ep["start"] > first]
    add("episodes_n", len(full), "episodes", f"episodes starting {first + 1}-{last} (denominator of the war rows)",
        f"{first + 1}-{last}")
    add("share_episodes_ever_war", round(full["ever_war"].mean(), 4), "share",
        "share of episodes with at least one year at intensity 2 (right-censored episodes included as observed)",
        f"{first + 1}-{last}")
    add("share_episodes_war_first_year", round(full["war_in_first_year"].mean(), 4), "share",
        "share of episodes already at intensity 2 in their first calendar year", f"{first + 1}-{last}")
    return rows


def to_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({**r, "value": format_value(r["value"])})
    return buf.getvalue()


def format_value(v) -> str:
    if isinstance(v, (int,)) or (isinstance(v, float) and v.is_integer()):
        return str(int(v))
    return repr(round(float(v), 4))


def readme(rows: list[dict], digest: str, n_rows: int, date: str, input_name: str, check: str) -> str:
    table = "\n".join(
        f"| `{r['target']}` | {format_value(r['value'])} | {r['unit']} | {r['period']} | "
        f"{r['definition'].replace('|', chr(92) + '|')} |"
        for r in rows
    )
    rec_from = 1946 + RECURRENCE_WINDOW
    return f"""# Validation targets from UCDP/PRIO ACD 21.1

`ucdp_targets.csv` holds small, committed targets for pattern-oriented validation (Grimm et al. 2005) of `pdsim`.
They are derived by `derive_targets.py` from the UCDP/PRIO Armed Conflict Dataset; the model and its tests read only
the committed table, never the dataset (which is not part of this repository). `python -m sim.patterns` prints the
targets beside the model's comparable quantities; `tests/test_patterns.py` checks the table and, when the dataset is
present at `../shared/data/ucdp-prio-acd-211.csv`, that re-deriving it reproduces the committed table exactly.

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
  (the UCDP episode rule). **Onset:** the first year of an episode. {check}
- **Decades** are calendar decades 1990-1999, 2000-2009, 2010-2019; 2020 enters only the 1990-2020 rows.
- **Durations** use completed episodes that start after 1946 (not left-censored) and end before 2020 (not
  right-censored). Leaving out the episodes still active in 2020 biases mean and share >= 7 years downwards;
  durations are in calendar years, so an episode confined to one year counts as 1.
- **Transitions** pair each conflict-year t (1990-2019) with the same conflict's state in t+1; a conflict absent in
  t+1 is inactive. Year-on-year, not day-to-day.
- **Recurrence:** an onset recurs if any type 3-4 conflict (the same or another `conflict_id`) was active in the
  same `gwno_loc` in any of the {RECURRENCE_WINDOW} preceding years. Only onsets from {rec_from} on count,
  so the look-back lies inside the data. This differs from WDR 2011 section 29 ("90 % of conflicts started in
  the 2000s were in countries with a prior civil war"): the look-back is limited to 30 years, and a prior conflict
  need only have been minor (>= 25 deaths), not a civil war.
- **Post-conflict hazard:** location-years t (1990-2020) with no type 3-4 conflict active in t-1 but one active
  within t-{POST_CONFLICT_WINDOW}..t-2; the hazard is the share with an onset in t. The hazard *without* recent violence
  (Mueller: < 1 % a year) cannot be derived from the ACD alone, which lists no country-years without conflict.
- **Ever at war:** episodes starting 1947-2020 with at least one intensity-2 year; episodes still active in 2020 are
  counted as observed so far (a lower bound for them).

## Use in the model

`python -m sim.patterns` sets the targets beside the model's output where a comparison means something, and says
where it does not. The model follows one regional crisis for 365 days on a latent daily tension scale whose phase
lines are not calibrated to battle deaths; UCDP counts country conflicts per calendar year over decades. Loosely
comparable: the share of the model's escalations that reach war within the horizon (against
`share_episodes_war_first_year` and `share_episodes_ever_war`), and the direction and size of the effect of conflict
history (against `post_conflict_onset_hazard`, `recurrence_share_onsets` and Mueller's < 1 % vs > 9 %). Counts,
durations and year-on-year transitions have no counterpart in a one-year, one-crisis model.

## Targets

| target | value | unit | period | definition |
|---|---|---|---|---|
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
    (out / README.name).write_text(readme(rows, sha256(path), n_rows, args.date, path.name, check), encoding="utf-8")
    print(f"wrote {out / TARGETS.name} ({len(rows)} targets) and {out / README.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
