"""The retrain job end to end, against a real Postgres (DATABASE_URL, exported by the test command) and, when
one is reachable, a real BigQuery emulator (BIGQUERY_EMULATOR_HOST): rows from the fixed replay
(eta_models.replay_rows: real orders of the reference TRAINING split, served-row layout, seeded days), the
job run on a temp copy of the model repository (the committed models are never touched).

Each scenario trains a real candidate (about half a minute on two cores)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import urllib.parse
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eta_models import data
from eta_models import repository as R
from eta_models import retrain
from eta_models import training_rows as T
from eta_models.replay_rows import Shift, replay_rows, write_postgres
from eta_models.train import split

MODEL = "eta-precise"
LIVE = "2"
DAYS = 15
ROWS_PER_DAY = 800
LAST_DAY = dt.date(2026, 11, 30)
SHIFT = Shift(from_day=4, factor=1.3, region="urban")
SEED = 11  # the replay's: which real orders on which day


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("DATABASE_URL is not set: the test command exports it (scripts/backing-services.sh)")
        pytest.skip("DATABASE_URL not set: run under the test command or export a Postgres URL")
    return url


@pytest.fixture(scope="module")
def reference():
    path = data.default_train_path()
    if not path.exists():
        pytest.fail(f"reference data missing: {path}")
    frame = data.load_orders(path).frame
    return frame, split(len(frame))[0]


def _rows(reference, shift=None, days=DAYS, rows_per_day=ROWS_PER_DAY):
    frame, train_idx = reference
    return replay_rows(frame, train_idx, days=days, rows_per_day=rows_per_day, last_day=LAST_DAY,
                       live_dir=data.ML_DIR / "models" / MODEL / LIVE, seed=SEED, shift=shift)


@pytest.fixture(scope="module")
def shifted(reference):
    return _rows(reference, SHIFT)


@pytest.fixture(scope="module")
def unshifted(reference):
    return _rows(reference)


class _Schemas:
    """Schemas of this module's own in the shared database, each dropped at the end."""

    def __init__(self, url: str):
        self.url, self.names = url, []

    def fill(self, rows) -> str:
        """A new schema holding rows; returns the job's --source URL for it."""
        schema = f"retrain_{uuid.uuid4().hex[:12]}"
        self.names.append(schema)
        write_postgres(self.url, rows, schema)
        sep = "&" if urllib.parse.urlsplit(self.url).query else "?"
        return f"{self.url}{sep}options={urllib.parse.quote(f'-csearch_path={schema}')}"

    def drop(self) -> None:
        import psycopg

        with psycopg.connect(self.url, connect_timeout=10, autocommit=True) as conn:
            for schema in self.names:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(scope="module")
def schemas():
    s = _Schemas(_database_url())
    yield s
    s.drop()


@pytest.fixture
def postgres(schemas):
    return schemas.fill


@pytest.fixture(scope="module")
def unshifted_run(schemas, unshifted, tmp_path_factory):
    """The job once on the stream without a shift (shared by the decline test and the BigQuery comparison)."""
    tmp = tmp_path_factory.mktemp("unshifted")
    models = _repo(tmp)
    return models, retrain.run(_opts(schemas.fill(unshifted), models, tmp))


def _repo(tmp_path: Path, name: str = "models") -> Path:
    """A temp copy of the committed repository's eta-precise versions."""
    root = tmp_path / name
    shutil.copytree(data.ML_DIR / "models" / MODEL, root / MODEL)
    return root


def _opts(source: str, models: Path, tmp_path: Path, **kw) -> retrain.Options:
    return retrain.Options(source=source, model=MODEL, days=DAYS, until=LAST_DAY, models_dir=models,
                           report_dir=tmp_path / "reports", **kw)


def _unchanged(models: Path) -> None:
    model_dir = models / MODEL
    assert R.versions(model_dir) == ["1", "2"]
    assert not (model_dir / R.RELEASE_FILE).exists()
    assert sorted(p.name for p in model_dir.iterdir()) == ["1", "2"], "no .tmp-N or other leftovers"


