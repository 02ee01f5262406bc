"""Evaluate the COMMITTED ONNX models on any file in the orders-train.csv format.

    python -m eta_models.evaluate --data PATH [--models eta-rough/2,eta-precise/2] [--json OUT]

Runs onnxruntime only (no LightGBM, no retraining): first the golden-vector check a serving proxy would do,
then MAE / RMSE / R² of p50 and p10–p90 coverage on every usable row of PATH. Prints aggregates only.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort

from . import data
from .golden import verify
from .metrics import quantile_metrics
from .specs import SPECS

# Every shipped version (specs.SPECS lists them all).
DEFAULT_MODELS = tuple(f"{s.name}/{s.version}" for s in SPECS)


def evaluate_model(model_dir: Path, frame) -> dict:
    meta = json.loads((model_dir / "metadata.json").read_text())
    names = [f["name"] for f in meta["features"]]
    sess = ort.InferenceSession((model_dir / "model.onnx").read_bytes(), providers=["CPUExecutionProvider"])
    x = frame[names].to_numpy(np.float32)
    outs = [o["name"] for o in meta["outputs"]]
    p10, p50, p90 = (a.reshape(-1).astype(np.float64) for a in sess.run(outs, {meta["input"]["name"]: x}))
    if np.any(p10 > p50) or np.any(p50 > p90):
        raise RuntimeError(f"{model_dir}: quantiles not ordered")
    return quantile_metrics(frame[data.TARGET].to_numpy(np.float64), p10, p50, p90)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="CSV or CSV.gz with the orders-train.csv columns")
    ap.add_argument("--models-dir", type=Path, default=data.ML_DIR / "models")
    ap.add_argument("--models", default=",".join(DEFAULT_MODELS), help="comma-separated <name>/<version>")
    ap.add_argument("--json", type=Path, default=None, help="also write the metrics here")
    args = ap.parse_args(argv)

    loaded = data.load_orders(args.data)
    result = {"data": str(args.data), "sha256_uncompressed": data.sha256_uncompressed(args.data),
              "rows_read": loaded.rows_read, "rows_dropped": loaded.rows_dropped, "rows_used": len(loaded.frame),
              "models": {}}
    failed = False
    print(f"{args.data}: {len(loaded.frame)} usable rows of {loaded.rows_read} (dropped: {loaded.rows_dropped})")
    print(f"{'model':<18} {'rows':>6} {'MAE':>7} {'RMSE':>7} {'R2':>7} {'cover':>7}  golden")
    for ref in args.models.split(","):
        model_dir = args.models_dir / ref
        problems = verify(model_dir)
        m = evaluate_model(model_dir, loaded.frame)
        result["models"][ref] = {"metrics": m, "golden_ok": not problems, "golden_problems": problems}
        failed |= bool(problems)
        print(f"{ref:<18} {m['rows']:>6} {m['mae']:>7.3f} {m['rmse']:>7.3f} {m['r2']:>7.3f} "
              f"{m['coverage_p10_p90']:>7.3f}  {'ok' if not problems else 'FAIL: ' + '; '.join(problems)}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
