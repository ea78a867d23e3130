"""The report's statistics against known values: t intervals, the sign-flip test by brute force, Holm by hand."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats as sps

from comma_bench.report.stats import (
    N_RESAMPLES,
    holm,
    paired_difference,
    sign_flip_test,
    summarize,
    t_interval,
    with_holm,
)


def test_t_interval_known_values() -> None:
    # mean 2, s = 1, sem = 1/sqrt(3), t(0.975, 2) = 4.302652729749464
    lo, hi = t_interval([1.0, 2.0, 3.0])
    half = 4.302652729749464 / math.sqrt(3)
    assert lo == pytest.approx(2 - half, abs=1e-9) and hi == pytest.approx(2 + half, abs=1e-9)
    vals = [71.2, 74.9, 63.4, 70.0, 68.8]
    expected = sps.t.interval(0.95, 4, loc=np.mean(vals), scale=np.std(vals, ddof=1) / math.sqrt(5))
    assert t_interval(vals) == pytest.approx(expected, abs=1e-12)


def test_t_interval_edge_cases() -> None:
    assert t_interval([]) is None and t_interval([5.0]) is None  # one seed: no CI
    assert t_interval([4.0, 4.0, 4.0]) == (4.0, 4.0)  # no spread: a degenerate interval, not NaN


def test_summarize_uses_population_std_and_sample_ci() -> None:
    s = summarize([80.0, 82.0, 84.0, math.nan])
    assert (s.n, s.mean) == (3, 82.0)
    assert s.std == pytest.approx(np.std([80, 82, 84]))  # ddof=0, as the tables
    assert s.ci == pytest.approx((82 - 4.302652729749464 * 2 / math.sqrt(3), 82 + 4.302652729749464 * 2 / math.sqrt(3)))
    one = summarize([70.0])
    assert (one.n, one.mean, one.std, one.ci) == (1, 70.0, 0.0, None)
    assert summarize([]).mean is None


def _brute_force_p(d: list[float]) -> float:
    """Two-sided sign-flip p-value by enumerating every sign pattern (scipy's two-sided rule: 2·min tail)."""
    obs = np.mean(d)
    means = [np.mean([s * x for s, x in zip(signs, d)]) for signs in itertools.product((1, -1), repeat=len(d))]
    eps = 1e-12 * max(1.0, abs(obs))
    greater = np.mean([m >= obs - eps for m in means])
    less = np.mean([m <= obs + eps for m in means])
    return min(1.0, 2 * min(greater, less))


@pytest.mark.parametrize(
    "d",
    [[1.0, 2.0, 3.0], [1.0, -2.0, 3.0, 4.0], [0.5, 0.25, -0.125, 2.0, 1.5, -0.75], [3.0, -3.0]],
)
def test_sign_flip_is_exact_and_matches_enumeration(d: list[float]) -> None:
    res = sign_flip_test(d)
    assert res is not None and res.exact
    assert res.p == pytest.approx(_brute_force_p(d), abs=1e-12)


def test_sign_flip_known_values() -> None:
    assert sign_flip_test([1.0, 2.0, 3.0]).p == pytest.approx(0.25)  # only +++ and --- reach |mean| 2: 2/8
    assert sign_flip_test([0.0, 0.0]).p == 1.0
    assert sign_flip_test([]) is None
    assert sign_flip_test([2.0]).p == 1.0  # one pair: both signs are as extreme


def test_sign_flip_monte_carlo_is_deterministic_for_many_pairs() -> None:
    rng = np.random.default_rng(1)
    d = list(rng.normal(0.8, 1.0, size=20))  # 2^20 patterns: Monte Carlo
    a, b = sign_flip_test(d), sign_flip_test(d)
    assert not a.exact and a.p == b.p
    # Close to the t-test on such data, and at the resolution of N_RESAMPLES draws.
    assert a.p == pytest.approx(sps.ttest_1samp(d, 0.0).pvalue, abs=0.02)
    assert a.p >= 1 / (N_RESAMPLES + 1)


def test_holm_by_hand() -> None:
    # sorted 0.01, 0.03, 0.04 -> 3·0.01 = 0.03, 2·0.03 = 0.06, max(0.06, 1·0.04) = 0.06
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])  # capped
    assert holm([]) == []
    assert holm([0.2]) == [0.2]


def test_paired_difference_and_holm_family() -> None:
    a, b = [70.0, 72.0, 75.0], [68.0, 71.0, 72.0]
    r = paired_difference(a, b)
    assert (r.n, r.mean) == (3, 2.0)
    assert r.ci == pytest.approx(t_interval([2.0, 1.0, 3.0]))
    assert r.p == pytest.approx(0.25)
    one = paired_difference([1.0], [0.5])
    assert one.n == 1 and one.ci is None and one.p == 1.0  # n < 2 pairs: no CI
    none = paired_difference([], [])
    assert none.n == 0 and none.mean is None and none.p is None
    fam = with_holm([r, none, one])
    assert fam[0].p_holm == pytest.approx(0.5) and fam[1].p_holm is None and fam[2].p_holm == 1.0
    with pytest.raises(ValueError):
        paired_difference([1.0], [])
