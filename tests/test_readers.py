"""Readers: aggregation and land-cover majority on tiny inputs, then the real files.

The last tests read the real files and need the offline mirror (``mirror_dir`` fixture).
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from globalrs.sources import readers


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
