"""A fixed "replay" of served training rows for the retrain job's tests and for trying it locally.

    python -m eta_models.replay_rows --database-url postgres://... [--schema S] [--days 15] [--rows-per-day 1000]
        [--last-day 2026-12-05] [--shift-from-day 6 --shift-factor 1.3 --shift-region urban] [--seed 7]

Real delivered orders of the reference file's TRAINING split (never the validation split, which stays
unseen), cleaned by the same code as training (data.load_orders), spread over consecutive Seoul days with a
seed, and written in the shape of issue 13's `training_rows` table: the feature row exactly as the BFF sends
it today (weather and road traffic null: it has no feed yet; the rest as the order records it), the live
model's raw quantiles for it, and the actual minutes. Optionally a SIMULATED shift on top of the real orders:
from one day on, orders of one region class take `--shift-factor` times as long (a rainstorm in part of the
city), a change the live model cannot know. The order rows never leave the machine: they go to the database
given, for tests and local runs only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import data
from . import features as F
from .train import onnx_predict, session_for, split

# The contract's DDL (services/vendor-bff/migrations/0003_training_rows.sql creates it in the BFF's database).
TRAINING_ROWS_DDL = """
CREATE TABLE IF NOT EXISTS training_rows (
  order_id        text PRIMARY KEY,
  prediction_id   uuid NOT NULL,
  store_id        bigint NOT NULL,
  dong_code       text NOT NULL,
  ordered_at      timestamptz NOT NULL,
  delivered_at    timestamptz NOT NULL,
  predicted_at    timestamptz NOT NULL,
  seoul_date      date NOT NULL,
  seoul_hour      smallint NOT NULL,
  model           text NOT NULL,
  model_version   text NOT NULL,
  features        jsonb NOT NULL,
  p10             double precision NOT NULL,
  p50             double precision NOT NULL,
  p90             double precision NOT NULL,
  shown_minutes   double precision NOT NULL,
  actual_minutes  double precision NOT NULL,
  written_at      timestamptz NOT NULL,
  shipped_at      timestamptz
);
CREATE INDEX IF NOT EXISTS training_rows_seoul_date ON training_rows (seoul_date);
"""

SEOUL = dt.timezone(dt.timedelta(hours=9))  # no daylight saving since 1988
# What the BFF sends today for these: null (no weather or traffic feed yet; services/vendor-bff features.ts).
SERVED_AS_NULL = F.FEEDS


@dataclass(frozen=True)
class Shift:
    from_day: int  # index of the first shifted day (0 = the first day of the replay)
    factor: float  # actual minutes multiplied by this
    region: str  # region class (features.REGION_CLASS key) whose orders are shifted

    def describe(self) -> str:
        return (f"SIMULATED shift: {self.region} orders take {self.factor:g}x as long from replay day "
                f"{self.from_day} on")


def replay_rows(frame: pd.DataFrame, train_idx: np.ndarray, *, days: int, rows_per_day: int,
                last_day: dt.date, live_dir: Path, seed: int = 7, shift: Shift | None = None) -> list[dict]:
    """training_rows records; the same arguments give the same rows, byte for byte."""
    meta = json.loads((live_dir / "metadata.json").read_text())
    names = [f["name"] for f in meta["features"]]
    need = days * rows_per_day
    if need > len(train_idx):
        raise ValueError(f"{need} rows asked, the training split has {len(train_idx)}")
    rng = np.random.default_rng(seed)
    picked = rng.permutation(train_idx)[:need]
    x = frame[names].to_numpy(np.float32)[picked]
    for n in SERVED_AS_NULL:
        if n in names:
            x[:, names.index(n)] = np.nan
    y = frame[data.TARGET].to_numpy(np.float64)[picked]
    day = np.repeat(np.arange(days), rows_per_day)
    if shift is not None:
        hit = (x[:, names.index("region_class")] == F.REGION_CLASS[shift.region]) & (day >= shift.from_day)
        y = np.where(hit, np.round(y * shift.factor, 1), y)
    pred = onnx_predict(session_for((live_dir / "model.onnx").read_bytes()), x)
    first_day = last_day - dt.timedelta(days=days - 1)
    minute = rng.integers(0, 60, need)
    store = rng.integers(1, 5001, need)
    dong = rng.integers(0, 425, need)
    rows = []
    for i in range(need):
        d = first_day + dt.timedelta(days=int(day[i]))
        hour = int(x[i, names.index("hour_of_day")])
        ordered = dt.datetime(d.year, d.month, d.day, hour, int(minute[i]), tzinfo=SEOUL)
        delivered = ordered + dt.timedelta(minutes=float(y[i]))
        p10, p50, p90 = (float(v) for v in pred[i])
        rows.append({
            "order_id": f"replay-{d.isoformat()}-{i:06d}",
            "prediction_id": str(uuid.UUID(bytes=rng.bytes(16), version=4)),
            "store_id": int(store[i]),
            "dong_code": f"{11110000 + int(dong[i]) * 10}",
            "ordered_at": ordered,
            "delivered_at": delivered,
            "predicted_at": ordered - dt.timedelta(seconds=30),
            "seoul_date": d,
            "seoul_hour": hour,
            "model": meta["name"],
            "model_version": meta["version"],
            "features": {n: (None if np.isnan(v) else float(v)) for n, v in zip(names, x[i].tolist())},
            "p10": p10, "p50": p50, "p90": p90,
            "shown_minutes": float(round(p50)),
            "actual_minutes": float(y[i]),
            "written_at": delivered + dt.timedelta(seconds=2),
        })
    return rows


def write_postgres(database_url: str, rows: list[dict], schema: str | None = None) -> None:
    import psycopg
    from psycopg.types.json import Jsonb

    with psycopg.connect(database_url, connect_timeout=10) as conn:
        if schema:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            conn.execute(f'SET search_path TO "{schema}"')
        conn.execute(TRAINING_ROWS_DDL)
        cols = list(rows[0]) if rows else []
        with conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO training_rows ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))}) "
                "ON CONFLICT (order_id) DO NOTHING",
                [[Jsonb(r[c]) if c == "features" else r[c] for c in cols] for r in rows],
            )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--schema", default=None, help="Postgres schema to create and fill (default: the search path's)")
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--models-dir", type=Path, default=data.ML_DIR / "models")
    ap.add_argument("--model", default="eta-precise")
    ap.add_argument("--live-version", default="2")
    ap.add_argument("--days", type=int, default=15)
    ap.add_argument("--rows-per-day", type=int, default=1000)
    ap.add_argument("--last-day", type=dt.date.fromisoformat,
                    default=dt.datetime.now(SEOUL).date() - dt.timedelta(days=1))
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--shift-from-day", type=int, default=None)
    ap.add_argument("--shift-factor", type=float, default=1.3)
    ap.add_argument("--shift-region", choices=sorted(F.REGION_CLASS), default="urban")
    args = ap.parse_args(argv)
    frame = data.load_orders((args.data or data.default_train_path()).resolve()).frame
    shift = None if args.shift_from_day is None else Shift(args.shift_from_day, args.shift_factor, args.shift_region)
    rows = replay_rows(frame, split(len(frame))[0], days=args.days, rows_per_day=args.rows_per_day,
                       last_day=args.last_day, live_dir=args.models_dir / args.model / args.live_version,
                       seed=args.seed, shift=shift)
    write_postgres(args.database_url, rows, args.schema)
    print(f"{len(rows)} replay rows for {rows[0]['seoul_date']} .. {rows[-1]['seoul_date']}"
          f"{'; ' + shift.describe() if shift else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
