"""The threshold finder on cases with known answers: a step, a straight line with common random
numbers (the answer computed independently by brute force), a falling lever, and the model."""

from __future__ import annotations

import numpy as np
import pytest

from sim.sweep.threshold import Z_ONE_SIDED_95, find_threshold, main, one_sided_bounds, report


def uniforms(seed: int, n: int) -> np.ndarray:
    """The worlds of one batch: the same for every lever value (common random numbers)."""
    return np.random.default_rng(seed).random(n)


def toy(probability):
    """escalations(value, seed, n) for a world that escalates when its uniform is below p(value)."""
    return lambda value, seed, n: int((uniforms(seed, n) < probability(value)).sum())


def test_step_function_answer_is_the_step():
    # 2 % escalation up to a lag of 30 days, 50 % beyond: below 10 % exactly up to 30.
    result = find_threshold(toy(lambda v: 0.02 if v <= 30 else 0.5), 0, 180, 0.10, replicates=400)
    assert result.value == 30 and result.first_unsafe == 31
    assert "lies in [30, 31]" in report(result, "days")


def brute_force(probability, target, replicates, max_replicates, seed=0, hi=100):
    """The largest v whose pooled batches (added while straddling) end with an upper bound below target."""
    best = None
    for v in range(hi + 1):
        k = n = b = 0
        while True:
            k += int((uniforms(seed + b, replicates) < probability(v)).sum())
            n += replicates
            b += 1
            _, lo, hi_ = one_sided_bounds(k, n)
            if hi_ < target or lo > target or n + replicates > max_replicates:
                break
        if hi_ < target:
            best = v
        else:
            break
    return best


def test_linear_case_matches_brute_force_and_adds_replicates_only_near_the_target():
    p = lambda v: v / 100  # noqa: E731 -- escalation rises 1 point per day of lag; 20 % at 20 days
    result = find_threshold(toy(p), 0, 100, 0.20, replicates=500, max_replicates=8000)
    assert result.value == brute_force(p, 0.20, 500, 8000)
    assert 14 <= result.value < 20  # below the true crossing: the bound is one-sided 95 %
    ev = {e.value: e for e in result.evaluations}
    assert ev[result.value].bounds()[2] < 0.20
    assert ev[0].replicates == ev[100].replicates == 500  # far from the target: one batch
    assert max(e.replicates for e in result.evaluations) > 500  # near it: more worlds
    assert all(e.replicates <= 8000 for e in result.evaluations)


def test_falling_lever_finds_the_smallest_safe_value():
    # Escalation falls with flexibility: 60 % at 0, 0 % at 1; below 20 % from 2/3 on.
    result = find_threshold(toy(lambda v: 0.6 * (1 - v)), 0.0, 1.0, 0.20, integer=False, tolerance=0.01,
                            replicates=2000, max_replicates=16000, increasing=False,
                            lever="policy.flexibility")
    assert 2 / 3 < result.value < 0.8
    assert result.first_unsafe < result.value and result.value - result.first_unsafe <= 0.01
    assert "smallest policy.flexibility" in report(result)


def test_no_safe_value_and_whole_range_safe():
    none = find_threshold(toy(lambda v: 0.5), 0, 50, 0.10)
    assert none.value is None and "No policy.warning_to_action_lag_days" in report(none)
    all_safe = find_threshold(toy(lambda v: 0.0), 0, 50, 0.10)
    assert all_safe.value == 50 and len(all_safe.evaluations) == 2


def test_one_sided_bounds_are_the_90_percent_wilson_interval():
    p, lo, hi = one_sided_bounds(50, 1000)
    assert p == 0.05 and lo < 0.05 < hi
    z = Z_ONE_SIDED_95
    centre = (0.05 + z * z / 2000) / (1 + z * z / 1000)
    assert (lo + hi) / 2 == pytest.approx(centre)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="target"):
        find_threshold(toy(lambda v: 0.1), 0, 10, 10)
    with pytest.raises(ValueError, match="low must be below high"):
        find_threshold(toy(lambda v: 0.1), 10, 0, 0.1)


def test_model_threshold_agrees_with_an_independent_run(capsys):
    """The command on the model; the answer's escalation count equals a separate run of the same point."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import OmegaConf

    from sim.config import CONFIG_DIR, register_configs

    register_configs()
    from sim.runner import run

    args = ["--below", "30", "--low", "0", "--high", "120", "--replicates", "100", "--max-replicates", "200",
            "horizon_days=90"]
    GlobalHydra.instance().clear()
    assert main(args) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("The largest"))
    answer = float(line.rsplit(":", 1)[1].split()[0])
    row = next(x.split() for x in out.splitlines() if x.split() and x.split()[0] == f"{answer:g}")
    worlds, escalated = int(row[1]), int(row[2])
    GlobalHydra.instance().clear()
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("config", ["horizon_days=90", "counterfactual.enabled=false"])
    count = 0
    for batch in range(worlds // 100):  # batch k has seed k: the finder's common random numbers
        OmegaConf.update(cfg, "policy.warning_to_action_lag_days", int(answer))
        OmegaConf.update(cfg, "seed", batch)
        OmegaConf.update(cfg, "replicates", 100)
        count += int(run(cfg, keep_models=False).outcomes["escalated"].sum())
    assert count == escalated


def test_command_reports_bad_input_without_traceback(capsys):
    assert main(["--below", "10", "--lever", "policy.flexibilty"]) == 2
    assert "policy.flexibilty is not a parameter" in capsys.readouterr().err
    assert main(["--below", "10", "--low", "0", "--high", "9999"]) == 2
    assert "not allowed" in capsys.readouterr().err
