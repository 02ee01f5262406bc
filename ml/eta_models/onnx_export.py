"""Turn three LightGBM quantile boosters into ONE ONNX graph: input `features`, outputs `p10`, `p50`, `p90`.

(Since eta-precise v2 an output may also be an in-graph mean of several boosters and/or gated between an
"all known" booster and a fallback for rows with unknowns: see Head. A one-booster head is exported exactly
as before, so eta-rough v1 and eta-precise v1 rebuild byte for byte.)

Graph: features (float32 [N,F]) -> Cast(double) -> 3 x TreeEnsembleRegressor (double thresholds and leaf
weights) -> Concat [N,3] -> TopK(k=3, ascending) -> Split -> p10, p50, p90 (float32 [N,1]).

Why double inside: onnxruntime accumulates tree outputs in the threshold type. With float32 the sum of a
few hundred leaves drifts ~5e-5 min from LightGBM (which uses double); in double it stays ~1e-6, well
inside the 1e-4 parity budget. Why TopK: separately trained quantile models can cross; sorting the three
values in-graph guarantees p10 <= p50 <= p90 for every caller with no post-processing rule to forget.
"""

from __future__ import annotations

from dataclasses import dataclass

import lightgbm as lgb
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from onnxmltools import convert_lightgbm
from onnxmltools.convert.common.data_types import FloatTensorType

INPUT_NAME = "features"
OUTPUT_NAMES = ("p10", "p50", "p90")
OPSET = 15  # default domain; supported by every onnxruntime >= 1.10
ML_OPSET = 3  # ai.onnx.ml: TreeEnsembleRegressor with *_as_tensor (double) attributes
IR_VERSION = 8  # loadable by onnxruntime 1.2x (and onnxruntime-node)
_DOUBLE_ATTRS = ("nodes_values", "target_weights", "base_values")


def _tree_node(booster: lgb.Booster, n_features: int, prefix: str, input_name: str, output_name: str):
    converted = convert_lightgbm(
        booster, initial_types=[(INPUT_NAME, FloatTensorType([None, n_features]))], target_opset=OPSET, zipmap=False
    )
    trees = [n for n in converted.graph.node if n.op_type == "TreeEnsembleRegressor"]
    others = [n.op_type for n in converted.graph.node if n.op_type not in ("TreeEnsembleRegressor", "Identity")]
    if len(trees) != 1 or others:
        raise RuntimeError(f"unexpected converter output for {prefix}: {[n.op_type for n in converted.graph.node]}")
    src = trees[0]
    attrs = []
    for a in src.attribute:
        if a.name in _DOUBLE_ATTRS:
            values = np.asarray(a.floats, dtype=np.float64)
            attrs.append(helper.make_attribute(f"{a.name}_as_tensor", numpy_helper.from_array(values)))
        else:
            attrs.append(a)
    node = helper.make_node("TreeEnsembleRegressor", [input_name], [output_name], name=f"{prefix}_trees",
                            domain="ai.onnx.ml")
    node.attribute.extend(attrs)
    return node


@dataclass(frozen=True)
class Head:
    """How one output's raw value is computed from boosters (before the in-graph sort).

    - one member, no fallback: that booster (the v1 layout, byte-identical graph);
    - several members: their mean (an ensemble averaged in-graph: Sum then Mul by 1/n; each tree node sums
      its leaves in double but outputs float32, so the mean is float32: ~1e-6 min from LightGBM);
    - with a fallback: rows where any of `gate_cols` is NaN get the mean of `fallback` instead of the
      members' ("all known" specialist vs the booster trained for unknowns), chosen in-graph by
      IsNaN -> ReduceMax -> Where. The input contract does not change: the gate only reads NaN-ness.
    """
    members: tuple[lgb.Booster, ...]
    fallback: tuple[lgb.Booster, ...] = ()
    gate_cols: tuple[int, ...] = ()

    def predict(self, x: np.ndarray) -> np.ndarray:
        """LightGBM reference of what the graph computes (double)."""
        p = np.mean([b.predict(x) for b in self.members], axis=0)
        if self.fallback:
            unknown = np.isnan(x[:, list(self.gate_cols)]).any(axis=1)
            if unknown.any():
                p = p.copy()
                p[unknown] = np.mean([b.predict(x[unknown]) for b in self.fallback], axis=0)
        return p

    @property
    def boosters(self) -> tuple[lgb.Booster, ...]:
        return self.members + self.fallback


def as_head(h: "Head | lgb.Booster") -> Head:
    return h if isinstance(h, Head) else Head((h,))


