from __future__ import annotations

import numpy as np


def quantile_metrics(y: np.ndarray, p10: np.ndarray, p50: np.ndarray, p90: np.ndarray) -> dict:
    """Point metrics of the median plus interval quality; all in minutes except r2/coverage."""
    y = np.asarray(y, dtype=np.float64)
    err = np.asarray(p50, dtype=np.float64) - y
    ss_tot = float(((y - y.mean()) ** 2).sum())
    inside = (y >= p10) & (y <= p90)
    return {
        "rows": int(len(y)),
        "mae": round(float(np.abs(err).mean()), 4),
        "rmse": round(float(np.sqrt((err**2).mean())), 4),
        "r2": round(1.0 - float((err**2).sum()) / ss_tot, 4) if ss_tot > 0 else None,
        "coverage_p10_p90": round(float(inside.mean()), 4),
        "below_p10": round(float((y < p10).mean()), 4),
        "above_p90": round(float((y > p90).mean()), 4),
        "mean_interval_width": round(float(np.mean(np.asarray(p90) - np.asarray(p10))), 4),
    }
