"""A real ML proxy process for the tritonclient checks, and what they compare its answers with.

`ML_PROXY_URL` points the suite at a running proxy (serving the committed models with every version loaded:
MODEL_LOAD_VERSIONS=all); without it the suite starts `node services/ml-proxy/src/main.ts` from the
repository root on a free port, waits until it says it is ready, and stops it at the end.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import tritonclient.http as httpclient

ROOT = Path(__file__).resolve().parents[4]
MODELS_DIR = ROOT / "ml" / "models"
MODELS = ("eta-rough", "eta-precise")

# Loading four versions (two sessions each) and checking their golden vectors takes seconds on an idle
# machine and much longer on two busy cores. The wait is for the condition; this bound only ends a start
# that is broken rather than slow.
READY_TIMEOUT_S = 600


def versions(model: str) -> list[str]:
    return sorted((p.name for p in (MODELS_DIR / model).iterdir() if p.name.isdigit()), key=int)


@dataclass(frozen=True)
class Golden:
    """A version's golden.json: synthetic rows (NaN where unknown) and the exporter's outputs."""

    features: list[dict]
    rows: np.ndarray
    expected: dict[str, np.ndarray]
    tolerance: float


def golden(model: str, version: str) -> Golden:
    d = MODELS_DIR / model / version
    meta = json.loads((d / "metadata.json").read_text())
    g = json.loads((d / "golden.json").read_text())
    rows = np.array(
        [[np.nan if v is None else v for v in c["features"]] for c in g["cases"]], dtype=np.float32
    )
    expected = {
        name: np.array([c["expected"][name] for c in g["cases"]], dtype=np.float32).reshape(-1, 1)
        for name in ("p10", "p50", "p90")
    }
    return Golden(meta["features"], rows, expected, float(g["tolerance"]))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(path: str, lines: int = 40) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait_ready(url: str, proc: subprocess.Popen | None, log_path: str | None) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"ml-proxy exited with code {proc.returncode}:\n{_tail(log_path or '')}")
        try:
            with urllib.request.urlopen(f"{url}/v2/health/ready", timeout=10) as res:
                if res.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass  # not listening yet, or 503 while the models load
        if time.monotonic() > deadline:
            raise RuntimeError(f"ml-proxy not ready after {READY_TIMEOUT_S} s:\n{_tail(log_path or '')}")
        time.sleep(0.2)


@pytest.fixture(scope="session")
def proxy_url():
    given = os.environ.get("ML_PROXY_URL")
    if given:
        url = given.rstrip("/")
        _wait_ready(url, None, None)
        yield url
        return
    port = _free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "LOG_LEVEL": "warn",
        "MODEL_REPOSITORY": str(MODELS_DIR),
        "MODELS": ",".join(MODELS),
        "MODEL_SETTINGS": "{}",
        # Pinned calls reach every committed version.
        "MODEL_LOAD_VERSIONS": "all",
        "MODEL_POLL_INTERVAL_SECONDS": "0",
        # The checks are about the protocol: on busy cores a call may take far longer than the production
        # budget, and a heuristic answer would make the golden comparison fail for the wrong reason. No
        # load shedding for the same reason.
        "MODEL_DEADLINE_MS": "10000",
        "MAX_QUEUE_MS": "0",
        "MAX_EVENT_LOOP_DELAY_MS": "0",
        "SHUTDOWN_DELAY_MS": "0",
        "WARMUP_RUNS": "2",
        "DD_TRACE_ENABLED": "false",
    }
    log = tempfile.NamedTemporaryFile(prefix="ml-proxy-v2-client-", suffix=".log", delete=False)
    proc = subprocess.Popen(
        ["node", "services/ml-proxy/src/main.ts"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_ready(url, proc, log.name)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        os.unlink(log.name)


@pytest.fixture(scope="session")
def client(proxy_url):
    c = httpclient.InferenceServerClient(
        url=proxy_url.removeprefix("http://"), connection_timeout=60.0, network_timeout=60.0
    )
    yield c
    c.close()
