"""The retrain job (issue 13): train a candidate on the newest served training rows and publish it into the
model repository only when it is better than the live model. ml/README.md, "The retrain job", has the why.

    python -m eta_models.retrain --source postgres://...|bigquery://<project>/<dataset> [--model eta-precise]
        [--days 14] [--holdout-days 1] [--until YYYY-MM-DD] [--margin 0.1] [--models-dir ml/models]
        [--report-dir ml/reports/retrain] [--data orders-train.csv.gz] [--validation-tolerance 0]
        [--validation-decimals exact|N] [--continue-rounds 25] [--holdout-from ISO-TIME]
        [--window-weight 1] [--reference-masked-weight auto|W] [--no-change-detection]

1. Reads the newest --days Seoul days (ending --until, default yesterday in Seoul: today is still going on)
   of training rows for --model, deduped by order_id.
2. Holds back the newest --holdout-days (or the orders placed from --holdout-from); continues the live
   version's trees by --continue-rounds per output with its spec (same features, LightGBM settings,
   masking augmentation, seed) on the reference training split plus the other rows, less those of a
   segment from before a change in the live model's error that change.scan finds (and, with
   --reference-masked-weight auto, less the reference's masked copies once it finds one).
3. Evaluates candidate and live model (release.json `serving`, else the newest version) on the held-back
   days and on the reference validation split; publishes as the next version only if every gate passes.
4. Writes a report (JSON + Markdown) either way. Exit 0 for publish and decline; 1 for errors.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import shutil
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from . import change as C
from . import data
from . import features as F
from . import golden as G
from . import report
from . import repository as R
from . import training_rows as T
from .specs import QUANTILES, SEED, SPECS, ModelSpec
from .train import (PARITY_TOL, augment_missing, condition_metrics, export_checked, lgb_predict,
                    load_boosters, masked_copies, metrics_for, now_utc, onnx_predict, reference_provenance,
                    save_boosters, session_for, split, train_boosters, version_files, write_version)

SEOUL = dt.timezone(dt.timedelta(hours=9))
BY = "retrain-job"

# Decision rule defaults (ml/README.md, "The decision rule", says why each is what it is).
DEFAULT_DAYS = 14
DEFAULT_HOLDOUT_DAYS = 1
DEFAULT_MARGIN = 0.1  # minutes of holdout MAE the candidate must gain
DEFAULT_WINDOW_WEIGHT = 1.0  # weight of a served row against a reference row
# Weight of the reference split's masked copies in the continued fit; 0 leaves them out. Served rows all have
# weather and traffic unknown, like those copies: at 0 the new trees learn what "unknown" means now from the
# served rows only. None ("auto", the default): 1 while the window shows no change, 0 once change.scan finds
# one (the copies then say what "unknown" meant before it). Always 0 learns more of a shift, but the drift
# run's no-shift control came within 0.004 min of the margin with it (ml/README.md has the measurements).
DEFAULT_REFERENCE_MASKED_WEIGHT: float | None = None
AUTO_MASKED_WEIGHT = {False: 1.0, True: 0.0}  # by "a change was found"
MIN_TRAIN_ROWS = 2000  # served rows in the training days
MIN_HOLDOUT_ROWS = 500  # served rows in the held-back days
WINDOW_MASK_SEED = SEED + 2  # the served rows' masked copies (the reference rows keep the spec's own, SEED + 1)
BOOTSTRAP_RESAMPLES = 2000
CONFIDENCE = 0.95
HOLDOUT_COVERAGE = (0.75, 0.85)
VALIDATION_COVERAGE = (0.78, 0.82)  # issue 13's goal band for eta-precise
DEFAULT_VALIDATION_TOLERANCE = 0.0  # "never worse" on the validation split (issue 13)...
DEFAULT_VALIDATION_DECIMALS: int | None = None  # ...compared unrounded; 2 compares at 0.01 min (3.16)
DEFAULT_CONTINUE_ROUNDS = 25  # trees added per output to the live version's (a third of v2's 75)


@dataclass
class Options:
    source: str
    model: str = "eta-precise"
    days: int = DEFAULT_DAYS
    holdout_days: int = DEFAULT_HOLDOUT_DAYS
    holdout_from: dt.datetime | None = None  # instead of holdout_days: orders placed at or after it
    until: dt.date | None = None
    margin: float = DEFAULT_MARGIN
    window_weight: float = DEFAULT_WINDOW_WEIGHT
    reference_masked_weight: float | None = DEFAULT_REFERENCE_MASKED_WEIGHT  # None: auto
    change_detection: bool = True  # leave out a changed segment's rows from before its change (change.py)
    validation_tolerance: float = DEFAULT_VALIDATION_TOLERANCE
    validation_decimals: int | None = DEFAULT_VALIDATION_DECIMALS  # None: compare exactly
    continue_rounds: int = DEFAULT_CONTINUE_ROUNDS
    min_train_rows: int = MIN_TRAIN_ROWS
    min_holdout_rows: int = MIN_HOLDOUT_ROWS
    bootstrap_resamples: int = BOOTSTRAP_RESAMPLES
    models_dir: Path = data.ML_DIR / "models"
    report_dir: Path = data.ML_DIR / "reports" / "retrain"
    data: Path | None = None


@dataclass
class Hooks:
    """Test-only ways to force a bad candidate (not reachable from the command line)."""
    shuffle_targets: bool = False  # train on the targets in a seeded random order: a model that learned nothing
    tamper_staged: Callable[[Path], None] | None = None  # called on .tmp-N before its golden check


class JobError(RuntimeError):
    pass


# ---- pieces --------------------------------------------------------------------------------------------

def spec_for(model: str, version: str, meta: dict) -> ModelSpec:
    """The ModelSpec a version was trained with: its own entry in specs.SPECS, or for a version this job
    published, the spec named in its metadata's `training.spec`."""
    ref = f"{model}/{version}"
    by_ref = {f"{s.name}/{s.version}": s for s in SPECS}
    spec = by_ref.get(ref) or by_ref.get((meta.get("training") or {}).get("spec", ""))
    if spec is None:
        raise JobError(f"no training spec for {ref}: not in specs.SPECS and no training.spec in its metadata")
    names = [f["name"] for f in meta["features"]]
    if spec.feature_names != names:
        raise JobError(f"{ref}: metadata features {names} differ from spec {spec.name}/{spec.version}")
    return spec


