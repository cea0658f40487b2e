"""Shared helpers: configurations by dotted overrides, and paired runs under common random numbers."""

from __future__ import annotations

import numpy as np
import pytest
from omegaconf import OmegaConf

from sim.config import RunConfig
from sim.results import world_outcomes
from sim.runner import configure, resolve, simulate
from sim.stats import Z95


def make_config(*overrides: str, **kw) -> RunConfig:
    """A resolved RunConfig from dotted overrides, e.g. make_config("policy.flexibility=0.2");
    keyword arguments (``a__b=value``) set structured values such as lists and dicts."""
    cfg = configure(*overrides)
    if not kw:
        return cfg
    node = OmegaConf.structured(cfg)
    for key, value in kw.items():
        OmegaConf.update(node, key.replace("__", "."), value, merge=True)
    return resolve(node)


def outcomes(*overrides: str, **kw) -> dict[str, np.ndarray]:
    """Per-world outcomes of one run (no twin)."""
    model, _ = simulate(make_config(*overrides, **kw))
    return world_outcomes(model)


def paired_mean_difference(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Mean of x - y over the same worlds, with a normal 95 % interval (paired: common random numbers)."""
    d = np.asarray(x, dtype=float) - np.asarray(y, dtype=float)
    d = d[np.isfinite(d)]
    half = Z95 * d.std(ddof=1) / np.sqrt(d.size)
    return float(d.mean()), float(d.mean() - half), float(d.mean() + half)


@pytest.fixture
def small():
    """Overrides for a quick run."""
    return ("replicates=200", "horizon_days=120")


# -- on every core: `pytest -n auto --dist loadgroup` (.ci/test) ---------------------------------------------------
@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Keep the xdist_group marks working under pytest >= 9.2 (pytest-xdist#1386, open). xdist's workers name each
    grouped test "<nodeid>@<group>" for its loadgroup scheduler, but pytest 9.2's structured node ids ignore the
    attribute xdist writes: the groups were dropped silently and each worker computed the whole lever matrix. Here
    the name is set where pytest 9.2 keeps it; if that stops working too, the run stops and says so. (The controller
    re-reads a parametrised test's name and shows it as "test[p]@group]": cosmetic.)"""
    if not getattr(config.option, "loadgroup", False):  # set on xdist's workers under --dist loadgroup only
        return
    for item in items:
        groups = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                         for m in item.iter_markers("xdist_group")})
        if not groups or item.nodeid.rfind("@") > item.nodeid.rfind("]"):  # ungrouped, or xdist named it itself
            continue
        from _pytest.nodeid import NodeId

        want = f"{item.nodeid}@{'_'.join(groups)}"
        item._id = NodeId.parse(want)
        if item.nodeid != want:
            raise pytest.UsageError(f"cannot give {item.name} its xdist group (pytest-xdist#1386): run with -n 0")
