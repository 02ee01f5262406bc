"""Golden vectors: hand-made SYNTHETIC inputs (never dataset rows) with the outputs the ONNX model gave
when it was exported. A serving proxy runs them after loading a model and refuses to swap it in if any
output differs by more than the tolerance."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np

from . import features as F

NAN = float("nan")

# Scenarios chosen to walk different tree paths: typical, peak and bad conditions, every optional feature
# unknown, and the edges of the valid ranges. Values are by feature name; a model takes its own subset.
SCENARIOS: tuple[tuple[str, dict[str, float]], ...] = (
    ("weekday lunch, short hop, good conditions", dict(
        distance_km=2.5, hour_of_day=12, day_of_week=2, region_class=F.REGION_CLASS["metropolitan"],
        order_type=F.ORDER_TYPE["meal"], weather=F.WEATHER["sunny"], road_traffic=F.ROAD_TRAFFIC["low"],
        rider_age=26, rider_rating=4.8, vehicle_type=F.VEHICLE_TYPE["motorcycle"], vehicle_condition=2,
        multiple_deliveries=0, festival=F.FESTIVAL["no"])),
    ("friday dinner peak, jam, storm, batched rider", dict(
        distance_km=9.0, hour_of_day=20, day_of_week=4, region_class=F.REGION_CLASS["metropolitan"],
        order_type=F.ORDER_TYPE["buffet"], weather=F.WEATHER["stormy"], road_traffic=F.ROAD_TRAFFIC["jam"],
        rider_age=35, rider_rating=4.2, vehicle_type=F.VEHICLE_TYPE["scooter"], vehicle_condition=0,
        multiple_deliveries=2, festival=F.FESTIVAL["no"])),
    ("festival evening, long distance, fog", dict(
        distance_km=17.5, hour_of_day=21, day_of_week=6, region_class=F.REGION_CLASS["urban"],
        order_type=F.ORDER_TYPE["snack"], weather=F.WEATHER["fog"], road_traffic=F.ROAD_TRAFFIC["high"],
        rider_age=31, rider_rating=4.6, vehicle_type=F.VEHICLE_TYPE["electric_scooter"], vehicle_condition=1,
        multiple_deliveries=1, festival=F.FESTIVAL["yes"])),
    ("every nullable feature unknown", dict(
        distance_km=NAN, hour_of_day=18, day_of_week=0, region_class=NAN, order_type=F.ORDER_TYPE["drinks"],
        weather=NAN, road_traffic=NAN, rider_age=NAN, rider_rating=NAN, vehicle_type=NAN,
        vehicle_condition=NAN, multiple_deliveries=NAN, festival=NAN)),
    ("no weather/traffic feed, otherwise typical", dict(
        distance_km=6.0, hour_of_day=13, day_of_week=1, region_class=F.REGION_CLASS["urban"],
        order_type=F.ORDER_TYPE["meal"], weather=NAN, road_traffic=NAN, rider_age=24, rider_rating=4.9,
        vehicle_type=F.VEHICLE_TYPE["scooter"], vehicle_condition=2, multiple_deliveries=1,
        festival=F.FESTIVAL["no"])),
    ("semi-urban, sandstorm, bicycle, low-rated rider", dict(
        distance_km=12.0, hour_of_day=9, day_of_week=5, region_class=F.REGION_CLASS["semi_urban"],
        order_type=F.ORDER_TYPE["drinks"], weather=F.WEATHER["sandstorms"], road_traffic=F.ROAD_TRAFFIC["medium"],
        rider_age=38, rider_rating=3.1, vehicle_type=F.VEHICLE_TYPE["bicycle"], vehicle_condition=3,
        multiple_deliveries=3, festival=F.FESTIVAL["no"])),
    ("range edges: near midnight, very short, windy", dict(
        distance_km=0.3, hour_of_day=0, day_of_week=3, region_class=F.REGION_CLASS["metropolitan"],
        order_type=F.ORDER_TYPE["snack"], weather=F.WEATHER["windy"], road_traffic=F.ROAD_TRAFFIC["medium"],
        rider_age=20, rider_rating=5.0, vehicle_type=F.VEHICLE_TYPE["motorcycle"], vehicle_condition=3,
        multiple_deliveries=0, festival=F.FESTIVAL["no"])),
    ("cloudy morning, beyond training distance", dict(
        distance_km=25.0, hour_of_day=10, day_of_week=6, region_class=F.REGION_CLASS["urban"],
        order_type=F.ORDER_TYPE["buffet"], weather=F.WEATHER["cloudy"], road_traffic=F.ROAD_TRAFFIC["low"],
        rider_age=29, rider_rating=4.5, vehicle_type=F.VEHICLE_TYPE["electric_scooter"], vehicle_condition=0,
        multiple_deliveries=1, festival=F.FESTIVAL["yes"])),
    ("store detail before checkout: no rider, no trip facts, no feeds", dict(
        distance_km=4.0, hour_of_day=19, day_of_week=3, region_class=F.REGION_CLASS["metropolitan"],
        order_type=F.ORDER_TYPE["meal"], weather=NAN, road_traffic=NAN, rider_age=NAN, rider_rating=NAN,
        vehicle_type=NAN, vehicle_condition=NAN, multiple_deliveries=NAN, festival=NAN)),
    ("rider assigned, trip facts unknown", dict(
        distance_km=8.0, hour_of_day=22, day_of_week=5, region_class=F.REGION_CLASS["urban"],
        order_type=F.ORDER_TYPE["snack"], weather=F.WEATHER["cloudy"], road_traffic=F.ROAD_TRAFFIC["high"],
        rider_age=33, rider_rating=4.4, vehicle_type=F.VEHICLE_TYPE["scooter"], vehicle_condition=1,
        multiple_deliveries=NAN, festival=NAN)),
    ("trip facts known, no rider yet", dict(
        distance_km=11.0, hour_of_day=11, day_of_week=0, region_class=F.REGION_CLASS["semi_urban"],
        order_type=F.ORDER_TYPE["buffet"], weather=F.WEATHER["sunny"], road_traffic=F.ROAD_TRAFFIC["jam"],
        rider_age=NAN, rider_rating=NAN, vehicle_type=NAN, vehicle_condition=NAN, multiple_deliveries=1,
        festival=F.FESTIVAL["no"])),
)


def synthetic_vectors(features: tuple[F.Feature, ...]) -> np.ndarray:
    return np.array([[float(v[f.name]) for f in features] for _, v in SCENARIOS], dtype=np.float32)


def _json_num(v: float) -> float | None:
    """Shortest decimal that parses back to the same float32 (4.8, not 4.800000190734863)."""
    return None if math.isnan(v) else float(str(np.float32(v)))


def cases_json(features: tuple[F.Feature, ...], x: np.ndarray, y: np.ndarray) -> list[dict]:
    return [
        {
            "description": SCENARIOS[i][0],
            "features": [_json_num(float(v)) for v in x[i]],
            "expected": {"p10": _json_num(y[i, 0]), "p50": _json_num(y[i, 1]), "p90": _json_num(y[i, 2])},
        }
        for i in range(len(x))
    ]


def verify(model_dir: Path) -> list[str]:
    """The check a serving proxy performs before swapping a model in; returns problems (empty = ok)."""
    import onnxruntime as ort

    problems: list[str] = []
    meta = json.loads((model_dir / "metadata.json").read_text())
    golden = json.loads((model_dir / "golden.json").read_text())
    model_bytes = (model_dir / "model.onnx").read_bytes()
    sha = hashlib.sha256(model_bytes).hexdigest()
    if sha != meta["artifact"]["sha256"] or sha != golden["model_sha256"]:
        problems.append(f"model.onnx sha256 {sha} does not match metadata/golden")
    sess = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    inputs = sess.get_inputs()
    n_features = len(meta["features"])
    if len(inputs) != 1 or inputs[0].name != meta["input"]["name"] or inputs[0].type != "tensor(float)" \
            or inputs[0].shape[-1] != n_features:
        problems.append(f"input contract mismatch: {[(i.name, i.type, i.shape) for i in inputs]}")
    outs = [o.name for o in sess.get_outputs()]
    if outs != [o["name"] for o in meta["outputs"]]:
        problems.append(f"outputs {outs} differ from metadata")
    x = np.array([[np.nan if v is None else v for v in c["features"]] for c in golden["cases"]], dtype=np.float32)
    got = sess.run(outs, {meta["input"]["name"]: x})
    tol = float(golden["tolerance"])
    for i, case in enumerate(golden["cases"]):
        row = [float(got[j].reshape(-1)[i]) for j in range(len(outs))]
        for name, value in zip(outs, row):
            if not abs(value - case["expected"][name]) <= tol:
                problems.append(f"golden case {i} ({case['description']}): {name}={value} expected {case['expected'][name]}")
        if not row[0] <= row[1] <= row[2]:
            problems.append(f"golden case {i}: quantiles not ordered {row}")
    return problems
