"""Tests for globalrs.sources.timeseries: readers on tiny files written by the tests, and the forcing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from globalrs.estimates import forcing
from globalrs.process_models import cmip6
from globalrs.sources import timeseries as ts


def test_read_isimip2a_converts_g_to_pg(tmp_path):
    path = tmp_path / "rh.csv"
    path.write_text("year,m1,m2\n1971,5.24E+16,4.00E+16\n1972,5.30E+16,4.10E+16\n")
    out = ts.read_isimip2a_global_rh(path)
    assert list(out.columns) == ["model", "year", "rh_pg_c_yr"]
    assert len(out) == 4
    row = out[(out.model == "m1") & (out.year == 1971)]
    assert row.rh_pg_c_yr.item() == pytest.approx(52.4)
    assert out[(out.model == "m2") & (out.year == 1972)].rh_pg_c_yr.item() == pytest.approx(41.0)


def test_read_isimip2a_rejects_values_already_in_pg(tmp_path):
    path = tmp_path / "rh.csv"
    path.write_text("year,m1\n1971,52.4\n")
    with pytest.raises(ValueError, match="g C yr-1"):
        ts.read_isimip2a_global_rh(path)


def test_read_lei2021_renames_with_units(tmp_path):
    path = tmp_path / "lei.csv"
    path.write_text(
        '"","rs_mean","rs_sd","year","rh_mean","rh_sd","AT"\r\n'
        '"1987",85.1,10.0,1987,48.5,10.0,14.01\r\n"1988",86.2,10.0,1988,48.7,10.0,14.14\r\n'
    )
    out = ts.read_lei2021(path)
    assert out.year.tolist() == [1987, 1988]
    assert out.rs_pg_c_yr.tolist() == [85.1, 86.2]
    assert out.air_temperature_c.iloc[1] == pytest.approx(14.14)


def test_read_lei2021_missing_column(tmp_path):
    path = tmp_path / "lei.csv"
    path.write_text("year,rs_mean\n1987,85\n")
    with pytest.raises(ValueError, match="missing"):
        ts.read_lei2021(path)


def _berkeley_text(last_year_months: int) -> str:
    lines = ["% Berkeley comment", "% Year, Month, Anomaly, Unc."]
    for m in range(1, 13):
        lines.append(f"  2000 {m:5d}   {m / 10:.3f}  0.050   NaN NaN")
    for m in range(1, last_year_months + 1):
        lines.append(f"  2001 {m:5d}   1.000  0.050   NaN NaN")
    return "\r".join(lines) + "\r"  # old-Mac line endings


def test_berkeley_annual_keeps_complete_years_only(tmp_path):
    path = tmp_path / "b.txt"
    path.write_text(_berkeley_text(last_year_months=9))
    monthly = ts.read_berkeley_land_monthly(path)
    assert len(monthly) == 21
    annual = ts.read_berkeley_land_annual(path)
    assert annual.year.tolist() == [2000]
    assert annual.tas_anomaly_c.item() == pytest.approx(np.mean(np.arange(1, 13) / 10))


def test_berkeley_annual_drops_year_with_nan_month(tmp_path):
    text = _berkeley_text(last_year_months=12).replace("2001     5   1.000", "2001     5     NaN")
    path = tmp_path / "b.txt"
    path.write_text(text)
    assert ts.read_berkeley_land_annual(path).year.tolist() == [2000]


def test_read_gistemp_skips_missing_annual(tmp_path):
    path = tmp_path / "g.csv"
    head = "Land-Ocean: Global Means\nYear,Jan,Feb,Mar,Apr,May,Jun,Jul,Aug,Sep,Oct,Nov,Dec,J-D,D-N,DJF,MAM,JJA,SON\n"
    body = "2017,1,1,1,1,1,1,1,1,1,1,1,1,1.14,1,1,1,1,1\n2018,1,1,1,1,1,1,1,1,***,***,***,***,***,***,1,1,1,***\n"
    path.write_text(head + body)
    out = ts.read_gistemp("GLB", path)
    assert out.year.tolist() == [2017]
    assert out.tas_anomaly_c.item() == pytest.approx(1.14)
    with pytest.raises(ValueError):
        ts.read_gistemp("XX", path)


def _zone_file(tmp_path, zones=("A", "B")):
    lines = ["Year,Decades,MiddleClimate,Tm,Pm,Model_PJ4,Rs_Annomaly,Tm_Annomaly,Pm_Annomaly"]
    for z, dt in zip(zones, (0.5, -1.0), strict=True):
        lines.append(f"1990,1990s,{z},20,100,1,0,{dt},{10 * dt}")
        lines.append(f"1991,1990s,{z},20,100,1,0,{-dt},{-10 * dt}")
    path = tmp_path / "z.csv"
    path.write_bytes("\r".join(lines).encode("latin-1"))
    return path


def test_read_zone_series_and_unknown_zone(tmp_path):
    out = ts.read_zone_climate_series(_zone_file(tmp_path))
    assert set(out.zone) == {"A", "B"}
    assert out[(out.zone == "B") & (out.year == 1990)].tm_anomaly_c.item() == -1.0
    with pytest.raises(ValueError, match="unknown zone"):
        ts.read_zone_climate_series(_zone_file(tmp_path, zones=("A", "Q")))


@pytest.mark.parametrize(
    "cls,zone",
    [
        ("Af", "A"),
        ("BWh", "B"),
        ("Cfa", "Cf"),
        ("Csb", "Cs"),
        ("Cwa", "Cw"),
        ("Dfc", "Df"),
        ("Dsa", "Dsw"),
        ("Dwb", "Dsw"),
        ("ET", "E"),
        ("EF", "E"),
        ("", None),
        (np.nan, None),
        ("Ocean", None),
        ("D", None),
    ],
)
def test_zone_from_koppen_class(cls, zone):
    assert forcing.zone_from_koppen_class(cls) == zone


def test_build_year_climate_adds_zone_anomaly(tmp_path):
    zone_series = ts.read_zone_climate_series(_zone_file(tmp_path))
    classes = xr.DataArray(np.array([["Af", "BWh"], ["", "Xx"]], dtype=object), dims=("lat", "lon"))
    zones, n_bad = forcing.assign_koppen_zones(classes)
    assert n_bad == 1  # "Xx" has a class but no zone
    tmean = np.full((12, 2, 2), 10.0)
    prec = np.full((12, 2, 2), 5.0)
    tmean[:, 1, 0] = np.nan  # ocean
    prec[:, 1, 0] = np.nan
    clim = xr.Dataset({"tmean_c": (("month", "lat", "lon"), tmean), "prec_mm_month": (("month", "lat", "lon"), prec)})
    out, counts = forcing.build_year_climate(clim, zones, zone_series, 1990, precip_mode="additive")
    assert out.tmean_c.values[0, 0, 0] == pytest.approx(10.5)  # zone A +0.5
    assert out.tmean_c.values[0, 0, 1] == pytest.approx(9.0)  # zone B -1.0
    assert out.tmean_c.values[0, 1, 1] == pytest.approx(10.0)  # no zone: climatology
    assert out.prec_mm_month.values[0, 0, 0] == pytest.approx(10.0)  # 5 + 5
    assert out.prec_mm_month.values[0, 0, 1] == 0.0  # 5 - 10 clipped
    assert np.isnan(out.prec_mm_month.values[0, 1, 0])
    assert counts == {"cells_without_zone": 1, "prec_cell_months_clipped": 12}
    with pytest.raises(ValueError, match="year"):
        forcing.build_year_climate(clim, zones, zone_series, 1800)
    # ratio mode: zone A 1990 has Pm 100 and anomaly +5 (mean 95); zone B anomaly -10 (mean 110)
    out, counts = forcing.build_year_climate(clim, zones, zone_series, 1990)
    assert out.prec_mm_month.values[3, 0, 0] == pytest.approx(5.0 * 100 / 95)
    assert out.prec_mm_month.values[3, 0, 1] == pytest.approx(5.0 * 100 / 110)
    assert out.tmean_c.values[0, 0, 1] == pytest.approx(9.0)
    assert counts["prec_cell_months_clipped"] == 0
    with pytest.raises(ValueError, match="precip_mode"):
        forcing.build_year_climate(clim, zones, zone_series, 1990, precip_mode="x")


def test_clipping_count_without_fields_equals_the_built_years(tmp_path):
    zone_series = ts.read_zone_climate_series(_zone_file(tmp_path))
    rng = np.random.default_rng(3)
    classes = xr.DataArray(rng.choice(np.array(["Af", "BWh", "", "Cfa"], dtype=object), size=(6, 8)), dims=("lat", "lon"))
    zones, _ = forcing.assign_koppen_zones(classes)
    prec = rng.uniform(0, 20, size=(12, 6, 8))  # dry and wet months: some go below zero, some not
    prec[:, 0, 0] = np.nan
    clim = xr.Dataset(
        {
            "tmean_c": (("month", "lat", "lon"), rng.uniform(-5, 25, size=(12, 6, 8))),
            "prec_mm_month": (("month", "lat", "lon"), prec),
        }
    )
    index = forcing.index_zones(zones)
    for mode in ("additive", "ratio"):
        counted = forcing.count_clipped_cell_months(clim, zones, zone_series, [1990, 1991], precip_mode=mode)
        for year in (1990, 1991):
            built, counts = forcing.build_year_climate(clim, zones, zone_series, year, precip_mode=mode)
            assert counted[year] == counts["prec_cell_months_clipped"]
            again, counts_again = forcing.build_year_climate(clim, zones, zone_series, year, mode, zone_index=index)
            xr.testing.assert_identical(built, again)
            assert counts_again == counts
    # by hand, cell by cell: zone A's 1990 anomaly is +5 mm month-1, zone B's -10 (the zone file)
    anomaly_1990 = {"A": 5.0, "B": -10.0}
    by_hand = sum(
        int(np.sum(prec[:, i, j] + anomaly_1990[z] < 0))
        for (i, j), z in np.ndenumerate(np.asarray(zones.values, dtype=object))
        if z in anomaly_1990
    )
    assert by_hand > 0  # some months do go below zero
    assert forcing.count_clipped_cell_months(clim, zones, zone_series, [1990])[1990] == by_hand
    with pytest.raises(ValueError, match="zones grid"):
        forcing.count_clipped_cell_months(clim, zones.isel(lat=slice(0, 2)), zone_series, [1990])
    with pytest.raises(ValueError, match="zone_index grid"):
        forcing.build_year_climate(clim, zones, zone_series, 1990, zone_index=forcing.index_zones(zones.isel(lat=slice(0, 2))))


def test_run_members_by_year_totals(tmp_path):
    zone_series = ts.read_zone_climate_series(_zone_file(tmp_path))
    zones = xr.DataArray(np.array([["A", "A"]], dtype=object), dims=("lat", "lon"))
    clim = xr.Dataset(
        {
            "tmean_c": (("month", "lat", "lon"), np.full((12, 1, 2), 10.0)),
            "prec_mm_month": (("month", "lat", "lon"), np.full((12, 1, 2), 50.0)),
        }
    )
    area = xr.DataArray(np.array([[1e15, 2e15]]), dims=("lat", "lon"))

    def predict(member, climate):
        # Rs (g C m-2 yr-1) = member * mean temperature
        return (member * climate.tmean_c.mean("month")).assign_attrs(units="g C m-2 yr-1")

    out = forcing.run_members_by_year({"x": 1.0, "y": 2.0}, predict, clim, zones, zone_series, [1990, 1991], area)
    # 1990: T = 10.5 -> x total = 10.5 * 3e15 / 1e15 = 31.5 Pg
    got = out.set_index(["member", "year"]).rs_pg_c_yr
    assert got[("x", 1990)] == pytest.approx(31.5)
    assert got[("y", 1991)] == pytest.approx(2 * 9.5 * 3)


def test_real_isimip2a_file(mirror_dir):
    out = ts.read_isimip2a_global_rh()
    assert out.model.nunique() == 8
    assert out.year.min() == 1971 and out.year.max() == 2010
    assert out.rh_pg_c_yr.between(30, 80).all()


def test_zone_area_weighted_anomaly(tmp_path):
    zone_series = ts.read_zone_climate_series(_zone_file(tmp_path))
    # the test file has zones A and B only; add the other six with zero anomalies
    extra = pd.DataFrame(
        [
            {"year": y, "zone": z, "tm_c": 0.0, "pm_mm_month": 0.0, "tm_anomaly_c": 0.0, "pm_anomaly_mm_month": 0.0}
            for y in (1990, 1991)
            for z in ts.KOPPEN_ZONES
            if z not in ("A", "B")
        ]
    )
    full = pd.concat([zone_series, extra], ignore_index=True)
    zones = xr.DataArray(np.array([["A", "B", "Cf", ""]], dtype=object), dims=("lat", "lon"))
    area = xr.DataArray(np.array([[1.0, 3.0, 4.0, 100.0]]), dims=("lat", "lon"))
    out = forcing.zone_area_weighted_anomaly(full, zones, area)
    # 1990: A +0.5 (w 1/8), B -1.0 (w 3/8), Cf 0 (w 4/8) -> 0.0625 - 0.375 = -0.3125
    assert out.set_index("year").tas_anomaly_c[1990] == pytest.approx(0.5 / 8 - 3 / 8)
    assert out.attrs["zone_weights"]["Cf"] == pytest.approx(0.5)
    area_nan = area.copy()
    area_nan[0, 2] = np.nan  # Cf cell outside the mask: weights now A 1/4, B 3/4
    out2 = forcing.zone_area_weighted_anomaly(full, zones, area_nan)
    assert out2.set_index("year").tas_anomaly_c[1990] == pytest.approx(0.5 / 4 - 3 / 4)
    with pytest.raises(ValueError, match="missing zones"):
        forcing.zone_area_weighted_anomaly(zone_series, zones, area)


def test_model_mean_rh():
    frame = pd.DataFrame(
        {
            "model": ["m", "m", "m", "n"],
            "member": ["r1", "r2", "r1", "r1"],
            "year": [2000, 2000, 2001, 2000],
            "rh_pg_c_yr": [50.0, 52.0, 53.0, 40.0],
        }
    )
    out = ts.model_mean_rh(frame).set_index(["model", "year"]).rh_pg_c_yr
    assert out[("m", 2000)] == 51.0 and out[("m", 2001)] == 53.0 and out[("n", 2000)] == 40.0


def test_collect_reference_series_real(mirror_dir):
    out = ts.collect_reference_series(cmip6.read_cmip6_annual_rh(experiment="historical"))
    assert set(out.flux) == {"Rs", "Rh"}
    assert out[out.flux == "Rh"].series.str.endswith("(Rh)").all()
    assert out.series.nunique() == 2 + 8 + 8


def test_run_members_by_year_threads_do_not_change_results(tmp_path):
    zone_series = ts.read_zone_climate_series(_zone_file(tmp_path))
    zones = xr.DataArray(np.array([["A", "B"]], dtype=object), dims=("lat", "lon"))
    clim = xr.Dataset(
        {
            "tmean_c": (("month", "lat", "lon"), np.full((12, 1, 2), 10.0)),
            "prec_mm_month": (("month", "lat", "lon"), np.full((12, 1, 2), 50.0)),
        }
    )
    area = xr.DataArray(np.array([[1e15, 2e15]]), dims=("lat", "lon"))

    def predict(member, climate):
        rs = member * climate.tmean_c.mean("month") + climate.prec_mm_month.sum("month") / 100
        return rs.assign_attrs(units="g C m-2 yr-1")

    lines = []
    serial = forcing.run_members_by_year({"x": 1.0}, predict, clim, zones, zone_series, [1991, 1990], area, workers=1)
    threaded = forcing.run_members_by_year(
        {"x": 1.0}, predict, clim, zones, zone_series, [1991, 1990], area, workers=3, progress=lines.append
    )
    pd.testing.assert_frame_equal(serial, threaded)
    assert threaded.year.tolist() == [1991, 1990]  # input order kept
    assert lines == ["year 1991: 1 members done", "year 1990: 1 members done"]

    def bad(member, climate):
        return climate.tmean_c.mean("month").assign_attrs(units="g C m-2 day-1")

    with pytest.raises(ValueError, match="units"):
        forcing.run_members_by_year({"x": 1.0}, bad, clim, zones, zone_series, [1990], area)
