"""Load and clean the Kaggle food-delivery orders file (see shared/data/README.md for the caveats fixed here).

Returns one tidy frame with the model's feature columns (float32, NaN = unknown) plus the target. Nothing
here writes rows anywhere: the dataset's licence is unclear, so only aggregates leave this process.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import features as F

ML_DIR = Path(__file__).resolve().parents[1]
REPO_DIR = ML_DIR.parent
# shared/ sits beside the repository both here and in CI's fresh clone.
DEFAULT_TRAIN_PATH = REPO_DIR.parent / "shared" / "data" / "food-delivery-india" / "orders-train.csv.gz"
TRAIN_PATH_ENV = "ETA_TRAIN_DATA"

TARGET = "minutes"
EARTH_RADIUS_KM = 6371.0088
# Pickup - order is always 5, 10 or 15 min in the data; 10 is the median, used to recover the order hour.
MEDIAN_PREP_MINUTES = 10

RAW_COLUMNS = (
    "ID", "Delivery_person_ID", "Delivery_person_Age", "Delivery_person_Ratings",
    "Restaurant_latitude", "Restaurant_longitude", "Delivery_location_latitude", "Delivery_location_longitude",
    "Order_Date", "Time_Orderd", "Time_Order_picked", "Weatherconditions", "Road_traffic_density",
    "Vehicle_condition", "Type_of_order", "Type_of_vehicle", "multiple_deliveries", "Festival", "City",
    "Time_taken(min)",
)

# Raw label (lower-cased, trimmed, prefix removed) -> key in the encoding tables of features.py.
_CITY_TO_REGION = {"metropolitian": "metropolitan", "metropolitan": "metropolitan", "urban": "urban",
                   "semi-urban": "semi_urban"}


def default_train_path() -> Path:
    override = os.environ.get(TRAIN_PATH_ENV)
    return Path(override).expanduser().resolve() if override else DEFAULT_TRAIN_PATH


def sha256_uncompressed(path: Path) -> str:
    h = hashlib.sha256()
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dl = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))


def _clean_text(s: pd.Series) -> pd.Series:
    """Trim, lower-case and turn the literal 'NaN' (the file's missing marker) into a real NaN."""
    s = s.astype("string").str.strip().str.lower()
    return s.mask(s.isin(["nan", "", "none", "null"]))


def _encode(s: pd.Series, table: dict[str, int], column: str) -> pd.Series:
    unknown = sorted(set(s.dropna().unique()) - set(table))
    if unknown:
        raise ValueError(f"{column}: labels not in the documented encoding: {unknown}")
    return s.map(table).astype("float32")


def _to_float(s: pd.Series) -> pd.Series:
    return pd.to_numeric(_clean_text(s), errors="coerce").astype("float64")


@dataclass
class Loaded:
    frame: pd.DataFrame  # feature columns + TARGET, one row per usable order
    rows_read: int
    rows_dropped: dict[str, int]


def load_orders(path: Path) -> Loaded:
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    missing = [c for c in RAW_COLUMNS if c not in raw.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}")
    out = pd.DataFrame(index=raw.index)

    # Coordinates: negative signs are a data error (README caveat 4); 0,0 restaurants have no geometry.
    rlat, rlon = _to_float(raw["Restaurant_latitude"]).abs(), _to_float(raw["Restaurant_longitude"]).abs()
    dlat, dlon = _to_float(raw["Delivery_location_latitude"]).abs(), _to_float(raw["Delivery_location_longitude"]).abs()
    no_geo = (rlat < 1.0) | (rlon < 1.0) | (dlat < 1.0) | (dlon < 1.0)
    dist = pd.Series(haversine_km(rlat, rlon, dlat, dlon), index=raw.index).mask(no_geo)
    out["distance_km"] = dist.round(3)

    # Dates are dd-mm-yyyy (README caveat 9): parse with an explicit format, never let pandas guess.
    date = pd.to_datetime(_clean_text(raw["Order_Date"]), format="%d-%m-%Y", errors="coerce")
    t_order = pd.to_datetime(_clean_text(raw["Time_Orderd"]), format="%H:%M:%S", errors="coerce")
    t_pick = pd.to_datetime(_clean_text(raw["Time_Order_picked"]), format="%H:%M:%S", errors="coerce")
    hour = t_order.dt.hour.astype("float64")
    hour = hour.fillna((t_pick - pd.Timedelta(minutes=MEDIAN_PREP_MINUTES)).dt.hour.astype("float64"))
    out["hour_of_day"] = hour
    out["day_of_week"] = date.dt.dayofweek.astype("float64")

    city = _clean_text(raw["City"]).map(lambda v: _CITY_TO_REGION.get(v, v) if isinstance(v, str) else v)
    out["region_class"] = _encode(city, F.REGION_CLASS, "City")
    out["order_type"] = _encode(_clean_text(raw["Type_of_order"]), F.ORDER_TYPE, "Type_of_order")
    weather = _clean_text(raw["Weatherconditions"]).str.replace(r"^conditions\s*", "", regex=True)
    out["weather"] = _encode(weather.mask(weather.isin(["nan", ""])), F.WEATHER, "Weatherconditions")
    out["road_traffic"] = _encode(_clean_text(raw["Road_traffic_density"]), F.ROAD_TRAFFIC, "Road_traffic_density")

    age, rating = _to_float(raw["Delivery_person_Age"]), _to_float(raw["Delivery_person_Ratings"])
    # Sentinel-looking riders (README caveat 8) and out-of-scale ratings carry no rider information.
    sentinel = ((age == 15) & (rating == 1)) | ((age == 50) & (rating == 6))
    out["rider_age"] = age.mask(sentinel | (age < 18) | (age > 65))
    out["rider_rating"] = rating.mask(sentinel | (rating < 1) | (rating > 5))
    out["vehicle_type"] = _encode(_clean_text(raw["Type_of_vehicle"]), F.VEHICLE_TYPE, "Type_of_vehicle")
    out["vehicle_condition"] = _to_float(raw["Vehicle_condition"])
    out["multiple_deliveries"] = _to_float(raw["multiple_deliveries"])
    out["festival"] = _encode(_clean_text(raw["Festival"]), F.FESTIVAL, "Festival")

    target = _clean_text(raw["Time_taken(min)"]).str.replace(r"^\(min\)\s*", "", regex=True)
    out[TARGET] = pd.to_numeric(target, errors="coerce")

    dropped: dict[str, int] = {}
    keep = pd.Series(True, index=out.index)
    for col, why in ((TARGET, "target missing or not a number"),):
        bad = out[col].isna() & keep
        dropped[why] = int(bad.sum())
        keep &= ~bad
    for f in F.PRECISE_FEATURES:
        if not f.nullable:
            bad = out[f.name].isna() & keep
            if bad.any():
                dropped[f"{f.name} missing (required feature)"] = int(bad.sum())
            keep &= ~bad
    frame = out.loc[keep].reset_index(drop=True)
    cols = F.names(F.PRECISE_FEATURES)
    frame[cols] = frame[cols].astype("float32")
    frame[TARGET] = frame[TARGET].astype("float64")
    return Loaded(frame=frame, rows_read=len(raw), rows_dropped=dropped)