def _comparable(rep: dict) -> dict:
    """What must be identical between two runs on the same rows (run time, paths and version aside)."""
    return {k: rep[k] for k in ("window", "rows", "holdout", "validation", "gates")} | {
        "decision": {k: rep["decision"][k] for k in ("action", "reason")}}


def _gate(rep: dict, name: str) -> str:
    return next(g["status"] for g in rep["gates"] if g["gate"] == name)


# ---- the scenarios --------------------------------------------------------------------------------------

def test_a_shift_the_live_model_cannot_know_is_published_the_same_every_time(postgres, shifted, tmp_path, monkeypatch):
    source = postgres(shifted)
    # What release.json says at the moment the new folder appears: the proxy's next scan must not serve it.
    serving_at_rename: list = []
    rename = R.publish_staged
    def publish_watched(tmp, model_dir, version):
        serving_at_rename.append((R.read_release(model_dir) or {}).get("serving"))
        return rename(tmp, model_dir, version)
    monkeypatch.setattr(R, "publish_staged", publish_watched)
    first_repo, second_repo = _repo(tmp_path, "a"), _repo(tmp_path, "b")

    rep = retrain.run(_opts(source, first_repo, tmp_path / "ra"))
    assert rep["decision"]["action"] == "publish", rep["decision"]
    assert rep["decision"]["version"] == "3"
    assert rep["rows"]["read"] == DAYS * ROWS_PER_DAY and rep["rows"]["holdout"] == ROWS_PER_DAY
    h = rep["holdout"]
    assert h["candidate"]["mae"] <= h["live"]["mae"] - retrain.DEFAULT_MARGIN
    assert h["difference_mae"]["high"] < 0
    # The served p50 in the rows is what the live model answers for the same features.
    assert h["max_abs_diff_served_vs_recomputed_p50"] <= 1e-4
    v = rep["validation"]
    assert v["candidate"]["mae"] <= v["live"]["mae"]
    assert all(g["status"] == "pass" for g in rep["gates"]), rep["gates"]

    model_dir = first_repo / MODEL
    assert R.versions(model_dir) == ["1", "2", "3"]
    assert not list(model_dir.glob(".tmp-*"))
    release = json.loads((model_dir / "release.json").read_text())
    assert release["serving"] == "2" and release["candidate"] == "3"
    assert serving_at_rename == ["2"], "serving was pinned before v3's folder appeared"
    [entry] = release["history"]
    assert entry["action"] == "publish" and entry["by"] == "retrain-job"
    assert entry["version"] == "3" and entry["from"] == "2"
    assert entry["reason"] == rep["decision"]["reason"]
    meta = json.loads((model_dir / "3" / "metadata.json").read_text())
    assert meta["version"] == "3" and meta["training"]["parent_version"] == "2"
    assert meta["training"]["spec"] == "eta-precise/2"
    assert meta["training"]["continued"] == {"from_version": "2", "trees_from": "retrained from spec eta-precise/2",
                                             "rounds": retrain.DEFAULT_CONTINUE_ROUNDS}
    assert meta["lightgbm_params"]["p50"]["num_boost_round"] == 75 + retrain.DEFAULT_CONTINUE_ROUNDS
    assert meta["training"]["rows"]["holdout"] == ROWS_PER_DAY
    assert meta["features"] == json.loads((model_dir / "2" / "metadata.json").read_text())["features"]
    assert "password" not in json.dumps(meta) and "eta:eta@" not in json.dumps(meta)
    assert (model_dir / "3" / "MODEL_CARD.md").read_text().count("Retrained by the retrain job") == 1
    assert Path(rep["report_files"][0]).exists() and Path(rep["report_files"][1]).exists()

    # The same rows again, on a fresh copy: the same decision, metrics and bytes.
    again = retrain.run(_opts(source, second_repo, tmp_path / "rb"))
    assert _comparable(again) == _comparable(rep)
    assert (second_repo / MODEL / "3" / "model.onnx").read_bytes() == (model_dir / "3" / "model.onnx").read_bytes()

    # And on the first repository, where v3 is now in shadow: the same model again is no better than it.
    third = retrain.run(_opts(source, first_repo, tmp_path / "rc"))
    assert third["decision"]["action"] == "decline"
    assert _gate(third, "better than the candidate in shadow") == "fail"
    assert R.versions(model_dir) == ["1", "2", "3"]
    assert len(json.loads((model_dir / "release.json").read_text())["history"]) == 1

    # The change scan found the shift where the replay put it: urban orders, from the shift's first day, and
    # nothing else; the urban rows from before it were left out of the fit, and with a change found "auto"
    # leaves out the reference's masked copies too.
    [found] = rep["change"]["changes"]
    assert found["segment"] == "region_class=urban"
    shift_day = LAST_DAY - dt.timedelta(days=DAYS - 1 - SHIFT.from_day)
    shift_start = pd.Timestamp(shift_day, tz="Asia/Seoul")
    # The split lands within a few orders of the shift.
    assert abs(pd.Timestamp(found["at"]) - shift_start) <= pd.Timedelta(hours=3)
    assert found["mean_after"] - found["mean_before"] > 5 and found["p_value"] <= retrain.C.ALPHA
    urban_before = sum(r["features"]["region_class"] == 1 and r["seoul_date"] < shift_day for r in shifted)
    assert abs(rep["change"]["rows_left_out"] - urban_before) <= 0.02 * urban_before
    assert rep["rows"]["train_fitted"] == rep["rows"]["train"] - rep["change"]["rows_left_out"]
    assert rep["settings"]["reference_masked_weight"] is None
    assert rep["settings"]["reference_masked_weight_used"] == 0.0
    assert "The live model's error changed inside the window" in (model_dir / "3" / "MODEL_CARD.md").read_text()
    assert "## Change in the window" in Path(rep["report_files"][1]).read_text()

    # Without the scan, and with the masked copies in (the job before the scan), it learns less of the shift
    # from the same rows; each of the two alone learns more than neither. (Held-back figures: computed
    # whatever the decision.)
    def held(**kw) -> dict:
        name = "_".join(f"{k}{v}" for k, v in kw.items())
        return retrain.run(_opts(source, _repo(tmp_path, name), tmp_path / f"r{name}", **kw))["holdout"]["candidate"]
    neither = held(change_detection=False, reference_masked_weight=1.0)
    scan_only = held(reference_masked_weight=1.0)
    copies_out_only = held(change_detection=False, reference_masked_weight=0.0)
    for one in (scan_only, copies_out_only):
        assert h["candidate"]["mae"] < one["mae"] < neither["mae"]
        assert neither["bias"] < one["bias"] < h["candidate"]["bias"] < 0


