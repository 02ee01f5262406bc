"""Search eta-precise v2's settings by K-fold CV on the TRAINING portion only.

    python -m eta_models.cv_search [--data PATH] [--only NAME,...] [--threads N]   (make -C ml cv-search)

Like cv.py, the validation split of train.split() is dropped before the folds are made and never read, so
reports/evaluation.md stays an honest hold-out. Every candidate is scored on the same 5 folds (fold seed as
cv.py) as recorded and with the serving conditions' columns blanked; the figures are the CV MAE of the
median (p50) and, where the candidate also trains p10/p90, the CV p10-p90 coverage. Writes
reports/cv_search.{json,md}: aggregates only, no rows.

Selection rule (fixed before the final stage was run, see reports/cv_search.md): the lowest as-recorded CV
MAE among candidates whose CV MAE in every unknown condition is at most MASKED_SLACK above v1's settings,
and whose as-recorded CV coverage is at least v1's minus COVERAGE_SLACK and at most 0.85 (see below).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import lightgbm as lgb
import numpy as np

from . import data
from . import features as F
from .specs import QUANTILES, SEED
from .cv import FOLD_SEED, K, training_folds
from .train import augment_missing, blank

MASKED_SLACK = 0.02  # minutes: how much worse than v1's settings an unknown condition may get in CV
# The coverage clause was first "CV coverage in [0.75, 0.85]"; stage 4's first row showed v1's own settings
# at 0.749 in CV (0.763 on validation), and every gated candidate keeps v1's p10/p90 boosters, so it became
# "not below v1's CV coverage - COVERAGE_SLACK, not above 0.85", before any gated row of stage 4 was seen.
COVERAGE_SLACK = 0.005


@dataclass(frozen=True)
class Candidate:
    """One setting of the median booster (and optionally of the p10/p90 boosters)."""
    name: str
    note: str
    params: dict = field(default_factory=dict)  # overrides of the v1 median params (huber delta 6)
    rounds: tuple[int, ...] = (250,)
    share: float = 1.0
    mask_weight: float = 1.0  # sample weight of the masked copies (originals weigh 1)
    categorical: tuple[str, ...] | None = None  # None = v1's list
    seeds: int = 1  # >1: average that many boosters (seed, bagging and masked copies differ per member)
    quantiles: bool = False  # also train p10/p90 with the same share/weight/categoricals/params and score coverage
    q_params: dict = field(default_factory=dict)  # overrides for p10/p90 only
    # Gated median: a second "all known" median booster (these overrides of the v1 median params, its own
    # mask share/weight) answers rows where none of F.MASKED_IN_TRAINING is NaN; rows with any of them NaN
    # get the candidate's own median booster above. `rounds` then applies to the all-known booster; the
    # fallback uses max(fallback_rounds).
    gate: dict | None = None
    fallback_rounds: int = 250
    ensemble_fallback: bool = False  # seeds > 1: also average that many fallback boosters (else member 0's only)


def _v1_median_params(spec) -> dict:
    p, _ = spec.output_params("p50")
    return p


def member_seed(i: int) -> int:
    return SEED + 100 * i


def fit_predict(c: Candidate, spec, names, x_fit, y_fit, x_held: dict[str, np.ndarray], aug_seed: int,
                threads: int) -> dict[str, dict[int, dict[str, np.ndarray]]]:
    """Train the candidate on one fold; returns out -> rounds -> condition -> prediction."""
    cats = spec.categorical if c.categorical is None else c.categorical
    cat_idx = [names.index(n) for n in cats]
    outs = ["p50"] + (["p10", "p90"] if c.quantiles else [])
    preds: dict = {o: {r: {k: np.zeros(len(v)) for k, v in x_held.items()} for r in c.rounds} for o in outs}
    gate_cols = [names.index(n) for n in F.MASKED_IN_TRAINING]
    for i in range(c.seeds):
        if c.gate is not None:
            g = dict(c.gate)
            share, weight = g.pop("share", 1.0), g.pop("mask_weight", 1.0)
            xt, yt = augment_missing(x_fit, y_fit, names, share, seed=aug_seed + 1000 * i + 500)
            w = np.ones(len(yt))
            w[len(y_fit):] = weight
            params = {**_v1_median_params(spec), **g, "num_threads": threads}
            if i:
                params["seed"] = member_seed(i)
            ds = lgb.Dataset(xt, yt, weight=w if weight != 1.0 else None, feature_name=names,
                             categorical_feature=cat_idx, free_raw_data=True)
            gated = lgb.train(params, ds, num_boost_round=max(c.rounds))
        xt, yt = augment_missing(x_fit, y_fit, names, c.share, seed=aug_seed + 1000 * i)
        w = np.ones(len(yt))
        w[len(y_fit):] = c.mask_weight
        for o in outs:
            if o == "p50" and c.gate is not None:
                if i and not c.ensemble_fallback:
                    for k, xh in x_held.items():
                        known = ~np.isnan(xh[:, gate_cols]).any(axis=1)
                        for r in c.rounds:
                            p = np.zeros(len(xh))
                            if known.any():
                                p[known] = gated.predict(xh[known], num_iteration=r)
                            preds[o][r][k][known] += p[known] / c.seeds
                    continue
                params = {**_v1_median_params(spec), **c.params, "num_threads": threads}
                if i:
                    params["seed"] = member_seed(i)
                ds = lgb.Dataset(xt, yt, weight=w if c.mask_weight != 1.0 else None, feature_name=names,
                                 categorical_feature=cat_idx, free_raw_data=True)
                fb = lgb.train(params, ds, num_boost_round=c.fallback_rounds)
                for k, xh in x_held.items():
                    known = ~np.isnan(xh[:, gate_cols]).any(axis=1)
                    base = fb.predict(xh)
                    for r in c.rounds:
                        p = base.copy()
                        if known.any():
                            p[known] = gated.predict(xh[known], num_iteration=r)
                        preds[o][r][k] += np.where(known, p / c.seeds, p if not c.ensemble_fallback and c.seeds > 1 else p / c.seeds)
                continue
            if o != "p50" and c.gate is not None:
                # Gated candidates keep one p10/p90 pair (member 0's masked copies, fallback_rounds), as exported.
                if i:
                    continue
                params = {**spec.params, **c.params, **c.q_params, "objective": "quantile", "alpha": QUANTILES[o],
                          "num_threads": threads}
                ds = lgb.Dataset(xt, yt, weight=w if c.mask_weight != 1.0 else None, feature_name=names,
                                 categorical_feature=cat_idx, free_raw_data=True)
                b = lgb.train(params, ds, num_boost_round=c.fallback_rounds)
                for k, xh in x_held.items():
                    q = b.predict(xh)
                    for r in c.rounds:
                        preds[o][r][k] += q
                continue
            if o == "p50":
                params = {**_v1_median_params(spec), **c.params}
            else:
                params = {**spec.params, "alpha": QUANTILES[o], **c.params, **c.q_params}
                params["objective"] = "quantile"
                params["alpha"] = QUANTILES[o]
            params["num_threads"] = threads
            if i:
                params["seed"] = member_seed(i)
            ds = lgb.Dataset(xt, yt, weight=w if c.mask_weight != 1.0 else None, feature_name=names,
                             categorical_feature=cat_idx, free_raw_data=True)
            b = lgb.train(params, ds, num_boost_round=max(c.rounds))
            for r in c.rounds:
                for k, xh in x_held.items():
                    preds[o][r][k] += b.predict(xh, num_iteration=r) / c.seeds
    return preds


def run(c: Candidate, spec, names, x, y, folds, conditions, threads: int) -> list[dict]:
    acc = {r: {k: [] for k in conditions} for r in c.rounds}
    cov = {r: {k: [] for k in conditions} for r in c.rounds}
    for k in range(K):
        fit, held = folds != k, folds == k
        x_held = {cond: blank(x[held], names, cols) for cond, cols in conditions.items()}
        preds = fit_predict(c, spec, names, x[fit], y[fit], x_held, SEED + 10 + k, threads)
        for r in c.rounds:
            for cond in conditions:
                p50 = preds["p50"][r][cond]
                acc[r][cond].append(float(np.abs(p50 - y[held]).mean()))
                if c.quantiles:
                    q = np.sort(np.stack([preds["p10"][r][cond], p50, preds["p90"][r][cond]], 1), axis=1)
                    cov[r][cond].append(float(((y[held] >= q[:, 0]) & (y[held] <= q[:, 2])).mean()))
    rows = []
    for r in c.rounds:
        row = {"candidate": c.name, "rounds": r, **{f"mae_{k}": round(float(np.mean(v)), 4) for k, v in acc[r].items()}}
        row["mae_as_recorded_fold_sd"] = round(float(np.std(acc[r]["as_recorded"])), 4)
        if c.quantiles:
            row.update({f"coverage_{k}": round(float(np.mean(v)), 4) for k, v in cov[r].items()})
        rows.append(row)
    return rows


# Stage 1: one idea at a time against v1's settings (median only). Stage 2: combinations of what helped.
# Stage 3: the finalists with p10/p90 too (coverage), from which the selection rule picks.
BASE = Candidate("v1 settings", "v1: share 1.0, weight 1, huber delta 6, lr 0.05, 63 leaves", rounds=(150, 250, 400))
CAT_ALL = ("region_class", "order_type", "weather", "vehicle_type", "road_traffic", "vehicle_condition",
           "multiple_deliveries", "festival")
STAGE1: tuple[Candidate, ...] = (
    BASE,
    Candidate("mask weight 0.5", "masked copies weigh 0.5", mask_weight=0.5, rounds=(250, 400)),
    Candidate("mask weight 0.25", "masked copies weigh 0.25", mask_weight=0.25, rounds=(250, 400)),
    Candidate("mask weight 0.1", "masked copies weigh 0.1", mask_weight=0.1, rounds=(250, 400)),
    Candidate("categorical traffic/cond/multi/festival", "road_traffic, vehicle_condition, multiple_deliveries, "
              "festival also LightGBM categorical", categorical=CAT_ALL, rounds=(250, 400)),
    Candidate("l1 median", "objective l1 (regression_l1)", params={"objective": "l1"}, rounds=(250, 400, 600)),
    Candidate("quantile 0.5 median", "objective quantile 0.5", params={"objective": "quantile", "alpha": 0.5},
              rounds=(250, 400, 600)),
    Candidate("huber delta 3", "huber delta 3", params={"alpha": 3.0}, rounds=(250, 400)),
    Candidate("huber delta 10", "huber delta 10", params={"alpha": 10.0}, rounds=(250, 400)),
    Candidate("l2 median", "objective regression (L2)", params={"objective": "regression"}, rounds=(250, 400)),
    Candidate("lr 0.02", "learning rate 0.02", params={"learning_rate": 0.02}, rounds=(400, 700, 1000)),
    Candidate("31 leaves", "num_leaves 31", params={"num_leaves": 31}, rounds=(250, 400, 600)),
    Candidate("127 leaves", "num_leaves 127", params={"num_leaves": 127}, rounds=(150, 250, 400)),
    Candidate("min_data_in_leaf 50", "min_data_in_leaf 50", params={"min_data_in_leaf": 50}, rounds=(250, 400)),
    Candidate("min_sum_hessian 1", "min_sum_hessian_in_leaf 1", params={"min_sum_hessian_in_leaf": 1.0},
              rounds=(250, 400)),
    Candidate("extra_trees", "extra_trees", params={"extra_trees": True}, rounds=(250, 400, 700)),
    Candidate("feature_fraction 0.8", "feature_fraction 0.8", params={"feature_fraction": 0.8}, rounds=(250, 400)),
    Candidate("bagging 0.8", "bagging_fraction 0.8 every round", params={"bagging_fraction": 0.8, "bagging_freq": 1},
              rounds=(250, 400)),
    Candidate("lambda_l2 10", "lambda_l2 10", params={"lambda_l2": 10.0}, rounds=(250, 400)),
)
STAGE2: tuple[Candidate, ...] = (
    Candidate("w0.5 + 127 leaves", "mask weight 0.5, num_leaves 127", mask_weight=0.5,
              params={"num_leaves": 127}, rounds=(100, 150, 250)),
    Candidate("w0.5 + 127 leaves + bagging", "mask weight 0.5, num_leaves 127, bagging 0.8", mask_weight=0.5,
              params={"num_leaves": 127, "bagging_fraction": 0.8, "bagging_freq": 1}, rounds=(150, 250)),
    Candidate("w0.5 + 255 leaves lr 0.03", "mask weight 0.5, num_leaves 255, lr 0.03", mask_weight=0.5,
              params={"num_leaves": 255, "learning_rate": 0.03}, rounds=(150, 250, 350)),
    Candidate("gate: all-known w0.1 127 leaves", "all-known rows -> median booster with masked copies at weight "
              "0.1 and 127 leaves; rows with an unknown -> v1 median", gate={"mask_weight": 0.1, "num_leaves": 127},
              rounds=(100, 150, 250)),
    Candidate("gate: all-known share 0 127 leaves", "all-known rows -> median booster without masked copies, "
              "127 leaves; rows with an unknown -> v1 median", gate={"share": 0.0, "num_leaves": 127},
              rounds=(100, 150, 250)),
    Candidate("gate: all-known w0.1 255 leaves lr 0.03", "all-known rows -> weight 0.1, 255 leaves, lr 0.03; "
              "rows with an unknown -> v1 median",
              gate={"mask_weight": 0.1, "num_leaves": 255, "learning_rate": 0.03}, rounds=(150, 250, 350)),
)
G = {"mask_weight": 0.1, "num_leaves": 127}  # stage 2's best all-known booster
STAGE3: tuple[Candidate, ...] = (
    Candidate("gate G + bagging 0.8", "gate, all-known booster G with bagging 0.8",
              gate={**G, "bagging_fraction": 0.8, "bagging_freq": 1}, rounds=(150, 200, 250)),
    Candidate("gate G lr 0.025", "gate, all-known booster G at learning rate 0.025",
              gate={**G, "learning_rate": 0.025}, rounds=(250, 300, 400)),
    Candidate("gate G min_data_in_leaf 40", "gate, all-known booster G with min_data_in_leaf 40",
              gate={**G, "min_data_in_leaf": 40}, rounds=(150, 200, 250)),
    Candidate("gate G huber delta 3", "gate, all-known booster G with huber delta 3",
              gate={**G, "alpha": 3.0}, rounds=(150, 250, 350)),
    Candidate("gate G x3 seeds bagging 0.8 ff 0.9", "gate, 3 all-known boosters G (bagging 0.8, feature_fraction "
              "0.9, own seed and masked copies each) averaged",
              gate={**G, "bagging_fraction": 0.8, "bagging_freq": 1, "feature_fraction": 0.9}, seeds=3,
              rounds=(150, 200, 250)),
)
GE = {**G, "bagging_fraction": 0.8, "bagging_freq": 1, "feature_fraction": 0.9}
# Final stage: the finalists with p10/p90 too (v1's quantile boosters), so CV coverage is known. The
# selection rule (module docstring) picks from these rows.
STAGE4: tuple[Candidate, ...] = (
    Candidate("final: v1 settings", "v1 as committed (no gate), for reference", rounds=(250,), quantiles=True),
    Candidate("final: gate G x3", "gate, 3 all-known boosters (G, bagging 0.8, feature_fraction 0.9) averaged; "
              "fallback and p10/p90 = v1", gate=GE, seeds=3, rounds=(100, 125, 150), quantiles=True),
    Candidate("final: gate G x5", "gate, 5 all-known boosters (G, bagging 0.8, feature_fraction 0.9) averaged; "
              "fallback and p10/p90 = v1", gate=GE, seeds=5, rounds=(100, 125, 150), quantiles=True),
)
STAGES: dict[str, tuple[Candidate, ...]] = {"1": STAGE1, "2": STAGE2, "3": STAGE3, "4": STAGE4}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--reports-dir", type=Path, default=data.ML_DIR / "reports")
    ap.add_argument("--stages", default=",".join(STAGES))
    ap.add_argument("--only", default="", help="comma-separated candidate names (default: all of the stages)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--log", type=Path, default=None, help="append each candidate's rows here (jsonl) as it finishes")
    ap.add_argument("--from-logs", type=Path, nargs="*", default=None,
                    help="skip training: rebuild reports/cv_search.* from jsonl logs written by --log")
    args = ap.parse_args(argv)

    if args.from_logs:
        rows = [json.loads(line) for p in args.from_logs for line in p.read_text().splitlines() if line.strip()]
        write_reports(rows, args.reports_dir)
        return 0

    spec, names, x, y, folds, conditions = training_folds(args.data)
    only = {s for s in args.only.split(",") if s}
    t0 = time.time()
    rows = []
    for stage in args.stages.split(","):
        for c in STAGES[stage]:
            if only and c.name not in only:
                continue
            t1 = time.time()
            got = run(c, spec, names, x, y, folds, conditions, args.threads)
            for r in got:
                r["stage"] = stage
                r["note"] = c.note
                r["seconds"] = round(time.time() - t1)
            rows += got
            for r in got:
                print(json.dumps(r), flush=True)
            if args.log:
                with args.log.open("a") as fh:
                    for r in got:
                        fh.write(json.dumps(r) + "\n")
    print(f"done in {time.time() - t0:.0f}s", flush=True)
    if not only and set(args.stages.split(",")) == set(STAGES):
        write_reports(rows, args.reports_dir)
    return 0


UNKNOWN = ("weather_traffic_unknown", "rider_trip_unknown", "rider_trip_weather_traffic_unknown")


def select(rows: list[dict]) -> dict:
    """The selection rule, applied to the final stage's rows (see the module docstring)."""
    final = [r for r in rows if r["stage"] == "4"]
    ref = next(r for r in final if r["candidate"] == "final: v1 settings")
    ok = [r for r in final
          if all(r[f"mae_{c}"] <= ref[f"mae_{c}"] + MASKED_SLACK for c in UNKNOWN)
          and ref["coverage_as_recorded"] - COVERAGE_SLACK <= r["coverage_as_recorded"] <= 0.85]
    best = min(ok, key=lambda r: r["mae_as_recorded"])
    return {"reference": ref, "eligible": [f"{r['candidate']} @ {r['rounds']}" for r in ok], "chosen": best}


