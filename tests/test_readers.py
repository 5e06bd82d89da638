"""Readers: observation filter, grid checks, site sampling and aggregation on tiny inputs.

The last tests read the real files and need the offline mirror (``mirror_dir`` fixture).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from globalrs import filters, grid, readers
from globalrs.grid import make_grid


def toy_srdb() -> pd.DataFrame:
    return pd.DataFrame({
        "Rs_annual": [500.0, np.nan, 600.0, 700.0, 800.0, 9000.0, 650.0, -5.0],
        "Manipulation": ["None", "None", "Warmed", "None", "None", "None", "None", "None"],
        "Quality_flag": [np.nan, np.nan, np.nan, "Q01, Q11", np.nan, "Q01", "Q01", np.nan],
        "Latitude": [10.2, 10.0, 10.0, 10.0, 95.0, 10.0, -30.3, 10.0],
        "Longitude": [20.2, 20.0, 20.0, 20.0, 20.0, 20.0, 140.1, 20.0],
    })


def test_filter_counts_every_step():
    kept, steps = filters.filter_srdb(toy_srdb())
    assert steps["removed"].tolist() == [0, 1, 1, 1, 1, 2]
    assert steps["remaining"].tolist() == [8, 7, 6, 5, 4, 2]
    assert kept["Rs_annual"].tolist() == [500.0, 650.0]


def test_filter_with_land_mask_drops_and_counts_ocean_sites():
    lat, lon = make_grid(0.5)
    mask = xr.DataArray(np.zeros((lat.size, lon.size), bool), coords={"lat": lat, "lon": lon},
                        dims=("lat", "lon"))
    mask.loc[dict(lat=10.25, lon=20.25)] = True
    kept, steps = filters.filter_srdb(toy_srdb(), land_mask=mask)
    assert steps.iloc[-1]["removed"] == 1 and steps.iloc[-1]["remaining"] == 1
    assert kept["Latitude"].tolist() == [10.2]


def test_bad_quality_flags_parsed_from_lists():
    flags = pd.Series(["Q01", "Q01,Q10", "Q03, Q13", np.nan, "Q1", "Q14"])
    assert filters.has_bad_quality_flag(flags).tolist() == [False, True, True, False, False, True]


def half_degree(values=None) -> xr.DataArray:
    lat, lon = make_grid(0.5)
    data = np.arange(lat.size * lon.size, dtype=float).reshape(lat.size, lon.size) if values is None else values
    return xr.DataArray(data, coords={"lat": lat, "lon": lon}, dims=("lat", "lon"), attrs={"units": "deg C"})


def test_check_grid_accepts_make_grid():
    grid.check_grid(half_degree(), 0.5, units="deg C")


def test_check_grid_rejects_descending_latitude():
    with pytest.raises(ValueError, match="ascending"):
        grid.check_grid(half_degree().isel(lat=slice(None, None, -1)))


def test_check_grid_rejects_transposed_and_wrong_shape_and_units():
    with pytest.raises(ValueError, match=r"\('lat', 'lon'\)"):
        grid.check_grid(half_degree().transpose("lon", "lat"))
    with pytest.raises(ValueError, match="not the global 0.5-degree grid"):
        grid.check_grid(half_degree().isel(lat=slice(0, 100)))
    with pytest.raises(ValueError, match="expected units"):
        grid.check_grid(half_degree(), 0.5, units="K")


def test_sample_at_sites_picks_containing_cell():
    field = half_degree()
    # (10.2, 20.2) -> lat index floor((100.2)/0.5)=200, lon index floor(200.2/0.5)=400
    out = grid.sample_at_sites(field, [10.2, -89.9, 90.0], [20.2, -180.0, 180.0])
    assert out[0] == 200 * 720 + 400
    assert out[1] == 0
    assert out[2] == 359 * 720 + 719  # the far edges belong to the last cell


def test_sample_at_sites_outside_grid_raises():
    with pytest.raises(ValueError, match="1 site"):
        grid.sample_at_sites(half_degree(), [10.0, 91.0], [0.0, 0.0])
    with pytest.raises(ValueError, match="longitude outside"):
        grid.sample_at_sites(half_degree(), [10.0], [200.0])


def test_sample_at_sites_keeps_leading_dimensions():
    stacked = xr.concat([half_degree(), half_degree() * 2], dim="month")
    out = grid.sample_at_sites(stacked, [10.2], [20.2])
    assert out.shape == (1, 2)
    assert out[0, 1] == 2 * out[0, 0]


def test_aggregate_to_05_area_weighted_block_mean():
    # a 10' grid of 6 rows (1 degree: 2 half-degree rows) starting at the equator
    step = 1 / 6
    lat = np.round(0 + step * (np.arange(6) + 0.5), 6)
    lon = np.round(-180 + step * (np.arange(2160) + 0.5), 6)
    data = np.full((6, 2160), np.nan, dtype=np.float32)
    data[0:3, 0:3] = [[1, 1, 1], [2, 2, 2], [3, 3, 3]]
    data[3, 3] = 7.0  # one valid fine cell out of nine
    fine = xr.DataArray(data, coords={"lat": lat, "lon": lon}, dims=("lat", "lon"))
    out = readers.aggregate_to_05(fine)
    w = np.cos(np.deg2rad(lat[:3]))
    expected = float((w * [1, 2, 3]).sum() / w.sum())
    assert float(out.sel(lat=0.25, lon=-179.75)) == pytest.approx(expected, rel=1e-6)
    assert float(out.sel(lat=0.75, lon=-179.25)) == pytest.approx(7.0)
    assert np.isnan(float(out.sel(lat=0.75, lon=-179.75)))
    assert np.isnan(out.sel(lat=-10.25)).all()
    assert out.shape == (360, 720)


def test_majority_landcover_groups_and_water():
    codes = np.array([[1, 2, 0, 0], [12, 10, 17, 0]], dtype=np.uint8)
    out = readers.majority_landcover(codes, 2, 2)
    groups = readers.LANDCOVER_GROUPS
    assert groups[out[0, 0]] == "forest"  # 2 forest pixels vs 1 cropland, 1 grassland
    assert out[0, 1] == -1  # water only


def test_read_bil_header(tmp_path):
    path = tmp_path / "x.hdr"
    path.write_text("BYTEORDER     I\nNROWS 3\nncols 4\n")
    header = readers.read_bil_header(path)
    assert header == {"BYTEORDER": "I", "NROWS": "3", "NCOLS": "4"}


# ----------------------------------------------------------------------------- real files
def test_srdb_v5_reads_none_literally(mirror_dir):
    frame = readers.read_srdb("v5")
    assert len(frame) == 10366
    assert int(frame["Rs_annual"].notna().sum()) == 5741
    assert (frame["Manipulation"] == "None").sum() > 6000


def test_srdb_unknown_version_is_refused():
    with pytest.raises(ValueError, match="SRDB version"):
        readers.read_srdb("v4")


def test_worldclim_and_udel_and_koppen_are_plausible(mirror_dir):
    tmean = readers.read_worldclim_monthly_05("tmean")
    assert tmean.shape == (12, 360, 720)
    # July is warmer than January in Paris, colder in Buenos Aires
    paris = tmean.sel(lat=48.75, lon=2.25)
    assert float(paris.sel(month=7)) > float(paris.sel(month=1)) + 10
    ba = tmean.sel(lat=-34.75, lon=-58.25)
    assert float(ba.sel(month=1)) > float(ba.sel(month=7))
    udel = readers.read_udel_climate_05()
    assert 8 < float(udel["mat_c"].sel(lat=48.75, lon=2.25)) < 14
    koppen = readers.read_koppen_05()
    assert str(koppen.sel(lat=48.75, lon=2.25).item()) == "Cfb"
    assert str(koppen.sel(lat=0.25, lon=-30.25).item()) == ""


def test_land_fraction_orientation(mirror_dir):
    frac = readers.read_land_fraction_05()
    assert float(frac.sel(lat=0.25, lon=20.25)) == pytest.approx(1.0)  # Congo basin
    assert float(frac.sel(lat=0.25, lon=-30.25)) == 0.0  # Atlantic
    assert float(frac.sel(lat=-80.25, lon=0.25)) == pytest.approx(1.0)  # Antarctica


def test_filter_mgrsd_counts_steps():
    frame = pd.DataFrame({"Rs_Norm": [1.0, np.nan, 2.0, 3.0, 40.0, 0.0],
                          "Measure_Month": [1, 2, 13, 4, 5, 6],
                          "Latitude": [10.0, 10.0, 10.0, -95.0, 10.0, 10.0],
                          "Longitude": [20.0] * 6})
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
