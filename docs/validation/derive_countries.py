"""Derive the world mode's country table ``configs/world/countries.csv`` from committed inputs and UCDP/PRIO ACD 21.1.

Standalone (standard library + pandas). Run from anywhere:

    python docs/validation/derive_countries.py [PATH_TO_UCDP_CSV] [--out FILE]

PATH defaults to ``../shared/data/ucdp-prio-acd-211.csv`` relative to the repository root. Inputs committed in
``configs/world/sources/``: ``gw_states.csv`` (the Gleditsch & Ward list of independent states, with the ISO-2 codes
of each state's territory in 2000 added by hand) and ``country_borders.csv`` (GeoDataSource's land borders by ISO-2
code). Provenance, licences and the inclusion rule: ``configs/world/README.md``. The model reads only the committed
``countries.csv``, never the UCDP file.

Inclusion rule (one row per country of the simulated world):

1. Gleditsch-Ward independent states on 1 January 2000 that are not microstates (G-W's < 250,000 inhabitants);
2. of these, every state with a land neighbour in the list, and every state with a type 3-4 (intrastate or
   internationalised intrastate) conflict in its territory 1946-2010; states with neither (islands that never had
   an armed conflict, such as Iceland, Japan or Fiji) are left out: a node without edges and without history adds
   nothing to a neighbour network whose record is conflict.

UCDP locations of states that no longer existed on 1 January 2000 are counted in the state that held the
territory then (``SUCCESSOR``: South Vietnam -> Vietnam, Hyderabad -> India, South Yemen -> Yemen). Columns:

- ``gwno``, ``name``: Gleditsch-Ward code and name;
- ``region``: UCDP's region of the location (1 Europe, 2 Middle East, 3 Asia, 4 Africa, 5 Americas), and for
  countries UCDP never lists, the region of UCDP's G-W code ranges (``region_of_code``; Oceania goes with Asia);
- ``neighbours``: space-separated gwno of land neighbours also in the table (symmetric);
- ``conflict_years_1946_1989``: calendar years 1946-1989 with any type 3-4 conflict active in the country,
  ``war_years_1946_1989`` those with one at intensity 2 (>= 1,000 battle deaths), ``last_active_year_before_1990``
  (empty if none), ``state_1989``: none / minor / war, the highest intensity in 1989.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEFAULT_INPUT = REPO.parent / "shared" / "data" / "ucdp-prio-acd-211.csv"
WORLD = REPO / "configs" / "world"
STATES = WORLD / "sources" / "gw_states.csv"
BORDERS = WORLD / "sources" / "country_borders.csv"
COUNTRIES = WORLD / "countries.csv"
COLUMNS = ("gwno", "name", "region", "neighbours", "conflict_years_1946_1989", "war_years_1946_1989",
           "last_active_year_before_1990", "state_1989")
ON_DATE = "2000-01-01"
TYPES = (3, 4)
HISTORY = (1946, 1989)
LAST_YEAR_IN_TERRITORY_RULE = 2010  # conflicts up to this year must have their country in the table
#: UCDP locations of states gone by 2000 -> the G-W state holding the territory on 1 January 2000.
SUCCESSOR = {817: 816, 751: 750, 680: 678}
#: UCDP's region codes -> the names the world mode uses.
REGIONS = {1: "Europe", 2: "Middle East", 3: "Asia", 4: "Africa", 5: "Americas"}
STATE_NAMES = ("none", "minor", "war")


def region_of_code(gwno: int) -> str:
    """UCDP's regions by G-W code range: 2-199 Americas, 200-399 Europe, 400-626 Africa (North Africa included,
    Egypt not), 630-699 Middle East, 700-999 Asia (Oceania included)."""
    if gwno < 200:
        return "Americas"
    if gwno < 400:
        return "Europe"
    if gwno <= 626:
        return "Africa"
    if gwno < 700:
        return "Middle East"
    return "Asia"


def states_on(path: Path = STATES, date: str = ON_DATE) -> pd.DataFrame:
    """G-W independent states (not microstates) existing on ``date``: gwno, name, iso2 (space-separated)."""
    g = pd.read_csv(path, dtype=str, keep_default_na=False)
    alive = (g["start"] <= date) & ((g["end"] == "") | (g["end"] >= date)) & (g["microstate"] == "no")
    out = g[alive].copy()
    out["gwno"] = out["gwno"].astype(int)
    if (out["iso2"] == "").any():
        raise ValueError(f"states without ISO-2 codes in {path.name}: {out.loc[out['iso2'] == '', 'name'].tolist()}")
    return out[["gwno", "name", "iso2"]].sort_values("gwno").reset_index(drop=True)


def land_borders(states: pd.DataFrame, path: Path = BORDERS) -> dict[int, set[int]]:
    """Land neighbours by gwno among ``states``, from ISO-2 border pairs; made symmetric (a pair listed one way
    only counts both ways)."""
    to_gw = {code: int(gw) for gw, codes in zip(states["gwno"], states["iso2"], strict=True) for code in codes.split()}
    out: dict[int, set[int]] = {int(gw): set() for gw in states["gwno"]}
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            a, b = to_gw.get(row["country_code"]), to_gw.get(row["country_border_code"])
            if a is not None and b is not None and a != b:
                out[a].add(b)
                out[b].add(a)
    return out


def load_locations(path: Path) -> pd.DataFrame:
    """Type 3-4 conflict-years with one row per location (a multi-country ``gwno_loc`` such as "750, 770" is
    split), predecessor states mapped to their successor: conflict_id, year, intensity_level, region, gwno."""
    df = pd.read_csv(path, usecols=["conflict_id", "year", "intensity_level", "type_of_conflict", "gwno_loc",
                                    "region"], dtype={"gwno_loc": str, "region": str})
    df = df[df["type_of_conflict"].isin(TYPES)].copy()
    df["gwno"] = df["gwno_loc"].str.split(",")
    df["region_code"] = df["region"].str.split(",")
    # UCDP lists one region per location, in the same order; if a row ever lists fewer, its first region holds.
    same = df["gwno"].str.len() == df["region_code"].str.len()
    df.loc[~same, "region_code"] = df.loc[~same].apply(lambda r: r["region_code"][:1] * len(r["gwno"]), axis=1)
    df = df.explode(["gwno", "region_code"])
    df["gwno"] = df["gwno"].str.strip().astype(int).replace(SUCCESSOR)
    df["region_code"] = df["region_code"].str.strip().astype(int)
    return df[["conflict_id", "year", "intensity_level", "region_code", "gwno"]].reset_index(drop=True)


def derive(ucdp: Path, states_path: Path = STATES, borders_path: Path = BORDERS) -> pd.DataFrame:
    states = states_on(states_path)
    loc = load_locations(ucdp)
    known = set(states["gwno"])
    early = loc[loc["year"] <= LAST_YEAR_IN_TERRITORY_RULE]
    stray = sorted(set(early["gwno"]) - known)
    if stray:
        raise ValueError(f"type 3-4 conflicts up to {LAST_YEAR_IN_TERRITORY_RULE} in locations that are no G-W state "
                         f"on {ON_DATE} and have no SUCCESSOR: {stray}")
    borders = land_borders(states, borders_path)
    with_conflict = set(early["gwno"])
    keep = [gw for gw in states["gwno"] if borders[gw] or gw in with_conflict]
    states = states[states["gwno"].isin(keep)].reset_index(drop=True)
    kept = set(keep)

    ucdp_region = loc.groupby("gwno")["region_code"].agg(lambda s: s.mode().iloc[0]).map(REGIONS).to_dict()
    hist = loc[loc["year"].between(*HISTORY)]
    by_year = hist.groupby(["gwno", "year"])["intensity_level"].max().reset_index()
    rows = []
    for gw, name in zip(states["gwno"], states["name"], strict=True):
        years = by_year[by_year["gwno"] == gw]
        in_1989 = years.loc[years["year"] == HISTORY[1], "intensity_level"]
        rows.append({
            "gwno": gw,
            "name": name,
            "region": ucdp_region.get(gw, region_of_code(gw)),
            "neighbours": " ".join(str(n) for n in sorted(borders[gw] & kept)),
            "conflict_years_1946_1989": len(years),
            "war_years_1946_1989": int((years["intensity_level"] == 2).sum()),
            "last_active_year_before_1990": int(years["year"].max()) if len(years) else "",
            "state_1989": STATE_NAMES[int(in_1989.iloc[0])] if len(in_1989) else "none",
        })
    return pd.DataFrame(rows, columns=list(COLUMNS))


def to_csv(table: pd.DataFrame) -> str:
    buf = io.StringIO()
    table.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", nargs="?", default=str(DEFAULT_INPUT), help="UCDP/PRIO ACD 21.1 CSV")
    ap.add_argument("--out", default=str(COUNTRIES), help="file to write (default configs/world/countries.csv)")
    args = ap.parse_args(argv)
    path = Path(args.path)
    if not path.exists():
        print(f"input not found: {path}", file=sys.stderr)
        return 1
    table = derive(path)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(to_csv(table), encoding="utf-8")
    counts = table["region"].value_counts().to_dict()
    print(f"wrote {out} ({len(table)} countries: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + ")")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
