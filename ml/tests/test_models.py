"""The committed artifacts honour the contract the TypeScript ml-proxy relies on."""

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from eta_models.data import ML_DIR
from eta_models.golden import verify
from eta_models.specs import SPECS

MODEL_DIRS = [ML_DIR / "models" / s.name / s.version for s in SPECS]


@pytest.mark.parametrize("model_dir", MODEL_DIRS, ids=lambda d: d.parent.name)
def test_golden_vectors_reproduce(model_dir):
    assert verify(model_dir) == []


@pytest.mark.parametrize("model_dir", MODEL_DIRS, ids=lambda d: d.parent.name)
def test_onnx_contract(model_dir):
    meta = json.loads((model_dir / "metadata.json").read_text())
    model = onnx.load(str(model_dir / "model.onnx"))
    assert [i.name for i in model.graph.input] == ["features"]
    assert [o.name for o in model.graph.output] == ["p10", "p50", "p90"]
    assert model.ir_version <= 8
    assert {o.domain: o.version for o in model.opset_import} == {"": 15, "ai.onnx.ml": 3}
    assert [f["index"] for f in meta["features"]] == list(range(len(meta["features"])))
    assert meta["input"]["shape"] == [-1, len(meta["features"])]


@pytest.mark.parametrize("model_dir", MODEL_DIRS, ids=lambda d: d.parent.name)
def test_quantiles_ordered_on_random_synthetic_inputs(model_dir):
    meta = json.loads((model_dir / "metadata.json").read_text())
    rng = np.random.default_rng(0)
    cols = []
    for f in meta["features"]:
        if "encoding" in f:
            col = rng.integers(0, len(f["encoding"]), 2000).astype(np.float32)
        else:
            lo, hi = f["valid_range"]
            col = rng.uniform(lo, hi, 2000).astype(np.float32)
        if f["nullable"]:
            col[rng.random(2000) < 0.2] = np.nan
        cols.append(col)
    x = np.stack(cols, axis=1)
    sess = ort.InferenceSession(str(model_dir / "model.onnx"), providers=["CPUExecutionProvider"])
    p10, p50, p90 = sess.run(["p10", "p50", "p90"], {"features": x})
    assert p10.shape == (2000, 1)
    assert np.all(p10 <= p50) and np.all(p50 <= p90)
    assert np.all((p50 > 0) & (p50 < 120))
