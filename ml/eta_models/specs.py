"""The two reference models: which features, which LightGBM settings. Change here, bump the version."""

from __future__ import annotations

from dataclasses import dataclass

from . import features as F

SEED = 20240601
VALIDATION_SHARE = 0.2
# Share of training rows appended again with weather and/or traffic blanked (see train.augment_missing).
MASK_AUGMENT_SHARE = 0.25

BASE_PARAMS: dict = {
    "objective": "quantile",
    "learning_rate": 0.05,
    "num_leaves": 63,
    "min_data_in_leaf": 20,
    "lambda_l2": 1.0,
    "feature_fraction": 1.0,
    "bagging_fraction": 1.0,
    "bagging_freq": 0,
    "cat_smooth": 1.0,
    "cat_l2": 1.0,
    "min_data_per_group": 5,
    "max_bin": 255,
    # Reproducibility: same data + same params => same trees, bit for bit.
    "seed": SEED,
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 2,
    "verbosity": -1,
}


@dataclass(frozen=True)
class ModelSpec:
    name: str
    version: str
    features: tuple[F.Feature, ...]
    categorical: tuple[str, ...]  # trained as LightGBM categorical splits (nominal codes)
    num_boost_round: int
    params: dict
    summary: str

    @property
    def feature_names(self) -> list[str]:
        return F.names(self.features)


QUANTILES = {"p10": 0.1, "p50": 0.5, "p90": 0.9}

SPECS: tuple[ModelSpec, ...] = (
    ModelSpec(
        name="eta-rough",
        version="1",
        features=F.ROUGH_FEATURES,
        categorical=("region_class", "order_type", "weather"),
        num_boost_round=250,
        params=BASE_PARAMS,
        summary="ETA before an order exists (browse / checkout): geometry, time, region, order type, optional weather and traffic.",
    ),
    ModelSpec(
        name="eta-precise",
        version="1",
        features=F.PRECISE_FEATURES,
        categorical=("region_class", "order_type", "weather", "vehicle_type"),
        num_boost_round=250,
        params=BASE_PARAMS,
        summary="ETA after the order is placed and a rider assigned: the rough features plus rider and trip facts.",
    ),
)