def test_a_candidate_worse_on_the_validation_split_by_any_amount_is_declined(postgres, shifted, tmp_path):
    """Issue 13: a published model is never worse on the validation split than the one it replaces. With the
    reference's masked copies kept in the fit, the candidate learns the shift and wins the held-back day, but
    gives up about 0.001 min there."""
    models = _repo(tmp_path)
    source = postgres(shifted)
    rep = retrain.run(_opts(source, models, tmp_path / "exact", reference_masked_weight=1.0))
    assert rep["decision"]["action"] == "decline"
    assert [g["gate"] for g in rep["gates"] if g["status"] == "fail"] == ["validation MAE not worse"]
    v = rep["validation"]
    assert 0 < v["candidate"]["mae"] - v["live"]["mae"] < 0.005
    _unchanged(models)
    # Compared at a hundredth of a minute (--validation-decimals 2, the precision the 3.16 is
    # written in) the two are equal, and the same candidate is published.
    rounded = retrain.run(_opts(source, models, tmp_path / "rounded", reference_masked_weight=1.0,
                                validation_decimals=2))
    assert rounded["decision"]["action"] == "publish", rounded["decision"]
    assert _comparable(rounded)["holdout"] == _comparable(rep)["holdout"]


def test_a_published_version_is_continued_from_its_saved_trees(postgres, shifted, tmp_path):
    """v3's trees are saved beside its model.onnx; once it serves, the next run continues from them (checked
    against its model.onnx), not from a retrain of the spec, and holds back by time when asked."""
    models = _repo(tmp_path)
    source = postgres(shifted)
    first = retrain.run(_opts(source, models, tmp_path / "one"))
    assert first["decision"]["version"] == "3"
    model_dir = models / MODEL
    assert sorted(p.name for p in (model_dir / "3").glob("lightgbm-*.txt")) == [
        "lightgbm-p10.txt", "lightgbm-p50.txt", "lightgbm-p90.txt"]
    release = json.loads((model_dir / "release.json").read_text())
    R.write_release(model_dir, {"serving": "3", "history": release["history"]})
    # Held back by order time instead of by date: every order placed from the last day's noon on.
    held_from = dt.datetime.combine(LAST_DAY, dt.time(12), tzinfo=dt.timezone(dt.timedelta(hours=9)))
    second = retrain.run(_opts(source, models, tmp_path / "two", holdout_from=held_from))
    assert second["live"]["serving"] == "3" and second["live"]["trees_from"] == "saved trees"
    late = sum(r["ordered_at"] >= held_from for r in shifted)
    assert 0 < late < ROWS_PER_DAY
    assert (second["rows"]["train"], second["rows"]["holdout"]) == (len(shifted) - late, late)
    assert second["window"]["holdout_from"] == held_from.isoformat()


