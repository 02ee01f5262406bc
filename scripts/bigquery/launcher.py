"""Starts bqemulator with DuckDB's spatial extension left out (scripts/bigquery/emulator.sh runs this).

bqemulator 1.4.0 runs `INSTALL spatial` at start, which downloads the extension from DuckDB's site and
fails offline (the test machines reach package registries only), and then refuses to start. The suite
uses no GEOGRAPHY column, so the load becomes a no-op; a query with an ST_* function would fail, which is
the honest outcome for a type this emulator then does not have.
"""

from bqemulator.cli import main
from bqemulator.storage.engine import DuckDBEngine


def _no_spatial(self: DuckDBEngine) -> None:
    return None


DuckDBEngine._load_spatial = _no_spatial  # type: ignore[method-assign]

if __name__ == "__main__":
    main()
