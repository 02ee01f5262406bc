"""Golden-vector check of every committed model: python -m eta_models.verify [models_dir]."""

from __future__ import annotations

import sys
from pathlib import Path

from .data import ML_DIR
from .golden import verify


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    root = Path(argv[0]) if argv else ML_DIR / "models"
    dirs = sorted(p.parent for p in root.glob("*/*/model.onnx"))
    if not dirs:
        print(f"no models under {root}", file=sys.stderr)
        return 1
    bad = 0
    for d in dirs:
        problems = verify(d)
        bad += bool(problems)
        print(f"{d.relative_to(root)}: {'ok' if not problems else 'FAIL ' + '; '.join(problems)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