def test_trees_that_do_not_answer_as_the_served_model_are_an_error(postgres, shifted, tmp_path):
    models = _repo(tmp_path)
    source = postgres(shifted)
    retrain.run(_opts(source, models, tmp_path / "one"))
    model_dir = models / MODEL
    # v3 serving, but its saved trees replaced by v2's (retrained from the spec): not the model served.
    (model_dir / "3" / "lightgbm-p50.txt").write_text((model_dir / "3" / "lightgbm-p10.txt").read_text())
    R.write_release(model_dir, {"serving": "3"})
    with pytest.raises(retrain.JobError, match="differ from its model.onnx"):
        retrain.run(_opts(source, models, tmp_path / "two"))


def test_without_the_shift_there_is_no_better_model_and_nothing_is_published(unshifted_run):
    models, rep = unshifted_run
    assert rep["decision"]["action"] == "decline"
    assert _gate(rep, "holdout MAE margin") == "fail"
    assert rep["decision"]["reason"].startswith("holdout MAE margin")
    # No change in the window: every served row fitted, the reference's masked copies kept.
    assert rep["change"]["changes"] == [] and rep["change"]["rows_left_out"] == 0
    assert rep["change"]["segments_tested"] >= 2
    assert rep["rows"]["train_fitted"] == rep["rows"]["train"]
    assert rep["settings"]["reference_masked_weight_used"] == 1.0
    _unchanged(models)
    md = Path(rep["report_files"][1]).read_text()
    assert "DECLINE" in md and "holdout MAE margin" in md


def test_a_worse_candidate_is_never_published(postgres, shifted, tmp_path):
    models = _repo(tmp_path)
    rep = retrain.run(_opts(postgres(shifted), models, tmp_path), retrain.Hooks(shuffle_targets=True))
    assert rep["decision"]["action"] == "decline"
    assert rep["holdout"]["candidate"]["mae"] > rep["holdout"]["live"]["mae"]
    assert _gate(rep, "holdout MAE margin") == "fail"
    _unchanged(models)