def write_reports(rows: list[dict], reports_dir: Path) -> None:
    sel = select(rows)
    result = {"model": "eta-precise", "folds": K, "fold_seed": FOLD_SEED, "validation_rows_used": 0,
              "score": "CV MAE of the median (p50, raw float) per condition; coverage p10-p90 in the final stage",
              "masked_slack_minutes": MASKED_SLACK, "coverage_slack": COVERAGE_SLACK, "rows": rows, "selection": sel}
    reports_dir.mkdir(parents=True, exist_ok=True)
    (reports_dir / "cv_search.json").write_text(json.dumps(result, indent=2) + "\n")
    (reports_dir / "cv_search.md").write_text(markdown(result))


STAGE_TITLES = {
    "1": "Stage 1: one idea at a time against v1's settings (median booster only)",
    "2": "Stage 2: combinations of what helped, and the gated median",
    "3": "Stage 3: refining the gated median's all-known booster",
    "4": "Stage 4 (final): finalists with p10/p90, scored for coverage too; the selection rule picks from here",
}


def markdown(r: dict) -> str:
    conds = ("as_recorded",) + UNKNOWN
    lines = [
        "# eta-precise v2: settings search (5-fold CV on the training portion only)",
        "",
        "Generated by `make -C ml cv-search` (`python -m eta_models.cv_search`); do not edit by hand.",
        "",
        f"Same {r['folds']} folds as `reports/cv.md` (fold seed {r['fold_seed']}) over the training portion only; the "
        "validation split is dropped before the folds are made and was not used to choose anything. Figures: CV MAE "
        "(minutes) of the raw float median, as recorded and with the serving conditions' columns blanked "
        "(weather+traffic; rider+trip = rider_age, rider_rating, vehicle_type, vehicle_condition, "
        "multiple_deliveries, festival; both). `sd` is the standard deviation of the as-recorded MAE over the folds. "
        "Every booster runs on 1 thread.",
        "",
        "Terms: *mask weight* = sample weight of the masked copies (originals weigh 1). *Gate* = the median is "
        "answered by an all-known booster when none of the masked-in-training features (weather, road_traffic, "
        "the four rider fields, multiple_deliveries, festival) is NaN, and by v1's median booster otherwise (chosen "
        "in-graph from the NaN-ness of the input, so the input contract is unchanged); that is why gated rows "
        "have v1's figures in the unknown conditions.",
        "",
    ]
    for stage, title in STAGE_TITLES.items():
        rs = [x for x in r["rows"] if x["stage"] == stage]
        if not rs:
            continue
        cov = "coverage_as_recorded" in rs[0] or any("coverage_as_recorded" in x for x in rs)
        head = "| Candidate | Rounds | " + " | ".join(conds) + " | sd |" + (
            " " + " | ".join(f"cov {c}" for c in conds) + " |" if cov else "")
        lines += [f"## {title}", "", head, "|" + "---|" * (len(conds) + 3 + (len(conds) if cov else 0))]
        for x in rs:
            line = (f"| {x['candidate']} | {x['rounds']} | " + " | ".join(f"{x['mae_' + c]:.3f}" for c in conds)
                    + f" | {x['mae_as_recorded_fold_sd']:.3f} |")
            if cov:
                line += " " + " | ".join(f"{x['coverage_' + c]:.3f}" if 'coverage_' + c in x else "–" for c in conds) + " |"
            lines.append(line)
        notes = {}
        for x in rs:
            notes.setdefault(x["candidate"], x["note"])
        lines += ["", *(f"- {k}: {v}" for k, v in notes.items()), ""]
    s = r["selection"]
    c = s["chosen"]
    lines += [
        "## Selection",
        "",
        f"Rule (fixed before stage 4 was run): among stage 4's rows, those whose CV MAE in every unknown condition is "
        f"at most {r['masked_slack_minutes']} min above v1's settings and whose as-recorded CV coverage is at least "
        f"v1's settings' minus {r['coverage_slack']} and at most 0.85; of these, the lowest as-recorded CV MAE. "
        "The coverage clause was first \"in [0.75, 0.85]\"; it was changed after stage 4's first row showed v1's own "
        f"settings at {r['selection']['reference']['coverage_as_recorded']:.3f} in CV (0.763 on validation) and "
        "before any gated row of stage 4 was seen: every gated candidate keeps v1's p10/p90 boosters, so coverage "
        "is not something this search chooses. The validation coverage goal [0.75, 0.85] is checked in "
        "`reports/evaluation.md`.",
        "",
        f"Eligible: {', '.join(s['eligible'])}.",
        "",
        f"**Chosen: {c['candidate']}, {c['rounds']} rounds**: CV MAE as recorded {c['mae_as_recorded']:.3f} "
        f"(v1 settings {s['reference']['mae_as_recorded']:.3f}), coverage {c['coverage_as_recorded']:.3f}. "
        "`specs.py` (eta-precise v2) uses these settings; the validation split was then read once, by "
        "`make -C ml train` (`reports/evaluation.md`).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