def feature_matrix(frame, names: list[str], required: set[str]) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Served rows -> float32 matrix in the model's column order; rows that cannot be used are dropped and
    counted by reason. A features object whose keys differ from the model's layout was built for another
    layout: it is dropped rather than guessed."""
    want = set(names)
    x = np.full((len(frame), len(names)), np.nan, dtype=np.float32)
    keep = np.ones(len(frame), dtype=bool)
    dropped = {"features layout differs from the model's": 0, "required feature null": 0,
               "actual minutes not a positive number": 0}
    for i, (feats, actual) in enumerate(zip(frame["features"], frame["actual_minutes"])):
        if not isinstance(feats, dict) or set(feats) != want:
            dropped["features layout differs from the model's"] += 1
            keep[i] = False
            continue
        if any(feats[n] is None for n in required):
            dropped["required feature null"] += 1
            keep[i] = False
            continue
        if not (np.isfinite(actual) and actual > 0):
            dropped["actual minutes not a positive number"] += 1
            keep[i] = False
            continue
        x[i] = [np.nan if feats[n] is None else float(feats[n]) for n in names]
    return x, keep, {k: v for k, v in dropped.items() if v}


def _live_boosters(version_dir: Path, spec: ModelSpec, x_ref_aug: np.ndarray, y_ref_aug: np.ndarray, live_sess,
                   x_check: np.ndarray) -> tuple[dict, str]:
    """The serving version's LightGBM trees: saved beside its model.onnx when this job published it, else
    retrained from its spec (the committed versions reproduce bit for bit). Either way they must answer as
    its model.onnx does, or the candidate would continue from a model nobody serves."""
    boosters, how = load_boosters(version_dir), "saved trees"
    if boosters is None:
        boosters, _ = train_boosters(spec, x_ref_aug, y_ref_aug)
        how = f"retrained from spec {spec.name}/{spec.version}"
    diff = float(np.max(np.abs(onnx_predict(live_sess, x_check) - lgb_predict(boosters, x_check))))
    if not diff <= PARITY_TOL:
        raise JobError(f"the trees of v{version_dir.name} ({how}) differ from its model.onnx by {diff:.2e} min "
                       f"(tolerance {PARITY_TOL}): cannot continue from them")
    return boosters, how


def quality(y: np.ndarray, pred: np.ndarray) -> dict:
    """quantile_metrics plus bias and pinball losses (minutes)."""
    out = metrics_for(pred, y)
    out["bias"] = round(float(np.mean(pred[:, 1] - y)), 4)
    for j, (name, q) in enumerate(QUANTILES.items()):
        err = y - pred[:, j]
        out[f"pinball_{name}"] = round(float(np.mean(np.maximum(q * err, (q - 1) * err))), 4)
    return out


def paired_bootstrap(a_err: np.ndarray, b_err: np.ndarray, resamples: int, seed: int = SEED) -> dict:
    """Mean of |a| - |b| per row and a seeded percentile bootstrap interval of it (rows resampled in pairs)."""
    d = np.abs(a_err) - np.abs(b_err)
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    for i in range(resamples):
        means[i] = d[rng.integers(0, len(d), len(d))].mean()
    lo, hi = np.quantile(means, [(1 - CONFIDENCE) / 2, 1 - (1 - CONFIDENCE) / 2])
    return {"mean": round(float(d.mean()), 4), "low": round(float(lo), 4), "high": round(float(hi), 4),
            "confidence": CONFIDENCE, "resamples": resamples, "seed": seed}


def gate(name: str, ok: bool | None, detail: str) -> dict:
    """ok None = not run (an earlier gate already declined)."""
    return {"gate": name, "status": "not run" if ok is None else ("pass" if ok else "fail"), "detail": detail}


def _load_session(model_dir: Path):
    meta = json.loads((model_dir / "metadata.json").read_text())
    return meta, session_for((model_dir / "model.onnx").read_bytes())


# ---- the run -------------------------------------------------------------------------------------------

def run(opts: Options, hooks: Hooks | None = None) -> dict:
    """One run; returns the report (also written to opts.report_dir). Raises JobError/SourceError/
    RepositoryError on errors (nothing is published then)."""
    hooks = hooks or Hooks()
    run_at = now_utc()
    model_dir = opts.models_dir / opts.model
    if not model_dir.is_dir():
        raise JobError(f"no model {opts.model!r} in {opts.models_dir}")
    if opts.holdout_from is None and (opts.days < opts.holdout_days + 1 or opts.holdout_days < 1):
        raise JobError(f"--days {opts.days} must exceed --holdout-days {opts.holdout_days} (>= 1)")
    live = R.live_versions(model_dir)
    live_meta, live_sess = _load_session(model_dir / live.serving)
    spec = spec_for(opts.model, live.serving, live_meta)
    names = spec.feature_names

    until = opts.until or (dt.datetime.now(SEOUL).date() - dt.timedelta(days=1))
    first = until - dt.timedelta(days=opts.days - 1)
    holdout_first = until - dt.timedelta(days=opts.holdout_days - 1)
    rep: dict = {
        "run_at": run_at, "by": BY, "model": opts.model,
        "window": {"first": first.isoformat(), "last": until.isoformat(), "days": opts.days,
                   "holdout_first": holdout_first.isoformat(), "holdout_days": opts.holdout_days,
                   "holdout_from": opts.holdout_from.isoformat() if opts.holdout_from else None,
                   "timezone": "Asia/Seoul"},
        "live": {"serving": live.serving, "found_by": live.how, "candidate_in_shadow": live.candidate,
                 "spec": f"{spec.name}/{spec.version}"},
        "settings": {"margin_minutes": opts.margin, "window_weight": opts.window_weight,
                     "reference_masked_weight": opts.reference_masked_weight,
                     "continue_rounds": opts.continue_rounds, "validation_tolerance": opts.validation_tolerance,
                     "validation_decimals": opts.validation_decimals, "min_train_rows": opts.min_train_rows,
                     "min_holdout_rows": opts.min_holdout_rows, "holdout_coverage": list(HOLDOUT_COVERAGE),
                     "validation_coverage": list(VALIDATION_COVERAGE), "parity_tolerance": PARITY_TOL},
        "hooks": {k: v for k, v in (("shuffle_targets", hooks.shuffle_targets),
                                    ("tamper_staged", hooks.tamper_staged is not None)) if v} or None,
    }

    read = T.read_rows(opts.source, opts.model, first, until)
    rep["source"] = read.source
    frame = read.frame
    required = {f["name"] for f in live_meta["features"] if not f["nullable"]}
    x_all, keep, dropped = feature_matrix(frame, names, required)
    y_all = frame["actual_minutes"].to_numpy(np.float64)
    if opts.holdout_from is not None:
        is_hold = (frame["ordered_at"] >= pd.Timestamp(opts.holdout_from)).to_numpy(bool)
    else:
        is_hold = np.array([d >= holdout_first for d in frame["seoul_date"]], dtype=bool)
    tr_mask, ho_mask = keep & ~is_hold, keep & is_hold
    rep["rows"] = {"read": read.rows_read, "deduped": len(frame), "duplicates_removed": read.rows_read - len(frame),
                   "dropped": dropped, "train": int(tr_mask.sum()), "holdout": int(ho_mask.sum()),
                   "by_day": {d.isoformat(): int(n) for d, n in sorted(frame.loc[keep, "seoul_date"].value_counts().items())}}
    gates: list[dict] = []
    enough = tr_mask.sum() >= opts.min_train_rows and ho_mask.sum() >= opts.min_holdout_rows
    gates.append(gate("enough rows", bool(enough),
                      f"train {int(tr_mask.sum())} (min {opts.min_train_rows}), holdout {int(ho_mask.sum())} "
                      f"(min {opts.min_holdout_rows})"))
    if not enough:
        return _finish(opts, rep, gates, published=None, reason="too few rows: " + gates[-1]["detail"])

    # Reference data: its training split joins the candidate's training rows; its validation split is the gate.
    path = (opts.data or data.default_train_path()).resolve()
    if not path.exists():
        raise JobError(f"reference data not found: {path} (--data or ${data.TRAIN_PATH_ENV})")
    loaded = data.load_orders(path)
    ref_tr, ref_va = split(len(loaded.frame))
    x_ref = loaded.frame[names].to_numpy(np.float32)
    y_ref = loaded.frame[data.TARGET].to_numpy(np.float64)
    x_va, y_va = x_ref[ref_va], y_ref[ref_va]
    provenance = reference_provenance(path, loaded, ref_tr, ref_va)
    rep["rows"]["reference_train"] = int(len(ref_tr))
    rep["rows"]["reference_validation"] = int(len(ref_va))

    # The candidate continues the live version's trees (ml/README.md, "What the candidate trains on"):
    # `continue_rounds` more trees per output, fitted on the reference training split (weight 1), exactly
    # the live spec's masked copies of it (reference_masked_weight; left out at 0), and the window's
    # training rows (window_weight each) with masked copies of their own.
    # Where the live model's error changed inside the window (change.py): a changed segment's rows from
    # before its change are left out of the fit, and "auto" drops the reference's masked copies.
    x_served, y_served = x_all[tr_mask], y_all[tr_mask]
    if opts.change_detection:
        tr_frame = frame.loc[tr_mask]
        region = x_served[:, names.index("region_class")] if "region_class" in names else None
        segments = {} if region is None else {
            f"region_class={k}": region == v for k, v in F.REGION_CLASS.items()}
        dongs = tr_frame["dong_code"].to_numpy()
        for code in sorted(set(dongs)):
            segments[f"dong={code}"] = dongs == code
        residual = y_served - onnx_predict(live_sess, x_served)[:, 1]
        found = C.scan(tr_frame["ordered_at"], residual, segments)
        rep["change"] = found.to_json()
        win_keep = found.keep
    else:
        rep["change"] = None
        win_keep = np.ones(len(x_served), dtype=bool)
    changed = bool(rep["change"] and rep["change"]["changes"])
    masked_weight = (AUTO_MASKED_WEIGHT[changed] if opts.reference_masked_weight is None
                     else opts.reference_masked_weight)
    rep["settings"]["reference_masked_weight_used"] = masked_weight
    fitted = rep["rows"]["train_fitted"] = int(win_keep.sum())
    if opts.change_detection:
        # "enough rows" above counted the window before the scan left out a changed segment's earlier rows:
        # what the candidate is fitted on must clear the same minimum.
        gates.append(gate("enough rows after the change cut", fitted >= opts.min_train_rows,
                          f"{fitted} of {len(win_keep)} served training rows fitted, "
                          f"{len(win_keep) - fitted} left out by the change scan (min {opts.min_train_rows})"))
        if fitted < opts.min_train_rows:
            return _finish(opts, rep, gates, published=None,
                           reason="too few rows after the change cut: " + gates[-1]["detail"])

    x_win, y_win = x_served[win_keep], y_served[win_keep]
    if hooks.shuffle_targets:
        y_win = np.random.default_rng(SEED + 7).permutation(y_win)
    x_ref_aug, y_ref_aug = augment_missing(x_ref[ref_tr], y_ref[ref_tr], names, spec.mask_share)
    base, base_how = _live_boosters(model_dir / live.serving, spec, x_ref_aug, y_ref_aug, live_sess, x_va)
    rep["live"]["trees_from"] = base_how
    if hooks.shuffle_targets:
        y_ref_aug = np.random.default_rng(SEED + 8).permutation(y_ref_aug)
    extra, pick = masked_copies(x_win, names, spec.mask_share, seed=WINDOW_MASK_SEED)
    n_ref = len(ref_tr)  # x_ref_aug: the reference rows, then their masked copies
    ref_keep = len(x_ref_aug) if masked_weight > 0 else n_ref
    x_fit = np.vstack([x_ref_aug[:ref_keep], x_win, extra])
    y_fit = np.concatenate([y_ref_aug[:ref_keep], y_win, y_win[pick]])
    w_fit = np.concatenate([np.ones(n_ref), np.full(ref_keep - n_ref, masked_weight),
                            np.full(len(x_win) + len(extra), opts.window_weight)])
    version = R.next_version(model_dir)
    train_until = (opts.holdout_from.isoformat() if opts.holdout_from
                   else (holdout_first - dt.timedelta(days=1)).isoformat())
    cand_spec = dataclasses.replace(
        spec, version=version,
        summary=f"{spec.summary} v{version}: retrained by the retrain job: v{live.serving}'s trees and "
                f"{opts.continue_rounds} more per output, fitted on served rows of {first.isoformat()}.."
                f"{train_until} plus the reference training split (spec {spec.name}/{spec.version}).")
    print(f"[retrain] continuing {spec.name} v{live.serving} ({base_how}) by {opts.continue_rounds} trees per "
          f"output on {len(x_fit)} rows ({len(ref_tr)} reference + {len(x_win)} served, and masked copies)",
          flush=True)
    boosters, params_used = train_boosters(cand_spec, x_fit, y_fit, w_fit, base=base, rounds=opts.continue_rounds)
    x_tr = np.vstack([x_ref[ref_tr], x_win])
    y_tr = np.concatenate([y_ref[ref_tr], y_served[win_keep]])

    x_ho, y_ho = x_all[ho_mask], y_all[ho_mask]
    metrics, unknown_inputs = condition_metrics(boosters, names, x_va, y_va)
    metrics["train"] = metrics_for(lgb_predict(boosters, x_tr), y_tr)
    exported = export_checked(cand_spec, boosters, [x_ho, x_va, *unknown_inputs.values()])

    # Both models scored by ONNX Runtime, as served.
    cand_ho, live_ho = onnx_predict(exported.session, x_ho), onnx_predict(live_sess, x_ho)
    cand_va, live_va = onnx_predict(exported.session, x_va), onnx_predict(live_sess, x_va)
    served_p50 = frame.loc[ho_mask, "p50"].to_numpy(np.float64)
    served_from_live = frame.loc[ho_mask, "model_version"].to_numpy() == live.serving
    rep["holdout"] = {"candidate": quality(y_ho, cand_ho), "live": quality(y_ho, live_ho),
                      "difference_mae": paired_bootstrap(cand_ho[:, 1] - y_ho, live_ho[:, 1] - y_ho,
                                                         opts.bootstrap_resamples),
                      "served_rows_by_live_version": int(served_from_live.sum()),
                      "max_abs_diff_served_vs_recomputed_p50": round(float(np.max(np.abs(
                          served_p50[served_from_live] - live_ho[served_from_live, 1]))), 6)
                      if served_from_live.any() else None}
    rep["validation"] = {"candidate": quality(y_va, cand_va), "live": quality(y_va, live_va)}
    h, v = rep["holdout"], rep["validation"]
    gain = h["live"]["mae"] - h["candidate"]["mae"]
    ci = h["difference_mae"]
    gates.append(gate("holdout MAE margin", gain >= opts.margin,
                      f"candidate {h['candidate']['mae']:.3f} vs live {h['live']['mae']:.3f}: gain {gain:.3f} "
                      f"(needs >= {opts.margin})"))
    gates.append(gate("holdout confidence", ci["high"] < 0,
                      f"{int(CONFIDENCE * 100)}% interval of candidate - live per-row absolute error [{ci['low']:.3f}, "
                      f"{ci['high']:.3f}] (upper bound must be < 0)"))
    cov = h["candidate"]["coverage_p10_p90"]
    gates.append(gate("holdout coverage", HOLDOUT_COVERAGE[0] <= cov <= HOLDOUT_COVERAGE[1],
                      f"p10-p90 coverage {cov:.3f} (band {HOLDOUT_COVERAGE[0]}-{HOLDOUT_COVERAGE[1]})"))
    if live.candidate is not None:
        pend_meta, pend_sess = _load_session(model_dir / live.candidate)
        pend_ho = onnx_predict(pend_sess, x_ho)
        pend_q = quality(y_ho, pend_ho)
        pend_ci = paired_bootstrap(cand_ho[:, 1] - y_ho, pend_ho[:, 1] - y_ho, opts.bootstrap_resamples)
        h["candidate_in_shadow"] = {"version": live.candidate, **pend_q, "difference_mae": pend_ci}
        pgain = pend_q["mae"] - h["candidate"]["mae"]
        gates.append(gate("better than the candidate in shadow", pgain >= opts.margin and pend_ci["high"] < 0,
                          f"v{live.candidate} (in shadow) {pend_q['mae']:.3f}: gain {pgain:.3f}, interval "
                          f"[{pend_ci['low']:.3f}, {pend_ci['high']:.3f}]"))
    vmae_c, vmae_l = v["candidate"]["mae"], v["live"]["mae"]
    dec = opts.validation_decimals
    rc, rl = (vmae_c, vmae_l) if dec is None else (round(vmae_c, dec), round(vmae_l, dec))
    gates.append(gate("validation MAE not worse", rc <= rl + opts.validation_tolerance,
                      f"candidate {vmae_c:.4f} vs live {vmae_l:.4f} on the reference validation split, compared "
                      f"{'exactly' if dec is None else f'at {dec} decimals ({rc:.{dec}f} vs {rl:.{dec}f})'} "
                      f"(tolerance {opts.validation_tolerance})"))
    vc, vl = v["candidate"]["coverage_p10_p90"], v["live"]["coverage_p10_p90"]
    in_band = VALIDATION_COVERAGE[0] <= vc <= VALIDATION_COVERAGE[1]
    gates.append(gate("validation coverage", in_band or abs(vc - 0.8) <= abs(vl - 0.8),
                      f"candidate {vc:.3f} vs live {vl:.3f} (band {VALIDATION_COVERAGE[0]}-{VALIDATION_COVERAGE[1]}, "
                      "or no further from 0.80 than live)"))
    parity = max(exported.parity, exported.golden_parity)
    gates.append(gate("ONNX/LightGBM parity", parity <= PARITY_TOL,
                      f"max abs(ONNX - LightGBM) {parity:.2e} min on holdout, validation and golden inputs "
                      f"(tolerance {PARITY_TOL})"))
    if not all(g["status"] == "pass" for g in gates):
        gates.append(gate("golden vectors reproduce", None, "not run: an earlier gate declined"))
        return _finish(opts, rep, gates, published=None, reason=_first_failure(gates))

    # Stage the version, check its golden vectors as the proxy will, then publish by rename.
    report_rel = _report_ref(opts, run_at)
    training = {
        "job": BY, "run_at": run_at, "spec": f"{spec.name}/{spec.version}", "parent_version": live.serving,
        "source": read.source, "window": rep["window"], "window_weight": opts.window_weight,
        "reference_masked_weight": masked_weight, "change": rep["change"],
        "continued": {"from_version": live.serving, "trees_from": base_how, "rounds": opts.continue_rounds},
        "rows": rep["rows"], "holdout": rep["holdout"], "validation": rep["validation"], "report": report_rel,
    }
    meta, golden = version_files(cand_spec, exported, run_at, metrics, params_used, provenance)
    meta["training"] = training
    tmp = R.staging_dir(model_dir, version)
    try:
        write_version(tmp, exported, meta, golden, report.model_card(cand_spec, meta) + report.retrain_card(meta))
        save_boosters(tmp, boosters)
        if hooks.tamper_staged is not None:
            hooks.tamper_staged(tmp)
        problems = G.verify(tmp)
        gates.append(gate("golden vectors reproduce", not problems,
                          "staged version verified like the proxy does" if not problems else "; ".join(problems)))
        if problems:
            shutil.rmtree(tmp)
            return _finish(opts, rep, gates, published=None, reason=_first_failure(gates))
        # Without a `serving` in release.json the proxy serves the newest version: pin today's before the new
        # folder appears, or a repository scan between the rename and the release write would serve the
        # candidate to every unpinned call.
        before = R.read_release(model_dir)
        if before is None or "serving" not in before:
            R.write_release(model_dir, {**(before or {}), "serving": live.serving})
        R.publish_staged(tmp, model_dir, version)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    held = (f"orders placed from {opts.holdout_from.isoformat()}" if opts.holdout_from else
            rep['window']['holdout_first'] + ('' if opts.holdout_days == 1 else '..' + rep['window']['last']))
    reason = (f"MAE {h['candidate']['mae']:.2f} vs {h['live']['mae']:.2f} on {held} (n={h['candidate']['rows']:,}), "
              f"CI of the difference [{ci['low']:.2f}, {ci['high']:.2f}]")
    release = R.read_release(model_dir)
    entry = {"at": run_at, "by": BY, "action": "publish", "version": version, "from": live.serving,
             "reason": reason, "report": report_rel}
    R.write_release(model_dir, R.with_published_candidate(release, live.serving, entry))
    return _finish(opts, rep, gates, published=version, reason=reason)


def _first_failure(gates: list[dict]) -> str:
    bad = next(g for g in gates if g["status"] == "fail")
    return f"{bad['gate']}: {bad['detail']}"


def _report_name(run_at: str) -> str:
    return run_at.replace(":", "-")


def _report_ref(opts: Options, run_at: str) -> str:
    """How release.json names the report: relative to the model repository when it is inside it (production
    writes reports there), else its absolute path."""
    path = (opts.report_dir / f"{_report_name(run_at)}.json").resolve()
    try:
        return str(path.relative_to(opts.models_dir.resolve()))
    except ValueError:
        return str(path)


def _finish(opts: Options, rep: dict, gates: list[dict], published: str | None, reason: str,
            action: str | None = None) -> dict:
    rep["gates"] = gates
    rep["decision"] = {"action": action or ("publish" if published else "decline"), "version": published,
                       "reason": reason}
    opts.report_dir.mkdir(parents=True, exist_ok=True)
    base = opts.report_dir / _report_name(rep["run_at"])
    rep["report_files"] = [str(base) + ".json", str(base) + ".md"]
    base.with_suffix(".json").write_text(json.dumps(rep, indent=2, allow_nan=False) + "\n")
    base.with_suffix(".md").write_text(report.retrain_markdown(rep))
    print(f"[retrain] {rep['decision']['action']}: {reason}", flush=True)
    return rep


# ---- command line ---------------------------------------------------------------------------------------

def _aware_time(text: str) -> dt.datetime:
    t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if t.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no zone (write Z or +09:00)")
    return t


def _masked_weight(text: str) -> float | None:
    if text == "auto":
        return None
    w = float(text)
    if not w >= 0:
        raise argparse.ArgumentTypeError("the weight must be >= 0 or 'auto'")
    return w


def _decimals(text: str) -> int | None:
    if text == "exact":
        return None
    n = int(text)
    if n < 0:
        raise argparse.ArgumentTypeError("decimals must be >= 0 or 'exact'")
    return n


def parse(argv: list[str] | None) -> Options:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", default=os.environ.get("RETRAIN_SOURCE"),
                    help="postgres://... or bigquery://<project>/<dataset> (default $RETRAIN_SOURCE, so a "
                         "password can come from a Secret)")
    ap.add_argument("--model", default="eta-precise")
    ap.add_argument("--days", type=int, default=DEFAULT_DAYS, help="Seoul days read, holdout included")
    ap.add_argument("--holdout-days", type=int, default=DEFAULT_HOLDOUT_DAYS)
    ap.add_argument("--holdout-from", type=_aware_time, default=None,
                    help="ISO time with a zone: hold back the orders placed from then on instead of whole days "
                         "(a run shorter than two days, such as the drift run)")
    ap.add_argument("--until", type=dt.date.fromisoformat, default=None,
                    help="last Seoul day of the window (default yesterday in Seoul)")
    ap.add_argument("--margin", type=float, default=DEFAULT_MARGIN, help="holdout MAE gain needed, minutes")
    ap.add_argument("--window-weight", type=float, default=DEFAULT_WINDOW_WEIGHT)
    ap.add_argument("--reference-masked-weight", type=_masked_weight, default=DEFAULT_REFERENCE_MASKED_WEIGHT,
                    help="weight of the reference split's masked copies in the continued fit (0: left out; "
                         "'auto', the default: 1, or 0 once a change is found in the window)")
    ap.add_argument("--no-change-detection", dest="change_detection", action="store_false",
                    help="fit every served row of the window, even a changed segment's from before its change")
    ap.add_argument("--validation-tolerance", type=float, default=DEFAULT_VALIDATION_TOLERANCE)
    ap.add_argument("--validation-decimals", type=_decimals, default=DEFAULT_VALIDATION_DECIMALS,
                    help="decimals the validation MAEs are compared at ('exact': unrounded)")
    ap.add_argument("--continue-rounds", type=int, default=DEFAULT_CONTINUE_ROUNDS,
                    help="trees added per output to the live version's")
    ap.add_argument("--min-train-rows", type=int, default=MIN_TRAIN_ROWS)
    ap.add_argument("--min-holdout-rows", type=int, default=MIN_HOLDOUT_ROWS)
    ap.add_argument("--models-dir", type=Path, default=data.ML_DIR / "models")
    ap.add_argument("--report-dir", type=Path, default=data.ML_DIR / "reports" / "retrain")
    ap.add_argument("--data", type=Path, default=None,
                    help=f"reference orders file; default ${data.TRAIN_PATH_ENV} or {data.DEFAULT_TRAIN_PATH}")
    a = ap.parse_args(argv)
    if not a.source:
        ap.error("--source (or RETRAIN_SOURCE) is required")
    if a.continue_rounds < 1:
        ap.error("--continue-rounds must be at least 1")
    return Options(source=a.source, model=a.model, days=a.days, holdout_days=a.holdout_days,
                   holdout_from=a.holdout_from, until=a.until, margin=a.margin, window_weight=a.window_weight,
                   reference_masked_weight=a.reference_masked_weight, validation_tolerance=a.validation_tolerance, validation_decimals=a.validation_decimals,
                   continue_rounds=a.continue_rounds, change_detection=a.change_detection,
                   min_train_rows=a.min_train_rows, min_holdout_rows=a.min_holdout_rows, models_dir=a.models_dir,
                   report_dir=a.report_dir, data=a.data)


def _error_report(opts: Options, message: str) -> None:
    """An error is a run too: its report says what failed (nothing was published)."""
    rep = {"run_at": now_utc(), "by": BY, "model": opts.model, "window": None, "source": T.redact(opts.source)}
    try:
        _finish(opts, rep, [], published=None, reason=message, action="error")
    except OSError as err:
        print(f"[retrain] could not write the error report: {err}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    opts = parse(argv)
    try:
        run(opts)
    except (JobError, T.SourceError, R.RepositoryError) as err:
        print(f"[retrain] error: {err}", file=sys.stderr)
        _error_report(opts, str(err))
        return 1
    except Exception as err:  # noqa: BLE001 - any other failure is an error too, with its trace
        traceback.print_exc()
        _error_report(opts, f"{err.__class__.__name__}: {err}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
