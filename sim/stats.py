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


def mean_interval(values: np.ndarray, z: float = Z95) -> dict:
    """Mean with a normal-approximation interval; NaNs (undefined for a world) are dropped."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    n = v.size
    if n == 0:
        return {"mean": None, "ci_low": None, "ci_high": None, "median": None, "n": 0}
    mean = float(v.mean())
    half = z * float(v.std(ddof=1)) / math.sqrt(n) if n > 1 else math.nan
    return {
        "mean": mean,
        "ci_low": mean - half if n > 1 else None,
        "ci_high": mean + half if n > 1 else None,
        "median": float(np.median(v)),
        "n": int(n),
    }
