"""Feature contract shared by training, export, evaluation and (through metadata.json) the TypeScript caller.

Every feature is one float32 column. Categoricals are small documented integers; NaN always means
"unknown / not sent", so a caller builds the vector from metadata.json alone and never invents a value.
The order of FEATURES_* is the column order of the ONNX input `features`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Codes are ordinal where the category has a natural order (traffic, region density, vehicle size) so
# tree splits stay meaningful; nominal ones (weather, order type) are simply numbered. Never renumber a
# code inside a model version: the serving side builds vectors from these tables.
REGION_CLASS = {"semi_urban": 0, "urban": 1, "metropolitan": 2}
ORDER_TYPE = {"snack": 0, "meal": 1, "drinks": 2, "buffet": 3}
WEATHER = {"sunny": 0, "cloudy": 1, "windy": 2, "fog": 3, "stormy": 4, "sandstorms": 5}
ROAD_TRAFFIC = {"low": 0, "medium": 1, "high": 2, "jam": 3}
VEHICLE_TYPE = {"bicycle": 0, "electric_scooter": 1, "scooter": 2, "motorcycle": 3}
FESTIVAL = {"no": 0, "yes": 1}


@dataclass(frozen=True)
class Feature:
    name: str
    kind: str  # "numeric" | "categorical"
    unit: str | None
    description: str
    nullable: bool
    encoding: dict[str, int] | None = None
    valid_range: tuple[float, float] | None = None
    source: str = field(default="")

    def to_json(self) -> dict:
        out: dict = {
            "name": self.name,
            "type": self.kind,
            "dtype": "float32",
            "unit": self.unit,
            "description": self.description,
            "nullable": self.nullable,
            "missing": "NaN" if self.nullable else "not allowed: never NaN in training, so the output for NaN is undefined; reject the request",
        }
        if self.encoding is not None:
            out["encoding"] = dict(self.encoding)
        if self.valid_range is not None:
            out["valid_range"] = list(self.valid_range)
        if self.source:
            out["training_source"] = self.source
        return out


ROUGH_FEATURES: tuple[Feature, ...] = (
    Feature(
        "distance_km", "numeric", "km",
        "Great-circle (haversine, R=6371.0088 km) distance store -> customer.", True,
        valid_range=(0.0, 30.0),
        source="Restaurant/Delivery_location lat/lon; abs() of negative coords; NaN when the restaurant is at 0,0",
    ),
    Feature(
        "hour_of_day", "numeric", "hour", "Local hour (0-23) at which the order is (or would be) placed.", False,
        valid_range=(0, 23), source="Time_Orderd; pickup time - 10 min when missing",
    ),
    Feature(
        "day_of_week", "numeric", "day", "ISO day of week minus one: 0=Monday ... 6=Sunday.", False,
        valid_range=(0, 6), source="Order_Date (dd-mm-yyyy)",
    ),
    Feature(
        "region_class", "categorical", None, "Density class of the delivery region.", True,
        encoding=REGION_CLASS, source="City",
    ),
    Feature("order_type", "categorical", None, "Kind of order.", False, encoding=ORDER_TYPE, source="Type_of_order"),
    Feature(
        "weather", "categorical", None, "Current weather at the store; NaN when no feed.", True,
        encoding=WEATHER, source="Weatherconditions (randomly masked in training)",
    ),
    Feature(
        "road_traffic", "categorical", None, "Road traffic density; NaN when no feed.", True,
        encoding=ROAD_TRAFFIC, source="Road_traffic_density (randomly masked in training)",
    ),
)

PRECISE_EXTRA: tuple[Feature, ...] = (
    Feature(
        "rider_age", "numeric", "years", "Assigned rider's age.", True,
        valid_range=(18, 65), source="Delivery_person_Age; sentinel rows (15/1.0, 50/6.0) set to NaN",
    ),
    Feature(
        "rider_rating", "numeric", "stars", "Assigned rider's average rating, 1-5.", True,
        valid_range=(1.0, 5.0), source="Delivery_person_Ratings; >5 and sentinel rows set to NaN",
    ),
    Feature(
        "vehicle_type", "categorical", None, "Rider's vehicle.", False, encoding=VEHICLE_TYPE, source="Type_of_vehicle",
    ),
    Feature(
        "vehicle_condition", "numeric", "grade", "Vehicle condition grade 0-3 (as recorded; 0 is slowest in the data).", False,
        valid_range=(0, 3), source="Vehicle_condition",
    ),
    Feature(
        "multiple_deliveries", "numeric", "orders",
        "Other orders the rider carries on this trip (0 = single delivery).", True,
        valid_range=(0, 3), source="multiple_deliveries",
    ),
    Feature("festival", "categorical", None, "Festival / special event day.", True, encoding=FESTIVAL, source="Festival"),
)

PRECISE_FEATURES: tuple[Feature, ...] = ROUGH_FEATURES + PRECISE_EXTRA

# Features that may be absent at serving time and are therefore randomly blanked during training so the
# model has seen NaN for them (the raw data has only ~2% missing, too few to learn a good fallback).
MASKED_IN_TRAINING = ("weather", "road_traffic")


def names(features: tuple[Feature, ...]) -> list[str]:
    return [f.name for f in features]
