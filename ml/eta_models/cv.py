"""Choose eta-precise's mask share and median objective by K-fold CV on the TRAINING portion only.

    python -m eta_models.cv [--data PATH]      (make -C ml cv; ~5-10 min on 2 threads)

The validation split of train.split() is never read here: its rows are dropped before the folds are made,
so the figures in reports/evaluation.md stay an honest hold-out. Only the median booster is cross-validated
(p10/p90 follow the chosen share); the score of a candidate is its CV MAE averaged over the serving
conditions (as recorded, weather+traffic unknown, rider+trip unknown, all of them unknown), because the
model must serve all four. Writes reports/cv.{json,md}: aggregates only, no rows.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import lightgbm as lgb
import numpy as np

from . import data
from .specs import SEED, SPECS, ModelSpec
from .train import augment_missing, blank, split, unknown_conditions

K = 5
FOLD_SEED = SEED + 2
SHARES = (0.25, 0.5, 0.75, 1.0)  # 1.0 = every training row gets one masked copy (the most there is)
QUANTILE_ROUNDS = (150, 250)
# A previous engineer's CV suggested Huber (delta 6, ~150 rounds) beats quantile 0.5 for the median's MAE.
HUBER = {"objective": "huber", "alpha": 6.0}
HUBER_ROUNDS = (150, 250)


def training_folds(data_path: Path | None, spec: ModelSpec | None = None):
    """A model's CV inputs (eta-precise v1's by default): the training portion only (the validation indices
    are discarded unread), K fold labels from FOLD_SEED, and the serving conditions to score (column sets
    to blank)."""
    spec = spec or next(s for s in SPECS if s.name == "eta-precise")
    names = spec.feature_names
    frame = data.load_orders((data_path or data.default_train_path()).resolve()).frame
    tr_idx, _ = split(len(frame))
    x = frame[names].to_numpy(np.float32)[tr_idx]
    y = frame[data.TARGET].to_numpy(np.float64)[tr_idx]
    del frame
    folds = np.random.default_rng(FOLD_SEED).permutation(len(x)) % K
    conditions = {"as_recorded": (), **{k.removeprefix("validation_"): v for k, v in unknown_conditions(names).items()}}
    return spec, names, x, y, folds, conditions


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--reports-dir", type=Path, default=data.ML_DIR / "reports")
    args = ap.parse_args(argv)

    spec, names, x, y, folds, conditions = training_folds(args.data)
    cat_idx = [names.index(c) for c in spec.categorical]

    def run(share: float, params: dict, rounds: tuple[int, ...]) -> dict[int, dict[str, float]]:
        """CV MAE per rounds and condition, averaged over the folds."""
        maes = {r: {c: [] for c in conditions} for r in rounds}
        for k in range(K):
            fit, held = folds != k, folds == k
            xt, yt = augment_missing(x[fit], y[fit], names, share, seed=SEED + 10 + k)
            booster = lgb.train(params, lgb.Dataset(xt, yt, feature_name=names, categorical_feature=cat_idx),
                                num_boost_round=max(rounds))
            for c, cols in conditions.items():
                xh = blank(x[held], names, cols)
                for r in rounds:
                    maes[r][c].append(float(np.abs(booster.predict(xh, num_iteration=r) - y[held]).mean()))
        return {r: {c: round(float(np.mean(v)), 4) for c, v in per.items()} for r, per in maes.items()}

    rows = []
    t0 = time.time()
    median_params = {**spec.params, "objective": "quantile", "alpha": 0.5}
    for share in SHARES:
        for r, per in run(share, median_params, QUANTILE_ROUNDS).items():
            rows.append({"share": share, "objective": "quantile 0.5", "rounds": r, **per})
        print(f"share {share}: {rows[-2:]} ({time.time() - t0:.0f}s)", flush=True)

    def score(row: dict) -> float:
        return float(np.mean([row[c] for c in conditions]))

    best_quantile = min((r for r in rows if r["rounds"] == spec.num_boost_round), key=score)
    share = best_quantile["share"]
    for r, per in run(share, {**median_params, **HUBER}, HUBER_ROUNDS).items():
        rows.append({"share": share, "objective": f"huber delta {HUBER['alpha']:g}", "rounds": r, **per})
    print(f"huber at share {share}: {rows[-2:]} ({time.time() - t0:.0f}s)", flush=True)
    for row in rows:
        row["mean_over_conditions"] = round(score(row), 4)
    best = min(rows, key=score)

    result = {"model": spec.name, "folds": K, "fold_seed": FOLD_SEED, "train_rows": int(len(x)),
              "validation_rows_used": 0, "conditions": {c: list(cols) for c, cols in conditions.items()},
              "score": "CV MAE of the median, mean over the conditions", "rows": rows,
              "best_quantile_share": share, "best": best, "seconds": round(time.time() - t0)}
    args.reports_dir.mkdir(parents=True, exist_ok=True)
    (args.reports_dir / "cv.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.reports_dir / "cv.md").write_text(markdown(result))
    print(f"best: {best}")
    return 0


def markdown(r: dict) -> str:
    conds = list(r["conditions"])
    head = "| Mask share | Median objective | Rounds | " + " | ".join(conds) + " | Mean |"
    lines = [
        f"# {r['model']}: choice of mask share and median objective ({r['folds']}-fold CV)",
        "",
        "Generated by `make -C ml cv` (`python -m eta_models.cv`); do not edit by hand.",
        "",
        f"Folds over the {r['train_rows']} rows of the training portion only (fold seed {r['fold_seed']}); "
        "the validation split is not read. Each fold's training rows get the masked copies (train.augment_missing); "
        "the held-out fold is scored as recorded and with the listed columns blanked. Figures: CV MAE of the "
        "median booster in minutes. Columns blanked per condition: "
        + "; ".join(f"`{c}`: {', '.join(cols) or 'none'}" for c, cols in r["conditions"].items()) + ".",
        "",
        head,
        "|" + "---|" * (len(conds) + 4),
    ]
    for row in r["rows"]:
        lines.append(f"| {row['share']} | {row['objective']} | {row['rounds']} | "
                     + " | ".join(f"{row[c]:.3f}" for c in conds) + f" | {row['mean_over_conditions']:.3f} |")
    b = r["best"]
    lines += ["", f"Best: mask share {b['share']}, {b['objective']}, {b['rounds']} rounds "
              f"(mean {b['mean_over_conditions']:.3f}). `specs.py` uses the share and median settings chosen here.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
