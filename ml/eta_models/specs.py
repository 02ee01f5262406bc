"""The two reference models: which features, which LightGBM settings. Change here, bump the version."""

from __future__ import annotations

from dataclasses import dataclass, field

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
SEEDS_V2 = 5  # reports/cv_search.md: "final: gate G x5" at 150 rounds (the selection rule's pick)
ROUNDS_V2 = 150


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
    # Per output: an "all known" head (v2). Its boosters answer rows where none of F.MASKED_IN_TRAINING is
    # NaN; rows with any of them NaN keep the output's booster above (the fallback), chosen in-graph.
    # Keys: share / mask_weight (its own masked copies and their sample weight), seeds (boosters averaged;
    # member i > 0 gets seed SEED + 100 i and its own masked copies), num_boost_round, and LightGBM params
    # that differ from the output's params.
    known_heads: dict = field(default_factory=dict)

    def known_params(self, out: str) -> tuple[dict, int, float, float, int]:
        """LightGBM params, rounds, mask share, mask weight and member count of one output's all-known head."""
        o = dict(self.known_heads[out])
        base, rounds = self.output_params(out)
        rounds = int(o.pop("num_boost_round", rounds))
        share, weight, seeds = float(o.pop("share", 1.0)), float(o.pop("mask_weight", 1.0)), int(o.pop("seeds", 1))
        return {**base, **o}, rounds, share, weight, seeds

    def output_params(self, out: str) -> tuple[dict, int]:
        """LightGBM params and rounds of one output's booster."""
        o = dict(self.output_overrides.get(out, {}))
        rounds = int(o.pop("num_boost_round", self.num_boost_round))
        params = {**self.params, "alpha": QUANTILES[out], **o}
        return params, rounds

    @property
    def feature_names(self) -> list[str]:
        return F.names(self.features)


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
        version="2",
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
        # v2 (reports/cv_search.md): the median of rows with every masked-in-training feature known comes from
        # an in-graph mean of all-known boosters (127 leaves, their masked copies at weight 0.1, bagging 0.8,
        # feature_fraction 0.9, own seed each); rows with any of those features NaN keep v1's median booster,
        # and p10/p90 are v1's boosters, so every unknown condition answers exactly as v1 trained here would.
        known_heads={"p50": {"share": 1.0, "mask_weight": 0.1, "num_leaves": 127, "bagging_fraction": 0.8,
                             "bagging_freq": 1, "feature_fraction": 0.9, "seeds": SEEDS_V2, "num_boost_round": ROUNDS_V2}},
    ),
)
# eta-precise v1 (committed in models/eta-precise/1, kept for rollback) is the spec above without
# `known_heads` and with version "1"; its boosters are the v2 fallback / p10 / p90 boosters.
