"""Read what a run or a sweep wrote: tables only, no Hydra, no simulation.

A **run directory** holds summary.json, outcomes.parquet, twin_outcomes.parquet (when a twin ran) and
timeseries.parquet; a **sweep directory** holds results.parquet (one row per point), sweep.json (the
plan), multirun.yaml (Hydra's sweep config) and, for a design, design.csv and sensitivity.csv.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


class AnalysisInputError(ValueError):
    """A directory or table the analysis cannot use; the message names what is missing."""


@dataclass
class Run:
    """One run: its summary and per-world tables (``twin`` None when no twin ran)."""

    directory: Path | None
    summary: dict[str, Any]
    outcomes: pd.DataFrame
    twin: pd.DataFrame | None = None
    timeseries: pd.DataFrame | None = None
    twin_timeseries: pd.DataFrame | None = None
    label: str = "policy"

    @property
    def horizon(self) -> int:
        return int(self.summary.get("horizon_days") or self.summary["config"]["horizon_days"])

    @property
    def twin_policy(self) -> dict[str, Any]:
        cf = self.summary.get("counterfactual") or {}
        return dict(cf.get("policy") or {"intervene": False})

    def provenance(self) -> dict[str, Any]:
        s = self.summary
        return {"scenario": s.get("scenario", "?"), "replicates": s.get("replicates", "?"),
                "seed": s.get("seed", "?"), "version": s.get("version", "?")}


@dataclass
class Sweep:
    """One sweep: its table, plan and (design sweeps) design matrix and sensitivity table."""

    directory: Path
    table: pd.DataFrame
    plan: dict[str, Any] = field(default_factory=dict)
    hydra: dict[str, Any] = field(default_factory=dict)

    @property
    def swept(self) -> list[str]:
        keys = self.plan.get("swept") or [c.removeprefix("param.") for c in self.table.columns
                                          if c.startswith("param.")]
        return [k for k in keys if f"param.{k}" in self.table and self.table[f"param.{k}"].nunique() > 1]

    @property
    def design(self) -> str | None:
        return self.plan.get("design")

    def provenance(self) -> dict[str, Any]:
        t = self.table

        def one(col: str) -> Any:
            if col not in t:
                return "?"
            values = t[col].dropna().unique().tolist()
            return values[0] if len(values) == 1 else "various"

        return {"scenario": one("scenario"), "replicates": one("replicates"), "seed": one("seed"),
                "version": one("version")}

    def run(self, point: int) -> Run:
        """The run files of one point (its job directory), for survival curves."""
        row = self.table.loc[self.table["point"] == point].iloc[0]
        job = self.directory / str(int(row["job"])) if "job" in row and pd.notna(row["job"]) else None
        if job is None or not (job / "outcomes.parquet").exists():
            raise AnalysisInputError(f"point {point}: its job directory with outcomes.parquet is missing")
        return load_run(job)


def _parquet(path: Path) -> pd.DataFrame | None:
    return pd.read_parquet(path) if path.exists() else None


def load_run(directory: str | Path) -> Run:
    d = Path(directory)
    if not (d / "summary.json").exists() or not (d / "outcomes.parquet").exists():
        raise AnalysisInputError(f"{d} is not a run directory: summary.json and outcomes.parquet are needed")
    return Run(d, json.loads((d / "summary.json").read_text()), pd.read_parquet(d / "outcomes.parquet"),
               _parquet(d / "twin_outcomes.parquet"), _parquet(d / "timeseries.parquet"),
               _parquet(d / "twin_timeseries.parquet"))


def load_sweep(directory: str | Path) -> Sweep:
    d = Path(directory)
    if not (d / "results.parquet").exists():
        raise AnalysisInputError(f"{d} is not a sweep directory: results.parquet is missing "
                                 "(pdsim-merge DIR rebuilds it from the points' rows)")
    table = pd.read_parquet(d / "results.parquet")
    if table.empty:
        raise AnalysisInputError(f"{d}/results.parquet has no rows")
    if "point" not in table:
        table.insert(0, "point", np.arange(len(table)))
    plan = json.loads((d / "sweep.json").read_text()) if (d / "sweep.json").exists() else {}
    hydra: dict[str, Any] = {}
    if (d / "multirun.yaml").exists():
        from omegaconf import OmegaConf

        try:
            node = OmegaConf.load(d / "multirun.yaml")
            sweeper = OmegaConf.select(node, "hydra.sweeper")
            hydra = OmegaConf.to_container(sweeper, resolve=False) if sweeper is not None else {}
        except Exception:  # noqa: BLE001 -- the analysis works without Hydra's record
            hydra = {}
    return Sweep(d, table, plan, hydra)


def kind(directory: str | Path) -> str:
    """'sweep', 'run', or raise naming what a usable directory holds."""
    d = Path(directory)
    if not d.is_dir():
        raise AnalysisInputError(f"DIR = {str(d)!r} is not a directory: give a run directory (summary.json) "
                                 "or a sweep directory (results.parquet)")
    if (d / "results.parquet").exists():
        return "sweep"
    if (d / "summary.json").exists():
        return "run"
    raise AnalysisInputError(f"DIR = {str(d)!r} holds neither results.parquet (a sweep) nor summary.json "
                             "(a run)")


def outcome_column(table: pd.DataFrame, base: str) -> tuple[str, str, str] | None:
    """(estimate, ci_low, ci_high) columns of an outcome ('escalation', 'war', 'unresolved', ...)."""
    for est in (f"{base}.probability", f"{base}.estimate", f"{base}.mean"):
        if est in table:
            return est, f"{base}.ci_low", f"{base}.ci_high"
    return None
