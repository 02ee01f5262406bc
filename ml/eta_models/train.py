"""Train, evaluate and export the reference ETA models.

    python -m eta_models.train [--data PATH] [--models-dir DIR] [--reports-dir DIR]

Exit status 1 if ONNX and LightGBM disagree by more than PARITY_TOL on any validation row, or if the
golden vectors do not reproduce. Only models and aggregate metrics are written; no dataset rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import lightgbm as lgb
import numpy as np
import onnx
import onnxruntime as ort

from . import data
from . import features as F
from . import golden as G
from . import report
from .metrics import quantile_metrics
from .onnx_export import INPUT_NAME, OUTPUT_NAMES, build_model
from .specs import QUANTILES, SEED, SPECS, VALIDATION_SHARE, ModelSpec

PARITY_TOL = 1e-4
GOLDEN_TOL = 1e-4


def split(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded random split (not temporal: the 44 order dates are interleaved synthetic data, and the
    published baselines use random splits too, so the figures are comparable)."""
    order = np.random.default_rng(SEED).permutation(n)
    n_val = int(round(VALIDATION_SHARE * n))
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def masked_copies(x: np.ndarray, names: list[str], share: float,
                  seed: int = SEED + 1) -> tuple[np.ndarray, np.ndarray]:
    """The masked copies augment_missing appends, and which rows they copy (a boolean mask over x), so a
    caller with per-row weights (the retrain job) can give each copy its row's weight."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"mask share {share} outside [0, 1]: each row gets at most one masked copy")
    rng = np.random.default_rng(seed)
    units = [[names.index(n) for n in unit] for unit in F.mask_units(names)]
    pick = rng.random(len(x)) < share
    extra = x[pick].copy()
    # Bit i of a pattern blanks unit i; patterns 1 .. 2^units - 1 (at least one unit blanked).
    pattern = rng.integers(0, 2 ** len(units) - 1, size=len(extra)) + 1
    for i, cols in enumerate(units):
        rows = (pattern >> i) & 1 == 1
        for c in cols:
            extra[rows, c] = np.nan
    return extra, pick


def augment_missing(x: np.ndarray, y: np.ndarray, names: list[str], share: float,
                    seed: int = SEED + 1) -> tuple[np.ndarray, np.ndarray]:
    """Append a copy of `share` of the rows with a random non-empty set of mask units (F.MASK_UNITS: weather,
    traffic, the rider, the trip facts) set to NaN, each set equally likely.

    Appending (rather than blanking in place) keeps every original row's full information while still
    teaching the trees a sensible path for 'not known', which the raw data has too rarely (0-4%, with odd
    targets; never for the vehicle). With only weather and traffic (eta-rough) the sets are weather only /
    traffic only / both, drawn exactly as before units were introduced, so that model is unchanged."""
    extra, pick = masked_copies(x, names, share, seed)
    return np.vstack([x, extra]), np.concatenate([y, y[pick]])


def unknown_conditions(names: list[str]) -> dict[str, tuple[str, ...]]:
    """Validation conditions besides 'as recorded': metric key -> the columns blanked (NaN) for it."""
    out = {"validation_weather_traffic_unknown": F.FEEDS}
    if all(n in names for n in F.RIDER_TRIP):
        out["validation_rider_trip_unknown"] = F.RIDER_TRIP
        # What a store detail page asks before checkout while there is no weather/traffic feed.
        out["validation_rider_trip_weather_traffic_unknown"] = F.RIDER_TRIP + F.FEEDS
    return out


def blank(x: np.ndarray, names: list[str], cols: tuple[str, ...]) -> np.ndarray:
    out = x.copy()
    for n in cols:
        out[:, names.index(n)] = np.nan
    return out


def train_boosters(spec: ModelSpec, x: np.ndarray, y: np.ndarray, weight: np.ndarray | None = None, *,
                   base: dict[str, lgb.Booster] | None = None,
                   rounds: int | None = None) -> tuple[dict[str, lgb.Booster], dict]:
    """One booster per output with the spec's settings. With `base`, continues its boosters instead
    (LightGBM init_model): `rounds` more trees per output, the base trees kept as they are and the new ones
    fitted to what they leave (the retrain job)."""
    cat_idx = [spec.feature_names.index(c) for c in spec.categorical]
    boosters, params_used = {}, {}
    for out in QUANTILES:
        params, spec_rounds = spec.output_params(out)
        init = None if base is None else base[out]
        n = spec_rounds if rounds is None else rounds
        ds = lgb.Dataset(x, y, weight=weight, feature_name=spec.feature_names, categorical_feature=cat_idx,
                         free_raw_data=True)
        boosters[out] = lgb.train(params, ds, num_boost_round=n, init_model=init)
        before = 0 if init is None else init.current_iteration()
        params_used[out] = {**params, "num_boost_round": before + n, "categorical_feature": list(spec.categorical)}
        if init is not None:
            params_used[out] |= {"continued_from_rounds": before, "continued_rounds": n}
    return boosters, params_used


BOOSTER_FILE = "lightgbm-{out}.txt"  # beside model.onnx in a version the retrain job publishes


def save_boosters(out_dir: Path, boosters: dict[str, lgb.Booster]) -> None:
    """The trees in LightGBM's text format, so the next retrain can continue from this version."""
    for out, b in boosters.items():
        (out_dir / BOOSTER_FILE.format(out=out)).write_text(b.model_to_string())


