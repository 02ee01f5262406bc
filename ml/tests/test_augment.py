"""The masked copies that teach the models 'unknown' (synthetic arrays, no dataset rows)."""

import numpy as np
import pytest

from eta_models import features as F
from eta_models.train import augment_missing

PRECISE = F.names(F.PRECISE_FEATURES)
ROUGH = F.names(F.ROUGH_FEATURES)


def _x(names, n=4000):
    return np.arange(n * len(names), dtype=np.float32).reshape(n, len(names)), np.arange(n, dtype=np.float64)


def test_originals_kept_and_units_blanked_whole():
    x, y = _x(PRECISE)
    xa, ya = augment_missing(x, y, PRECISE, 0.5)
    assert np.array_equal(xa[: len(x)], x) and np.array_equal(ya[: len(y)], y)
    extra = xa[len(x):]
    assert 0.45 < len(extra) / len(x) < 0.55
    for unit in F.MASK_UNITS:
        blanked = np.isnan(extra[:, [PRECISE.index(n) for n in unit]])
        assert np.all(blanked.all(axis=1) | ~blanked.any(axis=1)), unit  # all of a unit or none of it
        assert 0.4 < blanked[:, 0].mean() < 0.67, unit  # 8 of the 15 patterns blank a given unit
    assert np.all(np.isnan(extra).any(axis=1))  # every copy has something blanked
    never = [n for n in PRECISE if n not in F.MASKED_IN_TRAINING]
    assert not np.isnan(extra[:, [PRECISE.index(n) for n in never]]).any()


def test_rough_only_masks_the_feeds_and_every_row_once_at_share_one():
    x, y = _x(ROUGH)
    xa, _ = augment_missing(x, y, ROUGH, 1.0)
    extra = xa[len(x):]
    assert len(extra) == len(x)
    cols = [ROUGH.index(n) for n in F.FEEDS]
    assert set(np.flatnonzero(np.isnan(extra).any(axis=0))) == set(cols)
    with pytest.raises(ValueError):
        augment_missing(x, y, ROUGH, 1.5)
