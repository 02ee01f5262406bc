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
    nan_means: str = ""  # what NaN stands for, and what the model learned for it (nullable features)

    def to_json(self) -> dict:
        out: dict = {
            "name": self.name,
            "type": self.kind,
            "dtype": "float32",
            "unit": self.unit,
            "description": self.description,
            "nullable": self.nullable,
            "missing": f"NaN: {self.nan_means}" if self.nullable else "not allowed: never NaN in training, so the output for NaN is undefined; reject the request",
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
        nan_means="distance unknown (or outside 0-30 km); learned from the ~8% of orders whose restaurant has no "
                  "coordinates, which cluster in a few cities, so the answer is rough",
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
        nan_means="region class unknown; learned from the ~3% of orders without a city class",
    ),
    Feature("order_type", "categorical", None, "Kind of order.", False, encoding=ORDER_TYPE, source="Type_of_order"),
    Feature(
        "weather", "categorical", None, "Current weather at the store; NaN when no feed.", True,
        encoding=WEATHER, source="Weatherconditions (randomly masked in training)",
        nan_means="no weather feed; learned from masked copies of training rows, so it averages over the data's weather mix",
    ),
    Feature(
        "road_traffic", "categorical", None, "Road traffic density; NaN when no feed.", True,
        encoding=ROAD_TRAFFIC, source="Road_traffic_density (randomly masked in training)",
        nan_means="no traffic feed; learned from masked copies of training rows, so it averages over the data's traffic mix",
    ),
)

PRECISE_EXTRA: tuple[Feature, ...] = (
    Feature(
        "rider_age", "numeric", "years", "Assigned rider's age; NaN when unknown or no rider is assigned yet.", True,
        valid_range=(18, 65),
        source="Delivery_person_Age; sentinel rows (15/1.0, 50/6.0) set to NaN; randomly masked in training",
        nan_means="no rider assigned yet (or not on record): averages over the data's riders; masked in training "
                  "together with the other rider fields, so blank the rider as a whole when there is none",
    ),
    Feature(
        "rider_rating", "numeric", "stars",
        "Assigned rider's average rating, 1-5; NaN when unknown or no rider is assigned yet.", True,
        valid_range=(1.0, 5.0), source="Delivery_person_Ratings; >5 and sentinel rows set to NaN; randomly masked in training",
        nan_means="no rider assigned yet (or not on record): averages over the data's riders; masked in training "
                  "together with the other rider fields, so blank the rider as a whole when there is none",
    ),
    Feature(
        "vehicle_type", "categorical", None, "Rider's vehicle; NaN when no rider is assigned yet.", True,
        encoding=VEHICLE_TYPE, source="Type_of_vehicle (randomly masked in training)",
        nan_means="no rider assigned yet (or not on record): averages over the data's riders; masked in training "
                  "together with the other rider fields, so blank the rider as a whole when there is none",
    ),
    Feature(
        "vehicle_condition", "numeric", "grade",
        "Vehicle condition grade 0-3 (as recorded; 0 is slowest in the data); NaN when no rider is assigned yet.", True,
        valid_range=(0, 3), source="Vehicle_condition (randomly masked in training)",
        nan_means="no rider assigned yet (or not on record): averages over the data's riders; masked in training "
                  "together with the other rider fields, so blank the rider as a whole when there is none",
    ),
    Feature(
        "multiple_deliveries", "numeric", "orders",
        "Other orders the rider carries on this trip (0 = single delivery); NaN when not known yet.", True,
        valid_range=(0, 3), source="multiple_deliveries (randomly masked in training)",
        nan_means="not known yet (before dispatch): averages over the data's trip loads; masked in training "
                  "together with festival",
    ),
    Feature(
        "festival", "categorical", None, "Festival / special event day; NaN when not known.", True,
        encoding=FESTIVAL, source="Festival (randomly masked in training)",
        nan_means="not known: averages over festival and ordinary days; masked in training together with "
                  "multiple_deliveries",
    ),
)

PRECISE_FEATURES: tuple[Feature, ...] = ROUGH_FEATURES + PRECISE_EXTRA

# Features that may be absent at serving time and are therefore randomly blanked during training so the
# model has seen NaN for them (the raw data has 0-4% missing, with odd targets, or none at all for the
# vehicle: too few to learn a good fallback). Each unit is blanked as a whole, because that is how it goes
# missing at serving time: a weather feed and a traffic feed fail separately; before dispatch there is no
# rider at all (age, rating and vehicle together); the trip facts may be unknown with or without a rider.
MASK_UNITS: tuple[tuple[str, ...], ...] = (
    ("weather",),
    ("road_traffic",),
    ("rider_age", "rider_rating", "vehicle_type", "vehicle_condition"),
    ("multiple_deliveries", "festival"),
)
MASKED_IN_TRAINING = tuple(n for unit in MASK_UNITS for n in unit)
FEEDS = ("weather", "road_traffic")
RIDER_TRIP = ("rider_age", "rider_rating", "vehicle_type", "vehicle_condition", "multiple_deliveries", "festival")


def mask_units(names: list[str]) -> list[tuple[str, ...]]:
    """The units a model with these feature columns can have blanked (a unit counts only if all of it is there)."""
    return [u for u in MASK_UNITS if all(n in names for n in u)]


def names(features: tuple[Feature, ...]) -> list[str]:
    return [f.name for f in features]
