"""Turn three LightGBM quantile boosters into ONE ONNX graph: input `features`, outputs `p10`, `p50`, `p90`.

Graph: features (float32 [N,F]) -> Cast(double) -> 3 x TreeEnsembleRegressor (double thresholds and leaf
weights) -> Concat [N,3] -> TopK(k=3, ascending) -> Split -> p10, p50, p90 (float32 [N,1]).

Why double inside: onnxruntime accumulates tree outputs in the threshold type. With float32 the sum of a
few hundred leaves drifts ~5e-5 min from LightGBM (which uses double); in double it stays ~1e-6, well
inside the 1e-4 parity budget. Why TopK: separately trained quantile models can cross; sorting the three
values in-graph guarantees p10 <= p50 <= p90 for every caller with no post-processing rule to forget.
"""

from __future__ import annotations

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


def build_model(boosters: dict[str, lgb.Booster], n_features: int, doc: str, metadata: dict[str, str]) -> onnx.ModelProto:
    """boosters maps output name (p10/p50/p90) to its trained booster."""
    nodes = [helper.make_node("Cast", [INPUT_NAME], ["features_f64"], to=TensorProto.DOUBLE, name="to_double")]
    raw = []
    for out in OUTPUT_NAMES:
        nodes.append(_tree_node(boosters[out], n_features, out, "features_f64", f"{out}_raw"))
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
        initializer=[k, split_sizes],
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
