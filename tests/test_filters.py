"""Observation filters: every step counted, on tiny inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from globalrs.core.grid import make_grid
from globalrs.estimates import filters


def toy_srdb() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Rs_annual": [500.0, np.nan, 600.0, 700.0, 800.0, 9000.0, 650.0, -5.0],
            "Manipulation": ["None", "None", "Warmed", "None", "None", "None", "None", "None"],
            "Quality_flag": [np.nan, np.nan, np.nan, "Q01, Q11", np.nan, "Q01", "Q01", np.nan],
            "Latitude": [10.2, 10.0, 10.0, 10.0, 95.0, 10.0, -30.3, 10.0],
            "Longitude": [20.2, 20.0, 20.0, 20.0, 20.0, 20.0, 140.1, 20.0],
        }
    )


def test_filter_counts_every_step():
    kept, steps = filters.filter_srdb(toy_srdb())
    assert steps["removed"].tolist() == [0, 1, 1, 1, 1, 2]
    assert steps["remaining"].tolist() == [8, 7, 6, 5, 4, 2]
    assert kept["Rs_annual"].tolist() == [500.0, 650.0]


def test_filter_with_land_mask_drops_and_counts_ocean_sites():
    lat, lon = make_grid(0.5)
    mask = xr.DataArray(np.zeros((lat.size, lon.size), bool), coords={"lat": lat, "lon": lon}, dims=("lat", "lon"))
    mask.loc[dict(lat=10.25, lon=20.25)] = True
    kept, steps = filters.filter_srdb(toy_srdb(), land_mask=mask)
    assert steps.iloc[-1]["removed"] == 1 and steps.iloc[-1]["remaining"] == 1
    assert kept["Latitude"].tolist() == [10.2]


def test_bad_quality_flags_parsed_from_lists():
    flags = pd.Series(["Q01", "Q01,Q10", "Q03, Q13", np.nan, "Q1", "Q14"])
    assert filters.has_bad_quality_flag(flags).tolist() == [False, True, True, False, False, True]


def test_filter_mgrsd_counts_steps():
    frame = pd.DataFrame(
        {
            "Rs_Norm": [1.0, np.nan, 2.0, 3.0, 40.0, 0.0],
            "Measure_Month": [1, 2, 13, 4, 5, 6],
            "Latitude": [10.0, 10.0, 10.0, -95.0, 10.0, 10.0],
            "Longitude": [20.0] * 6,
        }
    )
    kept, steps = filters.filter_mgrsd(frame)
    assert steps["removed"].tolist() == [0, 1, 1, 1, 2]
    assert kept["Rs_Norm"].tolist() == [1.0]


def test_apply_filter_steps_counts_each_removal():
    frame = pd.DataFrame({"rs": [100.0, np.nan, 5000.0, 300.0, 400.0]})
    kept, steps = filters.apply_filter_steps(
        frame,
        [("reported", lambda f: f["rs"].notna()), ("below 4000", lambda f: f["rs"] < 4000)],
    )
    assert kept["rs"].tolist() == [100.0, 300.0, 400.0]
    assert steps.values.tolist() == [["all records", 0, 5], ["reported", 1, 4], ["below 4000", 1, 3]]
