"""Pattern-oriented validation against UCDP/PRIO ACD 21.1 (docs/validation/).

(a) the committed targets table is whole and plausible; (b) re-deriving it from the dataset, when the dataset is at
hand (``../shared/data/ucdp-prio-acd-211.csv``), gives exactly the committed table; (c) the pattern data and model
share: conflict history raises the risk of (re)escalation.
"""

import csv
import importlib.util
from pathlib import Path

import pytest

from sim.patterns import COLUMNS, TARGETS_PATH, load_targets, no_intervention
from sim.stats import paired_difference

REPO = Path(__file__).resolve().parent.parent
VALIDATION = REPO / "docs" / "validation"
UCDP = REPO.parent / "shared" / "data" / "ucdp-prio-acd-211.csv"
SHARES = (
    "share_conflict_years_at_war", "episode_share_7y_plus", "transition_minor_to_war", "transition_war_to_minor",
    "transition_active_to_inactive", "recurrence_share_onsets", "recurrence_share_onsets_2000s",
    "post_conflict_onset_hazard", "share_episodes_ever_war", "share_episodes_war_first_year",
)


@pytest.fixture(scope="module")
def targets():
    return load_targets()


def test_targets_file_has_documented_columns():
    assert TARGETS_PATH == VALIDATION / "ucdp_targets.csv"
    with open(TARGETS_PATH, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    assert tuple(reader.fieldnames) == COLUMNS
    assert 15 <= len(rows) <= 25
    assert all(r["target"] and r["unit"] and r["definition"] and r["period"] for r in rows)
    assert len({r["target"] for r in rows}) == len(rows)
    readme = (VALIDATION / "README.md").read_text(encoding="utf-8")
    for needle in ("21.1", "Gleditsch", "39(5)", "Davies", "58(4)", "sha256", "Derived:"):
        assert needle in readme
    for r in rows:  # every target is documented in the README
        assert f"`{r['target']}`" in readme


def test_targets_are_plausible(targets):
    v = {k: t["value"] for k, t in targets.items()}
    for name in SHARES:
        assert 0.0 < v[name] < 1.0, name
    assert v["episode_duration_median"] >= 1
    assert v["episode_duration_mean"] >= v["episode_duration_median"]  # right-skewed durations
    assert 20 <= v["active_conflicts_per_year"] <= 60
    for decade in ("1990s", "2000s", "2010s"):
        assert 10 <= v[f"active_conflicts_per_year_{decade}"] <= 70
        assert 20 <= v[f"onsets_{decade}"] <= 200
    # Wars end more often into minor conflict than minor conflicts become wars (year on year).
    assert v["transition_war_to_minor"] > v["transition_minor_to_war"]
    assert v["share_episodes_war_first_year"] <= v["share_episodes_ever_war"]
    # Recurrence: most onsets happen where there was conflict before (cf. WDR 2011 §29: 90 %).
    assert v["recurrence_share_onsets"] > 0.5
    # Post-conflict hazard of the order Mueller reports (> 9 % a year), far above < 1 % without recent violence.
    assert v["post_conflict_onset_hazard"] > 0.05
    for n in ("episodes_n", "episodes_completed_n", "onsets_recurrence_n"):
        assert v[n] == int(v[n]) and v[n] >= 100


@pytest.mark.skipif(not UCDP.exists(), reason="UCDP/PRIO ACD 21.1 not at ../shared/data (not part of the repo)")
def test_rederiving_gives_committed_table(tmp_path):
    spec = importlib.util.spec_from_file_location("derive_targets", VALIDATION / "derive_targets.py")
    derive = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(derive)
    assert derive.main([str(UCDP), "--out", str(tmp_path), "--date", "2000-01-01"]) == 0
    assert (tmp_path / "ucdp_targets.csv").read_text(encoding="utf-8") == TARGETS_PATH.read_text(encoding="utf-8")
    readme = (VALIDATION / "README.md").read_text(encoding="utf-8")
    assert derive.sha256(UCDP) in readme  # the committed provenance names this very file


@pytest.mark.parametrize("mechanism", ["on", "off"])
def test_conflict_history_raises_escalation(mechanism):
    """Data and model share it: conflict history raises the risk of (re)escalation (§29; Mueller; UCDP recurrence).
    Same seed for both arms (common random numbers), no intervention. Off: the conflict trap is switched off, so
    history changes nothing and the test's interval must include zero."""
    off = ("dynamics.conflict_trap=0",) if mechanism == "off" else ()
    history = no_intervention(2000, 11, True, *off)
    none = no_intervention(2000, 11, False, *off)
    d = paired_difference(history["escalated"], none["escalated"])
    if mechanism == "on":
        assert d["ci_low"] > 0, d
    else:
        assert d["ci_low"] <= 0 <= d["ci_high"], d
