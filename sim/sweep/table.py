"""Merge the rows of a sweep directory into one tidy table: results.parquet and results.csv.

Run at the end of every sweep by the pdsim sweepers, and by hand with ``pdsim-merge SWEEP_DIR``
(e.g. after a sweep on a launcher that was killed, or one run with Hydra's basic sweeper).
The table is rebuilt from the row files each time, so it can never hold half a row: a row file is
whole or absent (sim.sweep.rows.write_row), and the table files are replaced atomically.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import pandas as pd

from sim.files import atomic_write
from sim.sweep import ROW_FILE
from sim.sweep.plan import load_plan
from sim.sweep.rows import read_row

TABLE = "results"


def collect_rows(sweep_dir: Path, hashes: set[str] | None = None) -> list[dict]:
    """Every whole row under ``sweep_dir`` (newest per config hash), optionally only the given hashes."""
    rows: dict[str, dict] = {}
    for path in sorted(Path(sweep_dir).rglob(ROW_FILE)):
        row = read_row(path)
        if row is None or (hashes is not None and row["config_hash"] not in hashes):
            continue
        old = rows.get(row["config_hash"])
        if old is None or str(row.get("timestamp")) >= str(old.get("timestamp")):
            rows[row["config_hash"]] = row
    return list(rows.values())


def build_table(sweep_dir: Path) -> pd.DataFrame:
    """The sweep's table: one row per point, in the order the sweep declared its points."""
    plan = load_plan(sweep_dir)
    order: dict[str, int] = {}
    if plan:
        for p in plan["points"]:
            order.setdefault(p["config_hash"], p["index"])
    rows = collect_rows(sweep_dir, set(order) if order else None)
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    df.insert(0, "point", [order.get(h, i) for i, h in enumerate(df["config_hash"])])
    return df.sort_values("point", kind="stable").reset_index(drop=True)


def write_table(sweep_dir: str | os.PathLike) -> tuple[pd.DataFrame, list[Path]]:
    """Rebuild results.parquet and results.csv in ``sweep_dir``; return the table and the files."""
    sweep_dir = Path(sweep_dir)
    df = build_table(sweep_dir)
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
    df, files = write_table(args.sweep_dir)
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