def test_a_candidate_whose_golden_vectors_do_not_reproduce_is_never_published(postgres, shifted, tmp_path):
    def tamper(staged: Path) -> None:
        golden = json.loads((staged / "golden.json").read_text())
        golden["cases"][0]["expected"]["p50"] += 0.5
        (staged / "golden.json").write_text(json.dumps(golden))

    models = _repo(tmp_path)
    # Every other gate passes (the publishing run above), so only the golden check stands in the way.
    rep = retrain.run(_opts(postgres(shifted), models, tmp_path), retrain.Hooks(tamper_staged=tamper))
    assert rep["decision"]["action"] == "decline"
    assert _gate(rep, "golden vectors reproduce") == "fail"
    assert "golden case 0" in rep["decision"]["reason"]
    _unchanged(models)


def test_too_few_rows_declines_before_training(postgres, reference, tmp_path):
    models = _repo(tmp_path)
    rows = _rows(reference, days=DAYS, rows_per_day=100)
    rep = retrain.run(_opts(postgres(rows), models, tmp_path))
    assert rep["decision"]["action"] == "decline"
    assert rep["decision"]["reason"].startswith("too few rows")
    assert "holdout" not in rep
    _unchanged(models)


def test_too_few_rows_left_after_the_change_cut_declines_before_training(postgres, shifted, tmp_path):
    """The minimum holds for the rows the candidate is fitted on, not only for the rows read: the shift's
    urban rows from before it are left out of the fit, and what remains is under the minimum here."""
    models = _repo(tmp_path)
    train = (DAYS - 1) * ROWS_PER_DAY
    shift_day = LAST_DAY - dt.timedelta(days=DAYS - 1 - SHIFT.from_day)
    urban_before = sum(r["features"]["region_class"] == 1 and r["seoul_date"] < shift_day for r in shifted)
    # Between what is read (train) and what the scan leaves (about train - urban_before, within 2 %).
    minimum = train - urban_before // 2
    rep = retrain.run(_opts(postgres(shifted), models, tmp_path, min_train_rows=minimum))
    assert rep["rows"]["train"] == train
    assert _gate(rep, "enough rows") == "pass"
    assert rep["change"]["rows_left_out"] > urban_before // 2
    assert _gate(rep, "enough rows after the change cut") == "fail"
    assert rep["decision"]["action"] == "decline"
    assert rep["decision"]["reason"].startswith("too few rows after the change cut")
    assert "holdout" not in rep
    _unchanged(models)


def test_the_command_line_exits_0_on_decline_and_1_on_errors(postgres, reference, tmp_path):
    models = _repo(tmp_path)
    source = postgres(_rows(reference, days=3, rows_per_day=50))
    common = ["--model", MODEL, "--until", LAST_DAY.isoformat(), "--models-dir", str(models)]
    assert retrain.main(["--source", source, *common, "--report-dir", str(tmp_path / "ok")]) == 0
    [report] = (tmp_path / "ok").glob("*.json")
    assert json.loads(report.read_text())["decision"]["action"] == "decline"
    assert retrain.main(["--source", "mysql://nowhere/x", *common, "--report-dir", str(tmp_path / "bad")]) == 1
    assert retrain.main(["--source", source, "--model", "no-such-model", "--models-dir", str(models),
                         "--report-dir", str(tmp_path / "bad")]) == 1
    _unchanged(models)


# ---- BigQuery ------------------------------------------------------------------------------------------