def load_boosters(version_dir: Path) -> dict[str, lgb.Booster] | None:
    """A version's saved trees, or None when it has none (the committed versions: train.py reproduces them)."""
    paths = {out: version_dir / BOOSTER_FILE.format(out=out) for out in QUANTILES}
    if not all(p.exists() for p in paths.values()):
        return None
    return {out: lgb.Booster(model_str=p.read_text()) for out, p in paths.items()}


def lgb_predict(boosters: dict[str, lgb.Booster], x: np.ndarray) -> np.ndarray:
    """LightGBM reference prediction with the same sort the ONNX graph applies; shape [N, 3]."""
    raw = np.stack([boosters[o].predict(x) for o in OUTPUT_NAMES], axis=1)
    return np.sort(raw, axis=1)


def onnx_predict(session: ort.InferenceSession, x: np.ndarray) -> np.ndarray:
    outs = session.run(list(OUTPUT_NAMES), {INPUT_NAME: np.ascontiguousarray(x, dtype=np.float32)})
    return np.concatenate([o.reshape(-1, 1) for o in outs], axis=1).astype(np.float64)


def session_for(model_bytes: bytes) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(model_bytes, sess_options=opts, providers=["CPUExecutionProvider"])


def metrics_for(pred: np.ndarray, y: np.ndarray) -> dict:
    return quantile_metrics(y, pred[:, 0], pred[:, 1], pred[:, 2])


def condition_metrics(boosters: dict[str, lgb.Booster], names: list[str], x_va: np.ndarray,
                      y_va: np.ndarray) -> tuple[dict, dict[str, np.ndarray]]:
    """Validation metrics as recorded and in each unknown-input condition (LightGBM predictions), and the
    blanked inputs of those conditions (for the parity check)."""
    metrics = {"validation": metrics_for(lgb_predict(boosters, x_va), y_va)}
    unknown_inputs = {}
    for key, cols in unknown_conditions(names).items():
        unknown_inputs[key] = blank(x_va, names, cols)
        metrics[key] = metrics_for(lgb_predict(boosters, unknown_inputs[key]), y_va)
    crossing = float(np.mean(np.any(np.diff(np.stack([boosters[o].predict(x_va) for o in OUTPUT_NAMES], 1), axis=1) < 0, axis=1)))
    metrics["validation"]["raw_quantile_crossing_share"] = round(crossing, 4)
    return metrics, unknown_inputs


@dataclass
class Exported:
    """One model's ONNX graph with its parity figures against the LightGBM boosters it came from."""
    model: onnx.ModelProto
    model_bytes: bytes
    sha256: str
    session: ort.InferenceSession
    parity: float  # max |ONNX - LightGBM| over the check inputs (minutes)
    golden_x: np.ndarray
    golden_out: np.ndarray
    golden_parity: float  # the same on the synthetic golden vectors

    def failures(self, label: str) -> list[str]:
        out = []
        if not self.parity <= PARITY_TOL:
            out.append(f"{label}: ONNX/LightGBM parity {self.parity:.3e} > {PARITY_TOL}")
        if not self.golden_parity <= PARITY_TOL:
            out.append(f"{label}: golden ONNX/LightGBM parity {self.golden_parity:.3e} > {PARITY_TOL}")
        return out


