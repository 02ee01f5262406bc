"""The two reference models: which features, which LightGBM settings. Change here, bump the version."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from . import features as F

SEED = 20240601
VALIDATION_SHARE = 0.2
# Share of training rows appended again with some optional features blanked (see train.augment_missing);
# per model in ModelSpec.mask_share. eta-precise's share and median objective were chosen by K-fold CV on
# the training portion only (`make -C ml cv`, reports/cv.md); the validation split was not used to choose.

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


QUANTILES = {"p10": 0.1, "p50": 0.5, "p90": 0.9}


@dataclass(frozen=True)
class ModelSpec:
    name: str
    version: str
    features: tuple[F.Feature, ...]
    categorical: tuple[str, ...]  # trained as LightGBM categorical splits (nominal codes)
    num_boost_round: int
    params: dict
    summary: str
    # Share of training rows appended again with units of F.MASK_UNITS blanked.
    mask_share: float = 0.25
    # Per output (p10/p50/p90): params and rounds that differ from `params` / `num_boost_round`.
    output_overrides: dict = field(default_factory=dict)

    def output_params(self, out: str) -> tuple[dict, int]:
        """LightGBM params and rounds of one output's booster."""
        o = dict(self.output_overrides.get(out, {}))
        rounds = int(o.pop("num_boost_round", self.num_boost_round))
        params = {**self.params, "alpha": QUANTILES[out], **o}
        return params, rounds

    @property
    def feature_names(self) -> list[str]:
        return F.names(self.features)


ROUGH_V1 = ModelSpec(
    name="eta-rough",
    version="1",
    features=F.ROUGH_FEATURES,
    categorical=("region_class", "order_type", "weather"),
    num_boost_round=250,
    params=BASE_PARAMS,
    summary="ETA before an order exists (browse / checkout): geometry, time, region, order type, optional weather and traffic.",
)
PRECISE_V1 = ModelSpec(
    name="eta-precise",
    version="1",
    features=F.PRECISE_FEATURES,
    categorical=("region_class", "order_type", "weather", "vehicle_type"),
    num_boost_round=250,
    params=BASE_PARAMS,
    summary="ETA for one store and address: the rough features plus rider and trip facts, each of which may be "
            "unknown (NaN) before checkout or dispatch.",
    # reports/cv.md: every training row gets one masked copy (rider / trip facts / feeds blanked), and the
    # median is a Huber booster (delta 6 min): best CV MAE averaged over known and unknown conditions.
    mask_share=1.0,
    output_overrides={"p50": {"objective": "huber", "alpha": 6.0}},
)

# v2 of both models: v1's features, codes, masked copies and objectives (a drop-in for serving) with cheaper
# trees. reports/cv_cost.md chose each output's leaves, learning rate and rounds by 5-fold CV on the
# training portion: the fewest tree nodes walked per row whose CV loss stays within a tolerance of v1's
# settings (rule in eta_models/cv_cost.py). v1 stays for rollback and as that search's baseline.
ROUGH_V2 = replace(
    ROUGH_V1,
    version="2",
    num_boost_round=50,
    params={**BASE_PARAMS, "num_leaves": 7, "learning_rate": 0.1},
    summary=ROUGH_V1.summary + " v2: v1's contract with about an eighth of the tree walking (reports/cv_cost.md).",
    output_overrides={"p50": {"num_boost_round": 75}},
)
PRECISE_V2 = replace(
    PRECISE_V1,
    version="2",
    num_boost_round=75,
    params={**BASE_PARAMS, "learning_rate": 0.1},
    summary=PRECISE_V1.summary + " v2: v1's contract with about a third of the tree walking (reports/cv_cost.md).",
    output_overrides={"p10": {"num_leaves": 31}, **PRECISE_V1.output_overrides},
)

# Every version still shipped in models/, so `make -C ml all` reproduces each one byte for byte.
SPECS: tuple[ModelSpec, ...] = (ROUGH_V1, PRECISE_V1, ROUGH_V2, PRECISE_V2)
