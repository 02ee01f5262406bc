"""Cleaning rules from shared/data/README.md, exercised on a made-up file (never dataset rows)."""

import math

import pandas as pd
import pytest

from eta_models import data
from eta_models import features as F

HEADER = ",".join(data.RAW_COLUMNS)


def _row(**kw):
    base = dict(ID="0xabc1 ", Delivery_person_ID="TESTRES01DEL01 ", Delivery_person_Age="30",
                Delivery_person_Ratings="4.7", Restaurant_latitude="12.900000", Restaurant_longitude="77.600000",
                Delivery_location_latitude="12.950000", Delivery_location_longitude="77.650000",
                Order_Date="05-03-2022", Time_Orderd="19:30:00", Time_Order_picked="19:40:00",
                Weatherconditions="conditions Fog", Road_traffic_density="Jam ", Vehicle_condition="1",
                Type_of_order="Meal ", Type_of_vehicle="scooter ", multiple_deliveries="1", Festival="No ",
                City="Metropolitian ", **{"Time_taken(min)": "(min) 31"})
    base.update(kw)
    return ",".join(base[c] for c in data.RAW_COLUMNS)


def _load(tmp_path, *rows):
    p = tmp_path / "orders.csv"
    p.write_text("\r\n".join([HEADER, *rows]) + "\r\n", encoding="utf-8")
    return data.load_orders(p)


def test_clean_row_parses_every_field(tmp_path):
    f = _load(tmp_path, _row()).frame.iloc[0]
    assert f["minutes"] == 31
    assert f["day_of_week"] == 5  # 2022-03-05 is a Saturday: proves dd-mm-yyyy, not mm-dd
    assert f["hour_of_day"] == 19
    assert f["weather"] == F.WEATHER["fog"] and f["road_traffic"] == F.ROAD_TRAFFIC["jam"]
    assert f["region_class"] == F.REGION_CLASS["metropolitan"]
    assert f["vehicle_type"] == F.VEHICLE_TYPE["scooter"] and f["order_type"] == F.ORDER_TYPE["meal"]
    assert 7.0 < f["distance_km"] < 8.0


def test_nan_strings_become_missing(tmp_path):
    f = _load(tmp_path, _row(Weatherconditions="conditions NaN", Road_traffic_density="NaN ", City="NaN ",
                             Festival="NaN ", multiple_deliveries="NaN ", Delivery_person_Age="NaN ")).frame.iloc[0]
    for col in ("weather", "road_traffic", "region_class", "festival", "multiple_deliveries", "rider_age"):
        assert math.isnan(f[col]), col


def test_negative_coordinates_are_repaired_and_zero_ones_dropped(tmp_path):
    frame = _load(tmp_path, _row(), _row(Restaurant_latitude="-12.900000"),
                  _row(Restaurant_latitude="0.0", Restaurant_longitude="0.0",
                       Delivery_location_latitude="0.05", Delivery_location_longitude="0.05")).frame
    assert frame["distance_km"][0] == pytest.approx(frame["distance_km"][1])
    assert math.isnan(frame["distance_km"][2])


def test_sentinel_riders_and_missing_order_time(tmp_path):
    frame = _load(tmp_path, _row(Delivery_person_Age="50", Delivery_person_Ratings="6"),
                  _row(Time_Orderd="NaN ", Time_Order_picked="08:05:00")).frame
    assert math.isnan(frame["rider_age"][0]) and math.isnan(frame["rider_rating"][0])
    assert frame["hour_of_day"][1] == 7  # pickup minus the median 10-minute prep


def test_unknown_label_fails_loudly(tmp_path):
    with pytest.raises(ValueError, match="Type_of_vehicle"):
        _load(tmp_path, _row(Type_of_vehicle="hoverboard "))


def test_missing_required_feature_drops_row(tmp_path):
    loaded = _load(tmp_path, _row(), _row(Order_Date="NaN "))
    assert len(loaded.frame) == 1 and loaded.rows_dropped["day_of_week missing (required feature)"] == 1
