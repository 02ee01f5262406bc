"""Read served training rows (issue 13's shared contract: one row per delivered order joined to the
prediction that was shown at checkout) from Postgres or BigQuery, for the retrain job.

    postgres://user:password@host:5432/db[?options]   the `training_rows` table (schema: ?options=-csearch_path=...)
    bigquery://<project>/<dataset>                    `<project>.<dataset>.training_rows`; BIGQUERY_EMULATOR_HOST,
                                                       when set, is the endpoint (anonymous credentials)

Both return the same pandas frame (CONTRACT_COLUMNS, `features` parsed into a dict), already deduplicated by
order_id (the earliest written_at wins, as the BigQuery reader query does): real BigQuery's streaming insert
ids are only best-effort, so a reader must not trust the table to hold one row per order.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import urllib.parse
from dataclasses import dataclass

import pandas as pd

TABLE = "training_rows"
CONTRACT_COLUMNS = (
    "order_id", "prediction_id", "store_id", "dong_code", "ordered_at", "delivered_at", "predicted_at",
    "seoul_date", "seoul_hour", "model", "model_version", "features", "p10", "p50", "p90", "shown_minutes",
    "actual_minutes", "written_at",
)
# Every outbound call has a deadline: connecting, and the whole read.
CONNECT_TIMEOUT_S = 10
QUERY_TIMEOUT_S = 300


class SourceError(RuntimeError):
    pass


@dataclass(frozen=True)
class Read:
    frame: pd.DataFrame  # one row per order_id
    rows_read: int  # as the source returned them (before the dedupe here)
    source: str  # the source with any password removed, for reports


def redact(url: str) -> str:
    """The source URL as it may appear in a report: no password, no query string (it may hold one)."""
    u = urllib.parse.urlsplit(url)
    netloc = u.hostname or ""
    if u.port:
        netloc += f":{u.port}"
    if u.username:
        netloc = f"{u.username}@{netloc}"
    return urllib.parse.urlunsplit((u.scheme, netloc, u.path, "", ""))


def read_rows(source: str, model: str, first: dt.date, last: dt.date) -> Read:
    scheme = urllib.parse.urlsplit(source).scheme
    if scheme in ("postgres", "postgresql"):
        records = _read_postgres(source, model, first, last)
    elif scheme == "bigquery":
        records = _read_bigquery(source, model, first, last)
    else:
        raise SourceError(f"unknown source {redact(source)!r}: use postgres://... or bigquery://<project>/<dataset>")
    return Read(frame=dedupe(to_frame(records)), rows_read=len(records), source=redact(source))


def to_frame(records: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=list(CONTRACT_COLUMNS))
    frame["features"] = [f if isinstance(f, dict) else json.loads(f) for f in frame["features"]]
    frame["seoul_date"] = [d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)) for d in frame["seoul_date"]]
    for c in ("ordered_at", "delivered_at", "predicted_at", "written_at"):
        frame[c] = pd.to_datetime(frame[c], utc=True)
    for c in ("p10", "p50", "p90", "shown_minutes", "actual_minutes"):
        frame[c] = frame[c].astype("float64")
    for c in ("order_id", "prediction_id", "dong_code", "model", "model_version"):
        frame[c] = frame[c].astype(str)
    return frame


def dedupe(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per order_id, the earliest written (ties by prediction_id), in a stable order."""
    ordered = frame.sort_values(["order_id", "written_at", "prediction_id"], kind="mergesort")
    return ordered.drop_duplicates("order_id", keep="first").reset_index(drop=True)


# ---- Postgres ------------------------------------------------------------------------------------------

_PG_QUERY = f"""
SELECT {", ".join(CONTRACT_COLUMNS)}
FROM {TABLE}
WHERE model = %(model)s AND seoul_date BETWEEN %(first)s AND %(last)s
"""


def _read_postgres(url: str, model: str, first: dt.date, last: dt.date) -> list[dict]:
    import psycopg
    from psycopg.rows import dict_row

    try:
        with psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S, row_factory=dict_row) as conn:
            conn.read_only = True
            conn.execute(f"SET statement_timeout = {QUERY_TIMEOUT_S * 1000}")
            return [dict(r) for r in conn.execute(_PG_QUERY, {"model": model, "first": first, "last": last})]
    except psycopg.Error as err:
        raise SourceError(f"{redact(url)}: {err.__class__.__name__}: {str(err).strip()}") from err


# ---- BigQuery ------------------------------------------------------------------------------------------

# Plain GoogleSQL that real BigQuery and the emulator both run: the newest-window filter prunes partitions
# (seoul_date), and ROW_NUMBER keeps the first write of each order (insert ids are only best-effort).
_BQ_QUERY = """
SELECT {columns}
FROM (
  SELECT t.*, ROW_NUMBER() OVER (PARTITION BY order_id ORDER BY written_at, prediction_id) AS row_rank
  FROM `{project}.{dataset}.{table}` AS t
  WHERE model = @model AND seoul_date BETWEEN @first AND @last
)
WHERE row_rank = 1
"""


def bigquery_target(url: str) -> tuple[str, str]:
    u = urllib.parse.urlsplit(url)
    project, dataset = u.netloc, u.path.strip("/")
    if not project or not dataset or "/" in dataset:
        raise SourceError(f"bigquery source must be bigquery://<project>/<dataset>, got {url!r}")
    return project, dataset


def bigquery_client(project: str):
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    host = os.environ.get("BIGQUERY_EMULATOR_HOST")
    if host:
        # The Node client wants the `/bigquery/v2` suffix in this variable; the Python client adds it itself.
        endpoint = host.rstrip("/").removesuffix("/bigquery/v2")
        if "://" not in endpoint:
            endpoint = f"http://{endpoint}"
        return bigquery.Client(project=project, credentials=AnonymousCredentials(),
                               client_options=ClientOptions(api_endpoint=endpoint))
    return bigquery.Client(project=project)  # Workload Identity / application default credentials


def _read_bigquery(url: str, model: str, first: dt.date, last: dt.date) -> list[dict]:
    from google.api_core import exceptions as gexc
    from google.cloud import bigquery

    project, dataset = bigquery_target(url)
    sql = _BQ_QUERY.format(columns=", ".join(CONTRACT_COLUMNS), project=project, dataset=dataset, table=TABLE)
    config = bigquery.QueryJobConfig(query_parameters=[
        bigquery.ScalarQueryParameter("model", "STRING", model),
        bigquery.ScalarQueryParameter("first", "DATE", first),
        bigquery.ScalarQueryParameter("last", "DATE", last),
    ])
    try:
        client = bigquery_client(project)
        job = client.query(sql, job_config=config, timeout=CONNECT_TIMEOUT_S * 3)
        rows = job.result(timeout=QUERY_TIMEOUT_S)
        return [{c: row[c] for c in CONTRACT_COLUMNS} for row in rows]
    except (gexc.GoogleAPIError, OSError) as err:
        raise SourceError(f"{url}: {err.__class__.__name__}: {err}") from err