def _mean_nodes(boosters: tuple[lgb.Booster, ...], n_features: int, prefix: str, out_name: str) -> tuple[list, list]:
    if len(boosters) == 1:
        return [_tree_node(boosters[0], n_features, prefix, "features_f64", out_name)], []
    nodes = [_tree_node(b, n_features, f"{prefix}_m{i}", "features_f64", f"{prefix}_m{i}") for i, b in enumerate(boosters)]
    inv = numpy_helper.from_array(np.array([1.0 / len(boosters)], dtype=np.float32), name=f"{prefix}_inv_n")
    nodes += [helper.make_node("Sum", [f"{prefix}_m{i}" for i in range(len(boosters))], [f"{prefix}_sum"],
                               name=f"{prefix}_sum"),
              helper.make_node("Mul", [f"{prefix}_sum", f"{prefix}_inv_n"], [out_name], name=f"{prefix}_mean")]
    return nodes, [inv]


def build_model(heads: dict[str, "Head | lgb.Booster"], n_features: int, doc: str, metadata: dict[str, str]) -> onnx.ModelProto:
    """heads maps output name (p10/p50/p90) to its Head (or a single trained booster)."""
    heads = {o: as_head(h) for o, h in heads.items()}
    nodes = [helper.make_node("Cast", [INPUT_NAME], ["features_f64"], to=TensorProto.DOUBLE, name="to_double")]
    inits: list = []
    raw = []
    gates: dict[tuple[int, ...], str] = {}
    for out in OUTPUT_NAMES:
        h = heads[out]
        if not h.fallback:
            n, i = _mean_nodes(h.members, n_features, out, f"{out}_raw")
            nodes += n
            inits += i
        else:
            if h.gate_cols not in gates:
                g = f"gate{len(gates)}"
                inits.append(numpy_helper.from_array(np.array(h.gate_cols, dtype=np.int64), name=f"{g}_cols"))
                nodes += [
                    helper.make_node("Gather", [INPUT_NAME, f"{g}_cols"], [f"{g}_values"], axis=1, name=f"{g}_gather"),
                    helper.make_node("IsNaN", [f"{g}_values"], [f"{g}_isnan"], name=f"{g}_isnan"),
                    helper.make_node("Cast", [f"{g}_isnan"], [f"{g}_isnan_f"], to=TensorProto.FLOAT, name=f"{g}_cast"),
                    helper.make_node("ReduceMax", [f"{g}_isnan_f"], [f"{g}_any_f"], axes=[1], keepdims=1,
                                     name=f"{g}_any"),
                    helper.make_node("Cast", [f"{g}_any_f"], [f"{g}_any_unknown"], to=TensorProto.BOOL,
                                     name=f"{g}_to_bool"),
                ]
                gates[h.gate_cols] = f"{g}_any_unknown"
            n, i = _mean_nodes(h.members, n_features, f"{out}_known", f"{out}_known")
            nodes += n
            inits += i
            n, i = _mean_nodes(h.fallback, n_features, f"{out}_fallback", f"{out}_fallback")
            nodes += n
            inits += i
            nodes.append(helper.make_node("Where", [gates[h.gate_cols], f"{out}_fallback", f"{out}_known"],
                                          [f"{out}_raw"], name=f"{out}_gate"))
        raw.append(f"{out}_raw")
    k = numpy_helper.from_array(np.array([3], dtype=np.int64), name="k3")
    split_sizes = numpy_helper.from_array(np.array([1, 1, 1], dtype=np.int64), name="split_sizes")
    nodes += [
        helper.make_node("Concat", raw, ["stacked"], axis=1, name="stack"),
        helper.make_node("TopK", ["stacked", "k3"], ["sorted", "sorted_idx"], axis=1, largest=0, sorted=1,
                         name="sort_quantiles"),
        helper.make_node("Split", ["sorted", "split_sizes"], list(OUTPUT_NAMES), axis=1, name="unstack"),
    ]
    graph = helper.make_graph(
        nodes, "eta_quantiles",
        inputs=[helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["N", n_features])],
        outputs=[helper.make_tensor_value_info(o, TensorProto.FLOAT, ["N", 1]) for o in OUTPUT_NAMES],
        initializer=[k, split_sizes, *inits],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid("ai.onnx.ml", ML_OPSET)],
        producer_name="eta-suite-ml", producer_version="1", doc_string=doc,
    )
    model.ir_version = IR_VERSION
    for key, value in metadata.items():
        model.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(model, full_check=True)
    return model
