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


RIDER_TRIP = ("rider_age", "rider_rating", "vehicle_type", "vehicle_condition", "multiple_deliveries", "festival")


VERSIONS = sorted({s.version for s in SPECS})  # each version of eta-precise has a same-version eta-rough


def _meta(name, version):
    return json.loads((ML_DIR / "models" / name / version / "metadata.json").read_text())


@pytest.mark.parametrize("version", VERSIONS)
def test_nullability_contract(version):
    """What may be unknown at serving time: the BFF sends NaN there instead of inventing a rider."""
    nullable = {f["name"]: f["nullable"] for f in _meta("eta-precise", version)["features"]}
    assert {n for n, ok in nullable.items() if not ok} == {"hour_of_day", "day_of_week", "order_type"}
    for name in RIDER_TRIP + ("weather", "road_traffic"):
        assert nullable[name], name
    rough = {f["name"]: f["nullable"] for f in _meta("eta-rough", version)["features"]}
    assert rough == {n: nullable[n] for n in rough}
    for f in _meta("eta-precise", version)["features"]:
        assert f["missing"].startswith("NaN: ") == f["nullable"], f["name"]


@pytest.mark.parametrize("version", VERSIONS)
def test_golden_covers_an_unknown_rider(version):
    golden = json.loads((ML_DIR / "models" / "eta-precise" / version / "golden.json").read_text())
    names = [f["name"] for f in _meta("eta-precise", version)["features"]]
    idx = [names.index(n) for n in RIDER_TRIP]
    assert any(all(c["features"][i] is None for i in idx) for c in golden["cases"])
    assert any(c["features"][names.index("vehicle_type")] is None and c["features"][names.index("festival")] is not None
               for c in golden["cases"])


@pytest.mark.parametrize("version", VERSIONS)
def test_unknown_rider_is_close_to_rough_and_not_a_fast_default(version):
    """On synthetic trips, eta-precise with rider and trip unknown answers like eta-rough (both are the data's
    average rider), while a fixed 'motorcycle, good condition, no batching' rider is clearly faster. Validation
    shows a mean |p50 difference| of about 1 min for unknown vs about 10 min for the old defaults."""
    precise, rough = _meta("eta-precise", version), _meta("eta-rough", version)
    names = [f["name"] for f in precise["features"]]
    rng = np.random.default_rng(1)
    n = 500
    x = np.full((n, len(names)), np.nan, dtype=np.float32)
    x[:, names.index("distance_km")] = rng.choice([1.5, 3, 4.5, 6, 7.5, 9, 12, 15, 18], n)
    x[:, names.index("hour_of_day")] = rng.integers(9, 24, n)
    x[:, names.index("day_of_week")] = rng.integers(0, 7, n)
    x[:, names.index("region_class")] = rng.integers(0, 3, n)
    x[:, names.index("order_type")] = rng.integers(0, 4, n)
    run = lambda name, m: ort.InferenceSession(str(ML_DIR / "models" / name / version / "model.onnx"),  # noqa: E731
                                               providers=["CPUExecutionProvider"]).run(["p50"], {"features": m})[0]
    rough_p50 = run("eta-rough", x[:, : len(rough["features"])]).reshape(-1)
    unknown_p50 = run("eta-precise", x).reshape(-1)
    assert np.mean(np.abs(unknown_p50 - rough_p50)) < 3.0
    fast = x.copy()
    fast[:, names.index("vehicle_type")] = 3
    fast[:, names.index("vehicle_condition")] = 2
    fast[:, names.index("multiple_deliveries")] = 0
    fast[:, names.index("festival")] = 0
    assert np.mean(run("eta-precise", fast).reshape(-1)) < np.mean(unknown_p50) - 2.0