def test_bigquery_source_reads_the_same_rows_deduped(unshifted, unshifted_run, tmp_path):
    """Streaming inserts may leave duplicates in real BigQuery: the reader keeps one row per order, and the
    job decides exactly as it does from Postgres."""
    if not os.environ.get("BIGQUERY_EMULATOR_HOST"):
        if os.environ.get("CI") and (data.REPO_DIR / "scripts" / "bigquery" / "emulator.sh").exists():
            pytest.fail("BIGQUERY_EMULATOR_HOST is not set, but the test command starts the emulator")
        pytest.skip("no BigQuery emulator (BIGQUERY_EMULATOR_HOST unset)")
    from google.cloud import bigquery

    project = os.environ.get("BIGQUERY_PROJECT", "eta-test")
    dataset = f"retrain_{uuid.uuid4().hex[:10]}"
    client = T.bigquery_client(project)
    client.create_dataset(bigquery.Dataset(f"{project}.{dataset}"), timeout=30)
    try:
        schema = [bigquery.SchemaField(n, t, mode="REQUIRED") for n, t in (
            ("order_id", "STRING"), ("prediction_id", "STRING"), ("store_id", "INT64"), ("dong_code", "STRING"),
            ("ordered_at", "TIMESTAMP"), ("delivered_at", "TIMESTAMP"), ("predicted_at", "TIMESTAMP"),
            ("seoul_date", "DATE"), ("seoul_hour", "INT64"), ("model", "STRING"), ("model_version", "STRING"),
            ("features", "STRING"), ("p10", "FLOAT64"), ("p50", "FLOAT64"), ("p90", "FLOAT64"),
            ("shown_minutes", "FLOAT64"), ("actual_minutes", "FLOAT64"), ("written_at", "TIMESTAMP"))]
        table = bigquery.Table(f"{project}.{dataset}.training_rows", schema=schema)
        table.time_partitioning = bigquery.TimePartitioning(type_=bigquery.TimePartitioningType.DAY, field="seoul_date")
        table.clustering_fields = ["store_id"]
        client.create_table(table, timeout=30)

        def enc(r):
            return {k: (json.dumps(v) if k == "features" else v.isoformat() if hasattr(v, "isoformat") else v)
                    for k, v in r.items()}
        # Every 50th order twice, the second written later with another prediction (a redelivered event).
        dupes = [dict(r, prediction_id=str(uuid.UUID(int=i)), written_at=r["written_at"] + dt.timedelta(minutes=5),
                      actual_minutes=r["actual_minutes"] + 30) for i, r in enumerate(unshifted[::50])]
        payload = [enc(r) for r in unshifted + dupes]
        for i in range(0, len(payload), 500):
            errors = client.insert_rows_json(f"{project}.{dataset}.training_rows", payload[i:i + 500], timeout=60)
            assert errors == []

        bq = retrain.run(_opts(f"bigquery://{project}/{dataset}", _repo(tmp_path, "bq"), tmp_path / "bq"))
        _, pg = unshifted_run
        assert bq["rows"]["deduped"] == len(unshifted)
        assert _comparable(bq) == _comparable(pg)
    finally:
        client.delete_dataset(f"{project}.{dataset}", delete_contents=True, not_found_ok=True, timeout=30)


# ---- pieces --------------------------------------------------------------------------------------------

def test_dedupe_keeps_the_first_write_of_each_order():
    t0 = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)
    base = {c: None for c in T.CONTRACT_COLUMNS} | {"features": "{}", "seoul_date": "2026-12-01", "p10": 1, "p50": 2,
                                                     "p90": 3, "shown_minutes": 2, "store_id": 1, "seoul_hour": 1}
    rows = [base | {"order_id": "a", "prediction_id": "p2", "written_at": t0 + dt.timedelta(seconds=5), "actual_minutes": 9},
            base | {"order_id": "a", "prediction_id": "p1", "written_at": t0, "actual_minutes": 7},
            base | {"order_id": "b", "prediction_id": "p3", "written_at": t0, "actual_minutes": 8}]
    out = T.dedupe(T.to_frame(rows))
    assert list(out["order_id"]) == ["a", "b"] and list(out["actual_minutes"]) == [7, 8]


def test_paired_bootstrap_is_seeded_and_brackets_the_mean():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 3, 2000), rng.normal(0, 4, 2000)
    one, two = retrain.paired_bootstrap(a, b, 500), retrain.paired_bootstrap(a, b, 500)
    assert one == two
    assert one["low"] < one["mean"] < one["high"] < 0


def test_reports_never_carry_a_password():
    assert T.redact("postgres://eta:secret@db:5432/eta?options=-csearch_path%3Dx") == "postgres://eta@db:5432/eta"