def export_checked(spec: ModelSpec, boosters: dict[str, lgb.Booster], check_inputs: list[np.ndarray]) -> Exported:
    """Build the ONNX graph and measure ONNX/LightGBM parity on check_inputs and on the golden vectors."""
    names = spec.feature_names
    model = build_model(
        boosters, len(names),
        doc=f"{spec.name} v{spec.version}: {spec.summary} Outputs are delivery minutes (p10<=p50<=p90).",
        metadata={"name": spec.name, "version": spec.version, "features": ",".join(names)},
    )
    model_bytes = model.SerializeToString()
    session = session_for(model_bytes)
    parity = 0.0
    for x in check_inputs:
        parity = max(parity, float(np.max(np.abs(onnx_predict(session, x) - lgb_predict(boosters, x)))))
    golden_x = G.synthetic_vectors(spec.features)
    golden_out = onnx_predict(session, golden_x)
    golden_parity = float(np.max(np.abs(golden_out - lgb_predict(boosters, golden_x))))
    return Exported(model, model_bytes, hashlib.sha256(model_bytes).hexdigest(), session, parity,
                    golden_x, golden_out, golden_parity)


def version_files(spec: ModelSpec, exported: Exported, created: str, metrics: dict, params_used: dict,
                  training_data: dict) -> tuple[dict, dict]:
    """metadata.json and golden.json of one version (as dicts)."""
    names = spec.feature_names
    model = exported.model
    meta = {
        "name": spec.name,
        "version": spec.version,
        "created": created,
        "summary": spec.summary,
        "framework": {"trainer": f"lightgbm {lgb.__version__}", "onnx": onnx.__version__,
                      "opset": {"ai.onnx": 15, "ai.onnx.ml": 3}, "ir_version": model.ir_version,
                      "checked_with": f"onnxruntime {ort.__version__}"},
        "artifact": {"file": "model.onnx", "sha256": exported.sha256, "bytes": len(exported.model_bytes)},
        "input": {"name": INPUT_NAME, "dtype": "float32", "shape": [-1, len(names)],
                  "missing_value": "NaN (only where feature.nullable is true)",
                  "categorical_values": "send the integer code as a float (e.g. 2.0); unknown labels -> NaN where nullable"},
        "features": [dict(index=i, **f.to_json(), lightgbm_categorical=f.name in spec.categorical)
                     for i, f in enumerate(spec.features)],
        "outputs": [{"name": o, "dtype": "float32", "shape": [-1, 1], "unit": "minutes",
                     "meaning": f"{int(QUANTILES[o] * 100)}th percentile of delivery minutes"} for o in OUTPUT_NAMES],
        "output_guarantees": "p10 <= p50 <= p90 per row (sorted in-graph by TopK); no clamping to a range",
        "target": {"column": "Time_taken(min)", "unit": "minutes",
                   "definition": "ambiguous in the source: order->delivery or pickup->delivery (see MODEL_CARD.md)"},
        "training_data": {**training_data, "missing_augmentation": {
            "units": [list(u) for u in F.mask_units(names)],
            "share_of_train_rows_appended": spec.mask_share,
            "patterns": "every non-empty set of units, uniformly; a unit is blanked as a whole"}},
        "metrics": metrics,
        "parity": {"max_abs_diff_onnx_vs_lightgbm_validation": exported.parity, "tolerance": PARITY_TOL},
        "lightgbm_params": params_used,
    }
    golden = {
        "model": spec.name, "version": spec.version, "model_sha256": exported.sha256,
        "input": INPUT_NAME, "outputs": list(OUTPUT_NAMES), "tolerance": GOLDEN_TOL,
        "note": "Synthetic feature vectors (not dataset rows). null means NaN. Expected values come from onnxruntime.",
        "cases": G.cases_json(spec.features, exported.golden_x, exported.golden_out),
    }
    return meta, golden


def write_version(out_dir: Path, exported: Exported, meta: dict, golden: dict, card: str) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "model.onnx").write_bytes(exported.model_bytes)
    (out_dir / "metadata.json").write_text(json.dumps(meta, indent=2, allow_nan=False) + "\n")
    (out_dir / "golden.json").write_text(json.dumps(golden, indent=2, allow_nan=False) + "\n")
    (out_dir / "MODEL_CARD.md").write_text(card)


