"""The lever matrix (sim/levers.py): every headline lever's sign in every preset, paired under common random
numbers, at each preset's historical levers (the default policy for ``generic``).

A cell passes when the paired 95 % interval of "worse arm minus better arm" lies above zero. The roster can only
matter where crises overlap (§62): where envoys seldom go to two countries at once, it must merely not point the
wrong way; where they overlap they do so in few worlds, so the roster's row runs ten times the worlds. Cells the
model gets wrong are listed in KNOWN_MISSES with the reason and marked as strict
expected failures: they are reported (README, "Is it credible?"), not hidden, and a cell that starts passing
fails the suite until the list is updated. Fixed seed: the numbers are the same on every run.

The matrix is computed one preset at a time (each preset's arms are its own, so its rows are the same as in the
whole matrix), and each preset's tests form one xdist group: with ``pytest -n 2 --dist loadgroup`` (``.ci/test``)
the two workers share the presets instead of each computing the whole matrix.
"""

from __future__ import annotations

import functools

import pytest

from sim.config import scenario_names
from sim.levers import CONTRASTS, lever_matrix

R = 3000  # as in the README's table (`python -m sim.levers`; the roster's row 10x): the same seed, the same numbers

#: (preset, lever) -> why the model misses the report's sign there. Empty since 30 Nov 2026: the last miss, the
#: roster in Kyrgyzstan (+0.1 [-0.1, +0.2] at 3,000 worlds), was too small an effect for 3,000 worlds to resolve,
#: and the roster's row now runs 10x the worlds (sim.levers.Contrast.worlds_factor; +0.16 [+0.11, +0.21] at 30,000,
#: +0.15 [+0.10, +0.21] with seed 1). A new miss is listed here with its reason.
KNOWN_MISSES: dict[tuple[str, str], str] = {}


@functools.cache
def preset_rows(preset: str) -> dict[str, dict]:
    """One preset's row of the matrix, lever -> cell (about a minute of one core at R = 3000)."""
    return {r["lever"]: r for r in lever_matrix(presets=[preset], replicates=R, seed=0)}


def together(preset: str):
    """A preset's tests run on one xdist worker, so its arms are computed once."""
    return pytest.mark.xdist_group(f"lever-matrix-{preset}")


CELLS = [
    pytest.param(p, c.lever, id=f"{p}-{c.lever}",
                 marks=[together(p), *([pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[(p, c.lever)])]
                                       if (p, c.lever) in KNOWN_MISSES else [])])
    for p in scenario_names() for c in CONTRASTS
]


@pytest.mark.parametrize(("preset", "lever"), CELLS)
def test_lever_points_the_way_the_report_says(preset, lever):
    cell = preset_rows(preset)[lever]
    if not cell["applies"]:  # the roster where crises seldom overlap: little to queue for
        assert cell["ci_high"] >= 0 and abs(cell["estimate"]) < 0.01, cell
        return
    assert cell["ci_low"] > 0, cell


@pytest.mark.parametrize("preset", [pytest.param(p, marks=together(p)) for p in scenario_names()])
def test_no_lever_points_the_wrong_way_outside_the_known_misses(preset):
    """Outside the listed misses no interval lies wholly below zero (a lever that points the wrong way would be
    a new miss, to be fixed or listed with its reason)."""
    wrong = {(preset, lever): (round(r["estimate"], 4), round(r["ci_high"], 4))
             for lever, r in preset_rows(preset).items() if r["ci_high"] < 0 and (preset, lever) not in KNOWN_MISSES}
    assert not wrong, wrong
