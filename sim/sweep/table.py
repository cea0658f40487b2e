"""Merge the rows of a sweep directory into one tidy table: results.parquet and results.csv.

Run at the end of every sweep by the pdsim sweepers, and by hand with ``pdsim-merge SWEEP_DIR``
(e.g. after a sweep on a launcher that was killed, or one run with Hydra's basic sweeper).
The table is rebuilt from the row files each time, so it can never hold half a row: a row file is
whole or absent (sim.sweep.rows.write_row), and the table files are replaced atomically. Each row is
checked on reading (sim.sweep.rows.check_row); an invalid one is reported and left out, and a resumed
sweep simulates its point again. The table holds rows of one model code version only: the running
code's if any row has it, else the newest row's; rows of other code are reported and left out.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from sim.files import atomic_write
from sim.sweep.plan import load_plan
from sim.sweep.rows import describe_bad, scan_rows

TABLE = "results"


def _code(row: dict) -> tuple[str, str]:
    return (str(row.get("version")), str(row.get("code_hash")))


def collect_rows(sweep_dir: Path, hashes: set[str] | None = None, code: tuple[str, str] | None = None,
                 warn: Callable[[str], None] | None = None) -> list[dict]:
    """Every valid row under ``sweep_dir`` (newest per config hash), optionally only the given hashes,
    all from one model code version.

    The version kept is ``code`` (version, code_hash) when any row has it (a sweep passes the code it
    runs), else the code of the newest row. Rows of other code and unreadable or invalid rows are left
    out, and ``warn`` is told which (a table never mixes model versions or trusts a hand-edited row)."""
    good, bad = scan_rows(sweep_dir)
    if bad and warn:
        warn(describe_bad(bad, sweep_dir))
    if hashes is not None:
        good = [r for r in good if r["config_hash"] in hashes]
    codes = {_code(r) for r in good}
    if code is None or tuple(code) not in codes:
        newest = max(good, key=lambda r: str(r.get("timestamp")), default=None)
        code = _code(newest) if newest else None
    kept = [r for r in good if _code(r) == tuple(code)] if code else []
    if warn and len(kept) < len(good):
        others = Counter(_code(r) for r in good if _code(r) != tuple(code))
        listed = ", ".join(f"{n} of version {v} code {c}" for (v, c), n in others.most_common())
        warn(f"{len(good) - len(kept)} rows come from other model code and are left out of the table "
             f"({listed}); the table holds only version {code[0]} code {code[1]} "
             f"({len(kept)} rows). Run the sweep again to simulate those points with this code.")
    rows: dict[str, dict] = {}
    for row in kept:
        row = {k: v for k, v in row.items() if k != "_path"}
        old = rows.get(row["config_hash"])
        if old is None or str(row.get("timestamp")) >= str(old.get("timestamp")):
            rows[row["config_hash"]] = row
    return list(rows.values())


def build_table(sweep_dir: Path, code: tuple[str, str] | None = None,
                warn: Callable[[str], None] | None = None) -> pd.DataFrame:
    """The sweep's table: one row per point, in the order the sweep declared its points."""
    plan = load_plan(sweep_dir)
    order: dict[str, int] = {}
    if plan:
        for p in plan["points"]:
            order.setdefault(p["config_hash"], p["index"])
    rows = collect_rows(sweep_dir, set(order) if order else None, code, warn)
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    df.insert(0, "point", [order.get(h, i) for i, h in enumerate(df["config_hash"])])
    return df.sort_values("point", kind="stable").reset_index(drop=True)


def write_table(sweep_dir: str | os.PathLike, code: tuple[str, str] | None = None,
                warn: Callable[[str], None] | None = None) -> tuple[pd.DataFrame, list[Path]]:
    """Rebuild results.parquet and results.csv in ``sweep_dir``; return the table and the files."""
    sweep_dir = Path(sweep_dir)
    df = build_table(sweep_dir, code, warn)
    if df.empty:
        return df, []
    parquet, csv = sweep_dir / f"{TABLE}.parquet", sweep_dir / f"{TABLE}.csv"
    atomic_write(parquet, lambda p: df.to_parquet(p, index=False))
    atomic_write(csv, lambda p: df.to_csv(p, index=False))
    return df, [parquet, csv]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="pdsim-merge", description="Rebuild results.parquet/.csv and the curves of a sweep directory."
    )
    parser.add_argument("sweep_dir", type=Path)
    parser.add_argument("--no-plot", action="store_true", help="only the table")
    args = parser.parse_args(argv)
    if not args.sweep_dir.is_dir():
        print(f"pdsim-merge: {args.sweep_dir} is not a directory", file=sys.stderr)
        return 2
    from sim import __version__
    from sim.sweep.rows import model_code_hash

    def warn(message: str) -> None:
        print(f"pdsim-merge: {message}", file=sys.stderr)

    try:
        df, files = write_table(args.sweep_dir, (__version__, model_code_hash()), warn)
    except OSError as err:
        print(f"pdsim-merge: cannot write the table into {args.sweep_dir}: {err.strerror or err}", file=sys.stderr)
        return 2
    if df.empty:
        print(f"pdsim-merge: no finished point in {args.sweep_dir}", file=sys.stderr)
        return 1
    if not args.no_plot:
        from sim.sweep.curves import draw_for_sweep

        files += draw_for_sweep(args.sweep_dir, df)
    print(f"{len(df)} points -> " + ", ".join(str(f) for f in files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