def now_utc() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _created(meta_path: Path, model_sha: str) -> str:
    """Keep the original timestamp when a re-run reproduces the same bytes, so re-running the one command
    leaves the committed artifacts unchanged."""
    if meta_path.exists():
        old = json.loads(meta_path.read_text())
        if old.get("artifact", {}).get("sha256") == model_sha and old.get("created"):
            return old["created"]
    return now_utc()


def reference_provenance(path: Path, loaded: data.Loaded, tr_idx: np.ndarray, va_idx: np.ndarray) -> dict:
    """Where the reference training data came from and how it was split (metadata.json training_data)."""
    return {
        "file": "shared/data/food-delivery-india/orders-train.csv.gz" if path == data.DEFAULT_TRAIN_PATH.resolve() else path.name,
        "source": "Kaggle 'Food Delivery Dataset' (gauravmalik26) train.csv, 80% ID-hash subset; see shared/data/README.md",
        "sha256_uncompressed": data.sha256_uncompressed(path),
        "rows_read": loaded.rows_read,
        "rows_dropped": loaded.rows_dropped,
        "rows_used": len(loaded.frame),
        "split": {"kind": "random", "seed": SEED, "validation_share": VALIDATION_SHARE,
                  "train_rows": int(len(tr_idx)), "validation_rows": int(len(va_idx))},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=None,
                    help=f"training CSV(.gz); default ${data.TRAIN_PATH_ENV} or {data.DEFAULT_TRAIN_PATH}")
    ap.add_argument("--models-dir", type=Path, default=data.ML_DIR / "models")
    ap.add_argument("--reports-dir", type=Path, default=data.ML_DIR / "reports")
    args = ap.parse_args(argv)

    path = (args.data or data.default_train_path()).resolve()
    if not path.exists():
        print(f"training data not found: {path} (set --data or ${data.TRAIN_PATH_ENV})", file=sys.stderr)
        return 2
    print(f"loading {path}", flush=True)
    loaded = data.load_orders(path)
    frame = loaded.frame
    tr_idx, va_idx = split(len(frame))
    y_all = frame[data.TARGET].to_numpy(np.float64)
    provenance = reference_provenance(path, loaded, tr_idx, va_idx)

    failures: list[str] = []
    results = []
    for spec in SPECS:
        names = spec.feature_names
        x = frame[names].to_numpy(np.float32)
        x_tr, y_tr = augment_missing(x[tr_idx], y_all[tr_idx], names, spec.mask_share)
        x_va, y_va = x[va_idx], y_all[va_idx]
        print(f"[{spec.name}] training 3 boosters on {len(x_tr)} rows ({len(tr_idx)} + masked copies)", flush=True)
        boosters, params_used = train_boosters(spec, x_tr, y_tr)

        metrics, unknown_inputs = condition_metrics(boosters, names, x_va, y_va)
        metrics["train"] = metrics_for(lgb_predict(boosters, x[tr_idx]), y_all[tr_idx])
        exported = export_checked(spec, boosters, [x_va, *unknown_inputs.values()])
        print(f"[{spec.name}] validation {metrics['validation']}  parity max|onnx-lgb|={exported.parity:.2e}", flush=True)
        failures += exported.failures(spec.name)

        out_dir = args.models_dir / spec.name / spec.version
        meta, golden = version_files(spec, exported, _created(out_dir / "metadata.json", exported.sha256), metrics,
                                     params_used, provenance)
        write_version(out_dir, exported, meta, golden, report.model_card(spec, meta))
        # Re-verify what was written, exactly as a serving proxy would.
        problems = G.verify(out_dir)
        failures += [f"{spec.name}: {p}" for p in problems]
        results.append(meta)

    args.reports_dir.mkdir(parents=True, exist_ok=True)
    summary = report.evaluation_summary(results, provenance)
    (args.reports_dir / "evaluation.json").write_text(json.dumps(summary, indent=2, allow_nan=False) + "\n")
    (args.reports_dir / "evaluation.md").write_text(report.evaluation_markdown(summary))
    if failures:
        for f in failures:
            print(f"FAIL {f}", file=sys.stderr)
        return 1
    print("ok: models, golden vectors and reports written; parity within tolerance")
    return 0


if __name__ == "__main__":
    sys.exit(main())
