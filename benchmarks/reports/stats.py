"""Uncertainty of the reports' claims ("A beats B on k of n tasks, mean difference d"): a paired bootstrap
interval of d over tasks, a Wilcoxon signed-rank p-value over tasks, and per task whether the seeds' intervals
of the two methods overlap (a tie).

All three come from :mod:`scipy.stats`; this module only fixes the choices (95 %, percentile bootstrap with
10,000 resamples and a fixed seed, two-sided tests, Student-t intervals of the seed means).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

LEVEL = 0.95
RESAMPLES = 10_000


@dataclass(frozen=True)
class PairedDifference:
    """Over the tasks both methods ran: the mean difference (positive: the first method is better), its
    paired bootstrap interval and the Wilcoxon signed-rank p-value (``None`` where they are undefined: fewer than
    two tasks, or every difference zero)."""

    n: int
    mean: float
    low: float | None
    high: float | None
    p_value: float | None

    def interval(self) -> str:
        if self.low is None or self.high is None:
            return "–"
        return f"[{self.low:+.4f}, {self.high:+.4f}]"

    def p(self) -> str:
        return "–" if self.p_value is None else f"{self.p_value:.3g}"


def paired_difference(diff: np.ndarray | list[float], seed: int = 0) -> PairedDifference:
    """Summarise per-task differences ``diff`` (already signed so that positive means better).

    The interval is a percentile bootstrap over tasks (tasks resampled with replacement, ``RESAMPLES`` times,
    seeded); the p-value is the two-sided Wilcoxon signed-rank test of the differences against zero (exact for
    small samples without ties, as scipy chooses).
    """
    d = np.asarray(diff, dtype=float)
    d = d[~np.isnan(d)]
    n = len(d)
    if n == 0:
        return PairedDifference(0, float("nan"), None, None, None)
    mean = float(d.mean())
    if n < 2:
        return PairedDifference(n, mean, None, None, None)
    if np.all(d == d[0]):
        low = high = float(d[0])  # every resample has the same mean
    else:
        res = stats.bootstrap((d,), np.mean, n_resamples=RESAMPLES, confidence_level=LEVEL, method="percentile",
                              rng=np.random.default_rng(seed))
        low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    p = None if np.all(d == 0) else float(stats.wilcoxon(d, alternative="two-sided").pvalue)
    return PairedDifference(n, mean, low, high, p)


def seed_interval(mean: float, std: float, n: int) -> tuple[float, float] | None:
    """The Student-t interval of a mean over ``n`` seeds (sample std); ``None`` for one seed."""
    if n < 2 or math.isnan(std):
        return None
    half = stats.t.ppf(0.5 + LEVEL / 2, n - 1) * std / math.sqrt(n)
    return mean - half, mean + half


def seeds_overlap(a: tuple[float, float, int], b: tuple[float, float, int]) -> bool:
    """Whether the seed intervals of two cells ``(mean, std, n)`` overlap: their difference is within seed noise
    and the task counts as a tie. With one seed on either side there is no interval and no tie is called."""
    ia, ib = seed_interval(*a), seed_interval(*b)
    if ia is None or ib is None:
        return False
    return ia[0] <= ib[1] and ib[0] <= ia[1]
