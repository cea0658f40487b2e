"""Interval estimates for replicate outcomes: proportions, paired differences and means."""

from __future__ import annotations

import math

import numpy as np

Z95 = 1.959963984540054  # two-sided 95 %


def wilson(count: int, n: int, z: float = Z95) -> tuple[float, float, float]:
    """Proportion with its Wilson score interval (Wilson 1927): (estimate, low, high)."""
    if n <= 0:
        return (math.nan, math.nan, math.nan)
    p = count / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (p, max(0.0, centre - half), min(1.0, centre + half))


def proportion(flags: np.ndarray) -> dict:
    """{probability, ci_low, ci_high, count} for a boolean outcome over worlds."""
    flags = np.asarray(flags, dtype=bool)
    k = int(flags.sum())
    p, lo, hi = wilson(k, flags.size)
    return {"probability": p, "ci_low": lo, "ci_high": hi, "count": k}


def paired_difference(x: np.ndarray, y: np.ndarray, z: float = Z95) -> dict:
    """P(x) - P(y) for paired binary outcomes, with Newcombe's (1998, method 10) hybrid score interval.

    ``x`` and ``y`` are the same worlds under two policies (common random numbers), so the
    difference is estimated from the discordant pairs: b = x and not y, c = y and not x.
    """
    x, y = np.asarray(x, dtype=bool), np.asarray(y, dtype=bool)
    n = x.size
    a = int((x & y).sum())
    b = int((x & ~y).sum())
    c = int((~x & y).sum())
    d = n - a - b - c
    if n == 0:
        return {"estimate": math.nan, "ci_low": math.nan, "ci_high": math.nan, "x_only": 0, "y_only": 0}
    p1, l1, u1 = wilson(a + b, n, z)
    p2, l2, u2 = wilson(a + c, n, z)
    denom = (a + b) * (c + d) * (a + c) * (b + d)
    if denom == 0:
        phi = 0.0
    else:
        num = a * d - b * c
        # Newcombe's continuity adjustment of phi, applied when the association is positive.
        num = max(num - n / 2, 0.0) if num > 0 else num
        phi = num / math.sqrt(denom)
    theta = (b - c) / n
    delta = math.sqrt(max((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2, 0.0))
    eps = math.sqrt(max((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2, 0.0))
    return {
        "estimate": theta,
        "ci_low": max(-1.0, theta - delta),
        "ci_high": min(1.0, theta + eps),
        "x_only": b,
        "y_only": c,
    }


#: Worlds above which the bootstrap resamples a random subset of this size per resample round (memory).
BOOTSTRAP_RESAMPLES = 2000


def bootstrap_mean_interval(values: np.ndarray, level: float = 0.95, resamples: int = BOOTSTRAP_RESAMPLES,
                            seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean (Efron & Tibshirani 1993, ch. 13).

    Every resampled mean lies within the sample's range, so the interval respects the support: a mean
    of non-negative quantities (costs, days, counts) never gets a negative bound, however skewed the
    data (war costs: mostly zero, a few very large). A fixed seed keeps summaries reproducible. Resampling
    is done in blocks so memory stays bounded for large samples."""
    v = np.asarray(values, dtype=float)
    n = v.size
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    block = max(1, min(resamples, 4_000_000 // max(n, 1)))
    for start in range(0, resamples, block):
        stop = min(start + block, resamples)
        idx = rng.integers(0, n, size=(stop - start, n))
        means[start:stop] = v[idx].mean(axis=1)
    alpha = (1 - level) / 2
    lo, hi = np.quantile(means, [alpha, 1 - alpha])
    return float(lo), float(hi)


def mean_interval(values: np.ndarray, z: float = Z95) -> dict:
    """Mean with a 95 % interval; NaNs (undefined for a world) are dropped.

    The normal approximation (mean +- z s / sqrt(n)) where it stays inside the range of the data; where it
    does not (skewed, zero-inflated outcomes such as war costs, whose normal interval can go negative), a
    percentile bootstrap interval, which cannot leave the data's range (:func:`bootstrap_mean_interval`)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    n = v.size
    if n == 0:
        return {"mean": None, "ci_low": None, "ci_high": None, "median": None, "n": 0}
    mean = float(v.mean())
    low = high = None
    if n > 1:
        half = z * float(v.std(ddof=1)) / math.sqrt(n)
        low, high = mean - half, mean + half
        vmin, vmax = float(v.min()), float(v.max())
        if low < vmin or high > vmax:
            level = 1 - 2 * (1 - _normal_cdf(z))
            low, high = bootstrap_mean_interval(v, level)
            low, high = min(low, mean), max(high, mean)
    return {
        "mean": mean,
        "ci_low": low,
        "ci_high": high,
        "median": float(np.median(v)),
        "n": int(n),
    }


def _normal_cdf(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))
