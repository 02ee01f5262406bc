"""Where the live model's error changed inside the retrain job's window (issue 13, the drift run).

The job continues the live trees on the reference split plus the window's served rows. When the world changed
part way through the window (a rainstorm in part of the city: deliveries there take longer from some time
on), the served rows from before the change say the old thing as loudly as the rows after it say the new one,
and the candidate learns a blend. This module finds such a change in the served rows themselves, with no
outside signal: for each segment (each region class, and each dong with enough rows) it takes the live
model's residuals (actual - its p50, recomputed for every row) in order time and looks for the single split
where their mean moved most (the largest Welch t over every split leaving `min_rows` on each side). A change
is reported only when

- the move is at least `min_effect` minutes (a change worth a new model, not a wobble), and
- a seeded permutation test says the largest t is not what shuffled time order gives (p <= `alpha`
  divided by the number of segments tested, Bonferroni: with ~40 segments tested, one would otherwise turn up
  by chance in most windows).

The job then leaves out of the fit the served rows of a changed segment from before its change (they describe
a world that has gone). Deterministic: same rows, same seed, same answer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

MIN_ROWS = 200  # rows on each side of a split: below ~200 a segment's mean residual moves by ~0.5 min by chance
MIN_EFFECT = 1.0  # minutes the mean residual must move (the job's margin is 0.1 min over all rows)
ALPHA = 0.01  # family-wise, over every segment tested
PERMUTATIONS = 999


@dataclass(frozen=True)
class Change:
    segment: str
    at: str  # ISO time of the first order after the change
    rows_before: int
    rows_after: int
    mean_before: float  # mean residual (actual - live p50), minutes
    mean_after: float
    t: float
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
                         "permutations": PERMUTATIONS}}


def _best_split(r: np.ndarray, min_rows: int) -> tuple[int, float]:
    """Index k (rows [0, k) before, [k, n) after) with the largest |Welch t| of the difference of means, and
    that t (after minus before)."""
    n = len(r)
    c1, c2 = np.cumsum(r), np.cumsum(r * r)
    k = np.arange(min_rows, n - min_rows + 1)
    s1b, s2b = c1[k - 1], c2[k - 1]
    s1a, s2a = c1[-1] - s1b, c2[-1] - s2b
    nb, na = k.astype(np.float64), (n - k).astype(np.float64)
    mb, ma = s1b / nb, s1a / na
    vb = np.maximum(s2b / nb - mb * mb, 0.0) * nb / (nb - 1)
    va = np.maximum(s2a / na - ma * ma, 0.0) * na / (na - 1)
    t = (ma - mb) / np.sqrt(vb / nb + va / na + 1e-12)
    i = int(np.argmax(np.abs(t)))
    return int(k[i]), float(t[i])


def _max_abs_t(r: np.ndarray, min_rows: int) -> float:
    return abs(_best_split(r, min_rows)[1])


def scan(times: pd.Series, residual: np.ndarray, segments: dict[str, np.ndarray], seed: int,
         min_rows: int = MIN_ROWS, min_effect: float = MIN_EFFECT, alpha: float = ALPHA,
         permutations: int = PERMUTATIONS) -> Scan:
    """times: order time per row; residual: actual - live p50 per row; segments: name -> bool mask over rows."""
    when = pd.to_datetime(times, utc=True).to_numpy()
    tested = [name for name, m in segments.items() if int(m.sum()) >= 2 * min_rows]
    level = alpha / max(len(tested), 1)
    keep = np.ones(len(residual), dtype=bool)
    changes: list[Change] = []
    rng = np.random.default_rng(seed)
    for name in tested:
        idx = np.flatnonzero(segments[name])
        idx = idx[np.argsort(when[idx], kind="stable")]
        r = residual[idx].astype(np.float64)
        k, t = _best_split(r, min_rows)
        before, after = float(r[:k].mean()), float(r[k:].mean())
        if abs(after - before) < min_effect:
            continue
        # Permutation test of the largest |t| (the split was chosen to maximise it, so a plain t-test would
        # find changes everywhere). Stops early once the p-value can no longer reach the level.
        exceed, limit = 0, level * (permutations + 1) - 1
        for _ in range(permutations):
            if _max_abs_t(rng.permutation(r), min_rows) >= abs(t):
                exceed += 1
                if exceed > limit:
                    break
        p = (exceed + 1) / (permutations + 1)
        if p > level:
            continue
        at = pd.Timestamp(when[idx[k]]).tz_localize("UTC") if pd.Timestamp(when[idx[k]]).tzinfo is None \
            else pd.Timestamp(when[idx[k]])
        changes.append(Change(segment=name, at=at.isoformat(), rows_before=int(k), rows_after=int(len(r) - k),
                              mean_before=round(before, 4), mean_after=round(after, 4), t=round(t, 3),
                              p_value=round(p, 4)))
        keep[idx[:k]] = False
    return Scan(changes=changes, tested=tested, keep=keep)
