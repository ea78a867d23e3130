"""Statistics of a report: confidence intervals over seeds and paired tests between methods (scipy, not by hand).

Why: every peer reports a mean of three seeds and nothing else, while seed-to-seed spreads on DTD or EuroSAT reach
several points. These functions say how far a mean can be trusted and whether a difference between two methods
is larger than what the few-shot sample alone produces.

- `t_interval`: the t-based 95 % confidence interval of a mean over n seeds, mean ± t(0.975, n−1) · s/√n with the
  sample standard deviation s (ddof=1). With few seeds the normal quantile 1.96 would be far too narrow (t for
  3 seeds is 4.30). One value gives no interval (None), and n values that are all equal give [mean, mean].
- `sign_flip_test`: the paired permutation test of a mean difference: under H0 (no difference) each pair's
  difference is equally likely to have either sign, so the p-value is the share of the 2^n sign patterns whose
  |mean| is at least the observed one (scipy.stats.permutation_test with permutation_type="samples" on the
  differences, two-sided). Exact when 2^n ≤ `N_RESAMPLES` + 1 (n ≤ 13), else Monte Carlo with `N_RESAMPLES`
  draws from a fixed seed, so the same records always give the same p-value.
- `holm`: Holm's step-down adjustment of a family of p-values (controls the family-wise error rate, valid under
  any dependence between the tests; a few lines, as statsmodels is not a dependency).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
N_RESAMPLES = 9999  # Monte Carlo draws when the exact test would need more sign patterns
SEED = 0  # of the Monte Carlo draws: reports are a pure function of the records


@dataclass(frozen=True)
class Summary:
    """Mean, spread and confidence interval of one cell's per-seed values."""

    n: int
    mean: float | None
    std: float | None  # population std (ddof=0), the report's ± convention
    ci: tuple[float, float] | None  # t-based, from the sample std (ddof=1); None for fewer than 2 values


def t_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> tuple[float, float] | None:
    """The t-based confidence interval of the mean of `values`; None for fewer than two values."""
    arr = np.asarray([float(v) for v in values], dtype=float)
    if arr.size < 2:
        return None
    mean = float(arr.mean())
    sem = float(stats.sem(arr, ddof=1))
    if sem == 0.0:
        return (mean, mean)
    lo, hi = stats.t.interval(confidence, arr.size - 1, loc=mean, scale=sem)
    return (float(lo), float(hi))


def summarize(values: Sequence[float]) -> Summary:
    """`Summary` of a cell's values (NaN values are dropped)."""
    vals = [float(v) for v in values if not math.isnan(float(v))]
    if not vals:
        return Summary(0, None, None, None)
    arr = np.asarray(vals)
    return Summary(len(vals), float(arr.mean()), float(arr.std(ddof=0)), t_interval(vals))


@dataclass(frozen=True)
class SignFlip:
    """The result of a paired sign-flip permutation test."""

    p: float
    exact: bool  # every sign pattern enumerated (else Monte Carlo with `N_RESAMPLES` draws)


def sign_flip_test(diffs: Sequence[float], n_resamples: int = N_RESAMPLES, seed: int = SEED) -> SignFlip | None:
    """Two-sided paired permutation (sign-flip) test of mean(diffs) = 0; None without any pair.

    All-zero differences, and a single pair, give p = 1 (no evidence of a difference).
    """
    d = np.asarray([float(x) for x in diffs], dtype=float)
    if d.size == 0:
        return None
    exact = 2.0**d.size <= n_resamples + 1
    if not np.any(d) or d.size == 1:  # one pair: its two sign patterns are equally extreme (scipy needs two)
        return SignFlip(1.0, exact)
    res = stats.permutation_test(
        (d,),
        lambda x, axis: np.mean(x, axis=axis),
        permutation_type="samples",
        vectorized=True,
        n_resamples=n_resamples,
        alternative="two-sided",
        rng=np.random.default_rng(seed),
    )
    return SignFlip(float(min(1.0, res.pvalue)), exact)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values, in the order given: p_(i) · (m − i + 1), made monotone and capped at 1."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda i: pvalues[i])
    out = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * float(pvalues[i])))
        out[i] = running
    return out


@dataclass(frozen=True)
class PairedDifference:
    """Mean difference A − B over matched pairs, its CI and the sign-flip test (p before and after Holm)."""

    n: int  # matched pairs
    mean: float | None
    ci: tuple[float, float] | None  # t-based CI of the mean difference (None for fewer than 2 pairs)
    p: float | None  # two-sided sign-flip p-value (None without pairs)
    exact: bool = True
    p_holm: float | None = None  # filled in by `with_holm`


def paired_difference(a: Sequence[float], b: Sequence[float]) -> PairedDifference:
    """Compare two equally long sequences of matched values (pair i is a[i], b[i])."""
    if len(a) != len(b):
        raise ValueError(f"paired values need equal lengths, got {len(a)} and {len(b)}")
    diffs = [float(x) - float(y) for x, y in zip(a, b)]
    if not diffs:
        return PairedDifference(0, None, None, None)
    test = sign_flip_test(diffs)
    assert test is not None
    return PairedDifference(len(diffs), float(np.mean(diffs)), t_interval(diffs), test.p, test.exact)


def with_holm(results: Sequence[PairedDifference]) -> list[PairedDifference]:
    """The results with `p_holm` set, over the family of those that have a p-value."""
    import dataclasses

    idx = [i for i, r in enumerate(results) if r.p is not None]
    adjusted = holm([results[i].p for i in idx])  # type: ignore[misc]
    out = list(results)
    for i, p in zip(idx, adjusted):
        out[i] = dataclasses.replace(results[i], p_holm=p)
    return out
