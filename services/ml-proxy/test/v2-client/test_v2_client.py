"""Python's tritonclient.http, Triton's reference Open Inference Protocol client, as a real client of the ML
proxy (issue 12): health, metadata, inference on both models with and without version pins, requested
outputs, JSON and binary tensor data, and every error a caller can cause. Answers are checked against the
exporter's golden vectors, so a byte-order or column mix-up fails here."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import numpy as np
import pytest
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

from conftest import MODELS, golden, versions

OUTPUTS = ("p10", "p50", "p90")


def newest(model: str) -> str:
    return versions(model)[-1]


def infer(client, model, rows, *, version="", binary_in=True, outputs=None, binary_out=True, name="features",
          datatype="FP32"):
    inp = httpclient.InferInput(name, list(rows.shape), datatype)
    inp.set_data_from_numpy(rows, binary_data=binary_in)
    requested = None if outputs is None else [httpclient.InferRequestedOutput(o, binary_data=binary_out) for o in outputs]
    return client.infer(model, [inp], model_version=version, outputs=requested)


def assert_golden(result, g, names, rows=slice(None)):
    for name in names:
        got = result.as_numpy(name)
        want = g.expected[name][rows]
        assert got is not None, f"no output {name}"
        assert got.dtype == np.float32 and got.shape == want.shape, (name, got.dtype, got.shape)
        np.testing.assert_allclose(got, want, atol=g.tolerance, rtol=0, err_msg=name)


def raw_post(proxy_url: str, path: str, body: bytes, headers: dict[str, str] | None = None):
    """A request exactly as given (tritonclient always builds valid framing), for the error codes."""
    u = urlsplit(proxy_url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    try:
        conn.request("POST", path, body=body, headers=headers or {})
        res = conn.getresponse()
        return res.status, dict(res.getheaders()), res.read()
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------------------
# Health and metadata


def test_live_and_ready(client):
    assert client.is_server_live()
    assert client.is_server_ready()
    for model in MODELS:
        assert client.is_model_ready(model)
        for v in versions(model):
            assert client.is_model_ready(model, v)
        assert not client.is_model_ready(model, "99")
    assert not client.is_model_ready("nope")


def test_server_metadata(client):
    meta = client.get_server_metadata()
    assert meta["name"] == "ml-proxy"
    assert isinstance(meta["version"], str) and meta["version"]
    assert "binary_tensor_data" in meta["extensions"]


@pytest.mark.parametrize("model", MODELS)
def test_model_metadata(client, model):
    for version in ["", *versions(model)]:
        meta = client.get_model_metadata(model, version)
        g = golden(model, version or newest(model))
        assert meta["name"] == model
        assert meta["versions"] == ([version] if version else versions(model))
        assert meta["platform"] == "onnxruntime_onnx"
        assert meta["inputs"] == [{"name": "features", "datatype": "FP32", "shape": [-1, len(g.features)]}]
        assert [o["name"] for o in meta["outputs"]] == list(OUTPUTS)
        assert all(o["datatype"] == "FP32" for o in meta["outputs"])
        served = meta["parameters"]["features"]
        assert [f["name"] for f in served] == [f["name"] for f in g.features]
        for f, declared in zip(served, g.features):
            assert f["nullable"] == declared["nullable"], f["name"]
            assert f.get("range") == declared.get("valid_range"), f["name"]


# ---------------------------------------------------------------------------------------------------------
# Inference


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("pin", [False, True], ids=["unpinned", "pinned"])
@pytest.mark.parametrize("binary_in", [True, False], ids=["binary-in", "json-in"])
@pytest.mark.parametrize("binary_out", [True, False], ids=["binary-out", "json-out"])
def test_infer_golden_rows(client, model, pin, binary_in, binary_out):
    for version in versions(model) if pin else [""]:
        g = golden(model, version or newest(model))
        # Every golden row, NaN (unknown) included: in JSON tritonclient writes NaN literally.
        result = infer(client, model, g.rows, version=version, binary_in=binary_in, outputs=list(OUTPUTS),
                       binary_out=binary_out)
        answer = result.get_response()
        assert answer["model_name"] == model
        assert answer["model_version"] == (version or newest(model))
        assert "parameters" not in answer, answer.get("parameters")  # not a heuristic fallback
        assert_golden(result, g, OUTPUTS)


@pytest.mark.parametrize("model", MODELS)
def test_infer_without_outputs_list_answers_every_output(client, model):
    # tritonclient asks for binary outputs (parameters.binary_data_output) when it lists none.
    g = golden(model, newest(model))
    result = infer(client, model, g.rows[:3])
    assert [o["name"] for o in result.get_response()["outputs"]] == list(OUTPUTS)
    assert_golden(result, g, OUTPUTS, rows=slice(0, 3))


@pytest.mark.parametrize("binary_out", [True, False], ids=["binary-out", "json-out"])
def test_requested_outputs_only_in_the_order_asked(client, binary_out):
    model = "eta-precise"
    g = golden(model, "1")
    result = infer(client, model, g.rows[:2], version="1", outputs=["p90", "p10"], binary_out=binary_out)
    assert [o["name"] for o in result.get_response()["outputs"]] == ["p90", "p10"]
    assert result.as_numpy("p50") is None
    assert_golden(result, g, ["p90", "p10"], rows=slice(0, 2))


def test_a_batch_of_1000_rows(client):
    g = golden("eta-rough", newest("eta-rough"))
    reps = -(-1000 // len(g.rows))
    rows = np.tile(g.rows, (reps, 1))[:1000]
    result = infer(client, "eta-rough", rows, outputs=["p50"])
    got = result.as_numpy("p50")
    assert got.shape == (1000, 1)
    np.testing.assert_allclose(got, np.tile(g.expected["p50"], (reps, 1))[:1000], atol=g.tolerance, rtol=0)


# ---------------------------------------------------------------------------------------------------------
# Errors: every one a 4xx that tritonclient reports with the server's message


def _row(model: str, **values: float) -> np.ndarray:
    g = golden(model, newest(model))
    row = g.rows[:1].copy()
    for name, value in values.items():
        row[0, [f["name"] for f in g.features].index(name)] = value
    return row


def expect_error(status: str, message: str, call):
    with pytest.raises(InferenceServerException) as caught:
        call()
    assert caught.value.status() == status, caught.value
    assert message in caught.value.message(), caught.value.message()


@pytest.mark.parametrize("binary_in", [True, False], ids=["binary-in", "json-in"])
@pytest.mark.parametrize(
    "model, feature, value, message",
    [
        ("eta-rough", "distance_km", -5, "(distance_km) is -5, outside its range 0 to 30 km"),
        ("eta-rough", "distance_km", 30.5, "(distance_km) is 30.5, outside its range 0 to 30 km"),
        ("eta-precise", "hour_of_day", 99, "(hour_of_day) is 99, outside its range 0 to 23 hour"),
        ("eta-precise", "day_of_week", 7, "(day_of_week) is 7, outside its range 0 to 6 day"),
        ("eta-precise", "rider_age", 12, "(rider_age) is 12, outside its range 18 to 65 years"),
        ("eta-precise", "distance_km", np.inf, "(distance_km) is out of FP32 range"),
        ("eta-precise", "hour_of_day", np.nan, "(hour_of_day) is missing"),
        ("eta-rough", "order_type", 7, "(order_type) is 7; the codes are 0, 1, 2, 3"),
    ],
)
def test_bad_values_are_400(client, binary_in, model, feature, value, message):
    for version in ["", *versions(model)]:
        expect_error("400", message, lambda: infer(client, model, _row(model, **{feature: value}), version=version,
                                                   binary_in=binary_in))


@pytest.mark.parametrize("binary_in", [True, False], ids=["binary-in", "json-in"])
def test_bad_tensors_are_400(client, binary_in):
    model = "eta-rough"
    row = _row(model)
    width = row.shape[1]
    expect_error("400", "unexpected input 'x'", lambda: infer(client, model, row, name="x", binary_in=binary_in))
    expect_error("400", "datatype FP64; the model expects FP32",
                 lambda: infer(client, model, row.astype(np.float64), datatype="FP64", binary_in=binary_in))
    expect_error("400", f"expects [-1,{width}]",
                 lambda: infer(client, model, np.zeros((1, width + 1), np.float32), binary_in=binary_in))
    expect_error("400", "at most 1000 are allowed",
                 lambda: infer(client, model, np.tile(row, (1001, 1)), binary_in=binary_in))
    expect_error("400", "unknown output 'p99'", lambda: infer(client, model, row, outputs=["p99"], binary_in=binary_in))


def test_unknown_model_or_version_is_404(client):
    row = _row("eta-rough")
    expect_error("404", "model 'nope' not found", lambda: client.get_model_metadata("nope"))
    expect_error("404", "no version '99'", lambda: client.get_model_metadata("eta-rough", "99"))
    expect_error("404", "model 'nope' not found", lambda: infer(client, "nope", row))
    expect_error("404", "no version '99'", lambda: infer(client, "eta-rough", row, version="99"))


# Stable codes beside the message (tritonclient shows only the message), with bodies sent byte for byte.


def _json(rows) -> tuple[bytes, dict[str, str]]:
    # json.dumps writes NaN literally, as tritonclient does; no content type, as tritonclient sends none.
    body = {"inputs": [{"name": "features", "shape": list(rows.shape), "datatype": "FP32",
                        "data": rows.flatten().tolist()}]}
    return json.dumps(body).encode(), {}


def _binary(rows, declared_size: int) -> tuple[bytes, dict[str, str]]:
    header = json.dumps({"inputs": [{"name": "features", "shape": list(rows.shape), "datatype": "FP32",
                                     "parameters": {"binary_data_size": declared_size}}]}).encode()
    return header + rows.astype("<f4").tobytes(), {"Inference-Header-Content-Length": str(len(header))}


@pytest.mark.parametrize(
    "path, make, status, code",
    [
        ("/v2/models/nope/infer", lambda: _json(_row("eta-rough")), 404, "MODEL_NOT_FOUND"),
        ("/v2/models/eta-rough/versions/99/infer", lambda: _json(_row("eta-rough")), 404, "VERSION_NOT_FOUND"),
        ("/v2/models/eta-rough/infer", lambda: _json(_row("eta-rough", distance_km=-5)), 400, "INPUT_OUT_OF_RANGE"),
        ("/v2/models/eta-precise/infer", lambda: _binary(_row("eta-precise", hour_of_day=99), 13 * 4), 400,
         "INPUT_OUT_OF_RANGE"),
        ("/v2/models/eta-precise/infer", lambda: _json(_row("eta-precise", hour_of_day=np.nan)), 400,
         "MISSING_VALUE_NOT_ALLOWED"),
        ("/v2/models/eta-rough/infer", lambda: (b'{"inputs": [', {}), 400, "MALFORMED_JSON"),
        ("/v2/models/eta-rough/infer", lambda: (b"{}", {"Inference-Header-Content-Length": "99"}), 400,
         "BINARY_DATA_INVALID"),
        ("/v2/models/eta-rough/infer", lambda: _binary(_row("eta-rough"), 7 * 4 + 4), 400, "BINARY_DATA_INVALID"),
        ("/v2/models/eta-rough/infer", lambda: _binary(_row("eta-rough"), 7 * 4 - 4), 400, "BINARY_DATA_INVALID"),
        ("/v2/models/eta-rough/infer", lambda: (b"a=1", {"Content-Type": "application/x-www-form-urlencoded"}), 415,
         "UNSUPPORTED_MEDIA_TYPE"),
    ],
    ids=["unknown-model", "unknown-version", "distance-range", "hour-range-binary", "nan-hour", "malformed-json",
         "binary-header-too-long", "binary-shorter-than-declared", "binary-longer-than-declared", "form-body"],
)
def test_error_codes(proxy_url, path, make, status, code):
    body, headers = make()
    got_status, _, got_body = raw_post(proxy_url, path, body, headers)
    answer = json.loads(got_body)
    assert (got_status, answer.get("code")) == (status, code), answer
    assert isinstance(answer.get("error"), str) and answer["error"]


def test_json_without_content_type_is_served(proxy_url):
    """The regression itself, byte for byte: no Content-Type, NaN for a missing (nullable) feature."""
    g = golden("eta-precise", newest("eta-precise"))
    body, headers = _json(g.rows[:4])
    assert b"NaN" in body and not headers
    status, _, answer = raw_post(proxy_url, "/v2/models/eta-precise/infer", body, headers)
    assert status == 200, answer
    outputs = {o["name"]: o["data"] for o in json.loads(answer)["outputs"]}
    np.testing.assert_allclose(np.array(outputs["p50"], dtype=np.float32).reshape(-1, 1), g.expected["p50"][:4],
                               atol=g.tolerance, rtol=0)
