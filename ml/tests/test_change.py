"""change.scan on synthetic residuals: finds a change where it is, and none where there is none."""

from __future__ import annotations

import numpy as np
import pandas as pd

from eta_models import change as C

N = 3000
TIMES = pd.Series(pd.date_range("2026-11-20T00:00:00Z", periods=N, freq="min"))


def _residuals(seed: int, step_at: int | None = None, step: float = 0.0) -> np.ndarray:
    """Skewed like delivery residuals (a gamma's right tail), scale ~4 min, mean 0; plus a step."""
    rng = np.random.default_rng(seed)
    r = rng.gamma(2.0, 2.8, N) - 5.6
    if step_at is not None:
        r[step_at:] += step
    return r


def test_a_step_is_found_at_its_time_and_the_rows_before_it_are_left_out():
    r = _residuals(1, step_at=1800, step=2.5)
    # Shuffled order in, so the scan must sort by time itself.
    order = np.random.default_rng(2).permutation(N)
    seg = {"all": np.ones(N, dtype=bool)}
    found = C.scan(TIMES.iloc[order].reset_index(drop=True), r[order], seg)
    [c] = found.changes
    assert abs(pd.Timestamp(c.at) - TIMES[1800]) <= pd.Timedelta(minutes=30)
    assert 2.0 < c.mean_after - c.mean_before < 3.0
    assert c.p_value <= C.ALPHA
    assert abs(int((~found.keep).sum()) - 1800) <= 30
    # Exactly the rows before the change are the ones left out.
    left_out_times = TIMES.iloc[order].reset_index(drop=True)[~found.keep]
    assert left_out_times.max() < pd.Timestamp(c.at) <= TIMES.iloc[order].reset_index(drop=True)[found.keep].min()
    # Deterministic: the same answer again.
    again = C.scan(TIMES.iloc[order].reset_index(drop=True), r[order], seg)
    assert again.to_json() == found.to_json()


def test_no_step_no_change_and_every_row_kept():
    for seed in range(200):
        found = C.scan(TIMES, _residuals(seed), {"all": np.ones(N, dtype=bool)})
        assert found.changes == [] and found.keep.all(), (seed, found.to_json())


def test_p_values_follow_kolmogorov_and_reach_far_below_any_bonferroni_level():
    assert abs(C.kolmogorov_sf(1.358) - 0.05) < 5e-4  # the textbook 5 % point
    assert abs(C.kolmogorov_sf(1.628) - 0.01) < 1e-4
    assert C.kolmogorov_sf(0.1) == 1.0 and C.kolmogorov_sf(5.0) < 1e-20
    # A 2.5-minute step over 1,800 / 1,200 rows: a p-value hundreds of segments could not dilute.
    found = C.scan(TIMES, _residuals(1, step_at=1800, step=2.5), {"all": np.ones(N, dtype=bool)})
    assert found.changes[0].p_value < 1e-10
    # Under no change the p-values spread over (0, 1]: about 5 % of them below 0.05.
    ps = [C.kolmogorov_sf(C._split(_residuals(seed), C.MIN_ROWS)[1]) for seed in range(400)]
    assert 0.01 < np.mean(np.array(ps) < 0.05) < 0.10


def test_a_step_below_the_effect_size_is_not_a_change_however_certain():
    # 0.6 min over 1,500 rows each side is far beyond chance, but smaller than a change worth a new model.
    found = C.scan(TIMES, _residuals(4, step_at=1500, step=0.6), {"all": np.ones(N, dtype=bool)})
    assert found.changes == []


def test_only_the_changed_segment_loses_rows_and_small_segments_are_not_tested():
    r = _residuals(5)
    a = np.arange(N) % 2 == 0
    r[a & (np.arange(N) >= 2000)] += 4.0
    tiny = np.zeros(N, dtype=bool)
    tiny[:300] = True  # fewer than 2 * MIN_ROWS
    found = C.scan(TIMES, r, {"a": a, "b": ~a, "tiny": tiny})
    assert found.tested == ["a", "b"]
    assert [c.segment for c in found.changes] == ["a"]
    assert found.keep[~a].all()
    assert abs(int((~found.keep[a]).sum()) - 1000) <= 20
