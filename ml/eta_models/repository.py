"""The model repository the ML proxy reads (a directory locally, a mounted bucket path in production):

    <root>/<model>/<version>/  model.onnx, metadata.json, golden.json, MODEL_CARD.md
    <root>/<model>/release.json  which version serves, which is the shadowed candidate, and the history

The shared contract of issue 13 (ml/README.md, "The retrain job"): versions are positive integers; a version
folder is published by filling `<model>/.tmp-N` and renaming it to `<model>/N` (the proxy ignores any name
that is not an integer, and a folder without model.onnx); release.json is written to a temp file in the same
folder and renamed over the old one. This module never deletes or rewrites a published version.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

RELEASE_FILE = "release.json"
_VERSION = re.compile(r"^[1-9]\d{0,8}$")  # the proxy's own rule (services/ml-proxy fs-repository.ts)


class RepositoryError(RuntimeError):
    pass


def versions(model_dir: Path) -> list[str]:
    """Published versions (integer folders holding a model.onnx), oldest first."""
    if not model_dir.is_dir():
        return []
    found = [p.name for p in model_dir.iterdir()
             if p.is_dir() and _VERSION.match(p.name) and (p / "model.onnx").is_file()]
    return sorted(found, key=int)


def read_release(model_dir: Path) -> dict | None:
    path = model_dir / RELEASE_FILE
    if not path.exists():
        return None
    release = json.loads(path.read_text())
    if not isinstance(release, dict) or not isinstance(release.get("history", []), list):
        raise RepositoryError(f"{path}: not a release file (an object with a history list)")
    return release


@dataclass(frozen=True)
class Live:
    serving: str  # the version unpinned calls get
    candidate: str | None  # a version shadowed now, if any (not the serving one)
    how: str  # how `serving` was found, for the report


def live_versions(model_dir: Path) -> Live:
    """What the proxy serves: release.json's `serving`, else the newest version that is not the candidate."""
    published = versions(model_dir)
    release = read_release(model_dir)
    candidate = (release or {}).get("candidate")
    if release is not None and release.get("serving") is not None:
        serving = str(release["serving"])
        if serving not in published:
            raise RepositoryError(f"{model_dir / RELEASE_FILE}: serving version {serving} is not published")
        how = "release.json serving"
    else:
        rest = [v for v in published if v != candidate]
        if not rest:
            raise RepositoryError(f"{model_dir}: no published version to compare with")
        serving, how = rest[-1], "newest version (no release.json serving)"
    if candidate is not None:
        candidate = str(candidate)
        if candidate == serving or candidate not in published:
            candidate = None
    return Live(serving=serving, candidate=candidate, how=how)


def next_version(model_dir: Path) -> str:
    """One more than any integer folder there, published or not (a half-copied folder keeps its number)."""
    taken = [int(p.name) for p in model_dir.iterdir() if p.is_dir() and _VERSION.match(p.name)]
    return str(max(taken, default=0) + 1)


def staging_dir(model_dir: Path, version: str) -> Path:
    """An empty `<model>/.tmp-N` to fill; a leftover from a run that died is removed first."""
    tmp = model_dir / f".tmp-{version}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    return tmp


def publish_staged(tmp: Path, model_dir: Path, version: str) -> Path:
    """Rename `.tmp-N` to `N`. Fails (and leaves N alone) if N appeared meanwhile."""
    final = model_dir / version
    if final.exists():
        raise RepositoryError(f"{final} already exists: another publisher took version {version}")
    _fsync_dir_files(tmp)
    os.rename(tmp, final)
    _fsync(model_dir)
    return final


def write_release(model_dir: Path, release: dict) -> None:
    """release.json through a temp file in the same folder and a rename: a reader sees the old or the new."""
    path = model_dir / RELEASE_FILE
    tmp = model_dir / f".{RELEASE_FILE}.tmp-{os.getpid()}"
    with open(tmp, "w") as fh:
        fh.write(json.dumps(release, indent=2, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync(model_dir)


def with_published_candidate(release: dict | None, serving_today: str, entry: dict) -> dict:
    """release.json after a publish: the new version is the candidate, `serving` stays (or, with no file yet,
    is set to what the proxy serves today, so publishing never changes what unpinned calls get; a file without
    `serving` keeps meaning "the newest version that is not the candidate", which is still today's)."""
    out = dict(release) if release is not None else {"serving": serving_today}
    out["candidate"] = entry["version"]
    out["history"] = [*(release or {}).get("history", []), entry]
    return out


def _fsync(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some mounted file systems (bucket mounts) do not fsync folders
    finally:
        os.close(fd)


def _fsync_dir_files(path: Path) -> None:
    for p in path.iterdir():
        if p.is_file():
            with open(p, "rb") as fh:
                os.fsync(fh.fileno())
    _fsync(path)
