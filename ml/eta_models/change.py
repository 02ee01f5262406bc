"""Where the live model's error changed inside the retrain job's window (issue 13, the drift run).

The job continues the live trees on the reference split plus the window's served rows. When the world changed
part way through the window (a rainstorm in part of the city: deliveries there take longer from some time
on), the served rows from before the change say the old thing as loudly as the rows after it say the new one,
and the candidate learns a blend. This module finds such a change in the served rows themselves, with no
outside signal: for each segment (each region class, and each dong with enough rows) it takes the live
model's residuals (actual - its p50, recomputed for every row) in order time and their CUSUM (the running sum
of residual minus the segment's mean). Its largest excursion marks where the mean moved (for one step in the
mean it is the most likely split), and scaled by sd * sqrt(n) it follows Kolmogorov's distribution when
nothing changed (the supremum of a Brownian bridge), which gives a p-value with no resampling however many
segments are tested. A change is reported only when

- the mean residual moved by at least `min_effect` minutes between the rows before and after the split (a
  change worth a new model, not a wobble), with at least `min_rows` rows on each side, and
- p <= `alpha` divided by the number of segments tested (Bonferroni: with hundreds of dongs tested, one
  would otherwise turn up by chance in most windows). The sd is the segment's overall one, change included,
  which only makes the test more cautious.

The job then leaves out of the fit the served rows of a changed segment from before its change (they describe
a world that has gone). Deterministic: same rows, same answer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

MIN_ROWS = 200  # rows on each side of a split: below ~200 a segment's mean residual moves by ~0.5 min by chance
MIN_EFFECT = 1.0  # minutes the mean residual must move (the job's margin is 0.1 min over all rows)
ALPHA = 0.01  # family-wise, over every segment tested


@dataclass(frozen=True)
class Change:
    segment: str
    at: str  # ISO time of the first order after the change
    rows_before: int
    rows_after: int
    mean_before: float  # mean residual (actual - live p50), minutes
    mean_after: float
    statistic: float  # max |CUSUM| / (sd * sqrt(n))
    p_value: float

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Scan:
    changes: list[Change]
    tested: list[str]  # segments with enough rows to test
    keep: np.ndarray  # bool per row: False for a changed segment's rows before its change

    def to_json(self) -> dict:
        return {"segments_tested": len(self.tested), "changes": [c.to_json() for c in self.changes],
                "rows_left_out": int((~self.keep).sum()),
                "rule": {"min_rows": MIN_ROWS, "min_effect_minutes": MIN_EFFECT, "alpha": ALPHA,
                         "test": "CUSUM of the residuals, Kolmogorov p-value, Bonferroni over segments"}}


def kolmogorov_sf(x: float) -> float:
    """P(sup |Brownian bridge| > x) = 2 * sum_k (-1)^(k-1) exp(-2 k^2 x^2)."""
    if x <= 0.2:
        return 1.0  # the series converges slowly there, and the probability is 1 to 15 digits
    k = np.arange(1, 101)
    return float(min(1.0, max(0.0, 2.0 * np.sum((-1.0) ** (k - 1) * np.exp(-2.0 * k * k * x * x)))))


def _split(r: np.ndarray, min_rows: int) -> tuple[int, float]:
    """Index k (rows [0, k) before, [k, n) after) where the CUSUM of r is furthest from 0, among splits with
    min_rows on each side, and the scaled excursion there."""
    n = len(r)
    sd = float(np.std(r, ddof=1))
    if not sd > 0:
        return min_rows, 0.0
    cusum = np.cumsum(r - r.mean())[min_rows - 1:n - min_rows]  # cusum[i]: the sum of the first min_rows + i
    i = int(np.argmax(np.abs(cusum)))
    return min_rows + i, float(abs(cusum[i]) / (sd * np.sqrt(n)))


def scan(times: pd.Series, residual: np.ndarray, segments: dict[str, np.ndarray],
         min_rows: int = MIN_ROWS, min_effect: float = MIN_EFFECT, alpha: float = ALPHA) -> Scan:
    """times: order time per row; residual: actual - live p50 per row; segments: name -> bool mask over rows."""
    when = pd.to_datetime(pd.Series(times), utc=True).reset_index(drop=True)
    tested = [name for name, m in segments.items() if int(m.sum()) >= 2 * min_rows]
    level = alpha / max(len(tested), 1)
    keep = np.ones(len(residual), dtype=bool)
    changes: list[Change] = []
    for name in tested:
        idx = np.flatnonzero(segments[name])
        idx = idx[np.argsort(when.iloc[idx].to_numpy(), kind="stable")]
        r = residual[idx].astype(np.float64)
        k, stat = _split(r, min_rows)
        before, after = float(r[:k].mean()), float(r[k:].mean())
        p = kolmogorov_sf(stat)
        if abs(after - before) < min_effect or p > level:
            continue
        changes.append(Change(segment=name, at=when.iloc[idx[k]].isoformat(), rows_before=int(k),
                              rows_after=int(len(r) - k), mean_before=round(before, 4), mean_after=round(after, 4),
                              statistic=round(stat, 3), p_value=float(f"{p:.3g}")))
        keep[idx[:k]] = False
    return Scan(changes=changes, tested=tested, keep=keep)
