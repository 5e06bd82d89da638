"""The tables of the Rh chapter (globalrs.process_models.rhscores), each against a computation by hand on inputs the test makes.

The last test reads the book's real benchmark (cached builds; skipped without the offline mirror).
"""

from __future__ import annotations

import types

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy.stats import kendalltau

from globalrs.core.grid import cell_area_m2
from globalrs.estimates import rh
from globalrs.process_models import benchmark, rhscores
from globalrs.sources import readers

LAT = np.arange(-60.0, 60.0, 10.0) + 5.0  # 12 rows
LON = np.arange(-180.0, 180.0, 15.0) + 7.5  # 24 columns
COORDS = {"lat": LAT, "lon": LON}
SHAPE = (LAT.size, LON.size)
G_PER_PG = 1e15


def _field(values, units: str | None = "g C m-2 yr-1") -> xr.DataArray:
    return xr.DataArray(np.asarray(values, float), dims=("lat", "lon"), coords=COORDS, attrs={"units": units} if units else {})


def _members(values: np.ndarray, names=None, units: str = "g C m-2 yr-1") -> xr.DataArray:
    names = names or [f"m{i}" for i in range(values.shape[0])]
    return xr.DataArray(values, dims=("member", "lat", "lon"), coords={"member": names, **COORDS}, attrs={"units": units})


def _land(seed: int = 0):
    rng = np.random.default_rng(seed)
    area = cell_area_m2(LAT, LON)
    fraction = _field(rng.uniform(0.3, 1.0, SHAPE), units=None)
    mask = _field(np.ones(SHAPE), units=None).astype(bool)
    mask[0, :] = False  # an "Antarctic" row outside the land mask
    return area, fraction, mask


def _sum_pg(flux: np.ndarray, weight: np.ndarray, cells: np.ndarray) -> float:
    """Flux x weight summed cell by cell over ``cells``, in Pg."""
    return sum(flux[i, j] * weight[i, j] for i, j in zip(*np.nonzero(cells), strict=True)) / G_PER_PG


def test_direct_route_table_totals_each_member_and_reads_its_scores():
    area, fraction, mask = _land()
    rng = np.random.default_rng(1)
    rs_vals = rng.uniform(400, 1200, (3, *SHAPE))
    rh_vals = rs_vals * rng.uniform(0.4, 0.8, (3, 1, 1))
    base = {"land_mask": mask, "cell_area_m2": area, "land_fraction": fraction}
    rs_ens = xr.Dataset({"rs_annual": _members(np.where(mask, rs_vals, np.nan)), **base})
    rh_ens = xr.Dataset(
        {"rh_annual": _members(np.where(mask, rh_vals, np.nan)), **base},
        coords={"method_family": ("member", ["a", "b", "b"])},
    )
    boot = rng.normal(50, 5, (3, 40))
    names = ["m0", "m1", "m2"]
    evaluation = xr.Dataset(
        {
            "bootstrap_total": (("member", "boot"), boot),
            "cv_score": (("member", "score"), rng.uniform(0, 1, (3, 3))),
        },
        coords={"member": names, "score": ["rmse", "r2", "bias"]},
    )
    table = rhscores.direct_route_table(rh_ens, rs_ens, evaluation)
    weight = (area * fraction).values
    for k, name in enumerate(names):
        rh_pg = _sum_pg(rh_vals[k], weight, mask.values)
        rs_pg = _sum_pg(rs_vals[k], weight, mask.values)
        assert table.loc[name, "Rh total (Pg C yr-1)"] == pytest.approx(rh_pg, rel=1e-10)
        assert table.loc[name, "Rh/Rs"] == pytest.approx(rh_pg / rs_pg, rel=1e-10)
        assert table.loc[name, "bootstrap 2.5%"] == pytest.approx(np.quantile(boot[k], 0.025))
        assert table.loc[name, "CV R2"] == evaluation["cv_score"].values[k, 1]
    assert table["method family"].tolist() == ["a", "b", "b"]


def test_ratio_models_table_weights_by_land_and_reads_the_bootstrap():
    area, fraction, mask = _land(2)
    land = area * fraction
    rng = np.random.default_rng(3)
    names = list(rh.RATIO_MODELS)
    values = rng.uniform(0.3, 0.9, (len(names), *SHAPE))
    values[:, ~mask.values] = np.nan  # the ratio maps cover the land mask only
    ratio = _members(values, names, units="1")
    boot = pd.DataFrame(rng.normal(55, 3, (len(names), 30)), index=names)
    table = rhscores.ratio_models_table(ratio, boot, land, mask)
    w = land.values
    for k, name in enumerate(names):
        expected = _sum_pg(values[k], w, mask.values) / _sum_pg(np.ones(SHAPE), w, mask.values)
        assert table.loc[name, "area-weighted mean ratio"] == pytest.approx(expected, rel=1e-10)
        assert table.loc[name, "ratio max"] == pytest.approx(np.nanmax(values[k]))
        assert table.loc[name, "bootstrap 97.5% (Pg C yr-1)"] == pytest.approx(np.quantile(boot.loc[name], 0.975))
    assert table["ratio model"].tolist() == list(rh.RATIO_MODELS.values())


def test_root_contribution_summary_counts_the_gap_by_hand():
    area, fraction, mask = _land(4)
    land = area * fraction
    rng = np.random.default_rng(5)
    rc_vals = rng.uniform(0.2, 0.7, SHAPE)
    gap_cells = [(3, 3), (3, 4), (5, 10), (0, 0)]  # (0, 0) is outside the land mask: not in the gap
    for i, j in gap_cells:
        rc_vals[i, j] = np.nan
    rc = xr.Dataset({"rc": _field(rc_vals, None), "rc_sd": _field(rng.uniform(0.05, 0.2, SHAPE), None)})
    barren = list(readers.LANDCOVER_GROUPS).index("barren")
    lc_vals = np.zeros(SHAPE, int)
    lc_vals[3, 3] = barren
    rs_mean = _field(rng.uniform(300, 1000, SHAPE))
    out = rhscores.root_contribution_summary(rc, rs_mean, _field(lc_vals, None), land, mask)["root contribution map"]
    gap = np.isnan(rc_vals) & mask.values
    assert out["land-mask cells without RC"] == 3
    assert out["of those cells, barren (%)"] == pytest.approx(100 / 3)
    w = land.values
    assert out["land area without RC (%)"] == pytest.approx(100 * w[gap].sum() / w[mask.values].sum())
    rsw = rs_mean.values * w
    assert out["Rs (ensemble mean) in those cells (%)"] == pytest.approx(100 * rsw[gap].sum() / rsw[mask.values].sum())
    assert out["RC min"] == pytest.approx(np.nanmin(rc_vals))
    assert out["cells with RC"] == np.isfinite(rc_vals).sum()


def test_root_contribution_totals_are_sums_over_the_rc_cells():
    area, fraction, mask = _land(6)
    land = area * fraction
    rng = np.random.default_rng(7)
    rs_vals = rng.uniform(400, 1200, (2, *SHAPE))
    rs = _members(np.where(mask, rs_vals, np.nan))
    rc = xr.Dataset({"rc": _field(np.full(SHAPE, 0.4), None), "rc_sd": _field(np.full(SHAPE, 0.1), None)})
    rc["rc"][4, 4] = np.nan
    route2 = rh.rh_from_root_contribution(rs, rc, z=1.0)
    rc_mask = mask & rc["rc"].notnull()
    table = rhscores.root_contribution_totals(route2, rs, land, rc_mask)
    for k, name in enumerate(["m0", "m1"]):
        rs_pg = _sum_pg(rs_vals[k], land.values, rc_mask.values)
        assert table.loc[name, "Rs on the same cells"] == pytest.approx(rs_pg, rel=1e-10)
        assert table.loc[name, "Rh = Rs x (1 - RC)"] == pytest.approx(0.6 * rs_pg, rel=1e-10)
        assert table.loc[name, "Rs x (1 - RC - SD)"] == pytest.approx(0.5 * rs_pg, rel=1e-10)
        assert table.loc[name, "Rs x (1 - RC + SD)"] == pytest.approx(0.7 * rs_pg, rel=1e-10)


def _halves() -> xr.DataArray:
    weights = xr.DataArray(np.zeros((2, *SHAPE)), dims=("region", "lat", "lon"), coords={"region": ["WEST", "EAST"], **COORDS})
    weights[0, :, LON < 0] = 1.0
    weights[1, :, LON >= 0] = 1.0
    return weights


def test_regional_route_totals_split_each_route_mean_into_regions():
    area, fraction, mask = _land(8)
    land = area * fraction
    keys = list(rh.ROUTES)
    level = {key: 200.0 * (k + 1) for k, key in enumerate(keys)}
    values = np.stack([np.full(SHAPE, level[key]) for key in keys for _ in range(2)])
    members = _members(values, [f"{key}:{i}" for key in keys for i in range(2)])
    members = members.assign_coords(route=("member", [key for key in keys for _ in range(2)]))
    route_means, table = rhscores.regional_route_totals(members, _halves(), land, mask)
    west = mask.values & (LON < 0)[None, :]
    for key in keys:
        assert table.loc["WEST", key] == pytest.approx(_sum_pg(np.full(SHAPE, level[key]), land.values, west), rel=1e-10)
        assert table.loc["sum of regions", key] == pytest.approx(table.loc[["WEST", "EAST"], key].sum())
    assert table.loc["EAST", "max/min across routes"] == pytest.approx(level[keys[-1]] / level[keys[0]])
    assert np.isnan(table.loc["sum of regions", "max/min across routes"])
    assert float(route_means.sel(route=keys[1])[5, 5]) == level[keys[1]]


def test_rh_above_rs_holds_each_member_against_its_own_rs():
    area, fraction, mask = _land(9)
    land = area * fraction
    rs = _members(np.stack([np.full(SHAPE, 800.0), np.full(SHAPE, 1000.0)]), ["a", "b"])
    direct = rs * 0.5
    direct[0, 2, :] = 900.0  # member a above its own Rs (800) on row 2, below member b's Rs
    ratio = _members(np.stack([np.full(SHAPE, 900.0)]), ["b-ratio"]).assign_coords(rs_member=("member", ["b"]))
    rc = rs * 0.6  # route 2 members carry the names of their Rs members
    models = xr.DataArray(np.full((1, *SHAPE), 950.0), dims=("model", "lat", "lon"), coords={"model": ["M"], **COORDS})
    group = pd.Series({"M": "CMIP6"})
    ens = xr.Dataset({"rs_annual": rs})
    maps = {"standardized": direct, "ratio": ratio, "root_contribution": rc}
    out = rhscores.rh_above_rs_table(maps, ens, models, group, land, mask)
    assert out["route or group"].tolist() == ["standardized"] * 2 + ["ratio"] + ["root_contribution"] * 2 + ["CMIP6"]
    assert (out.loc[out["route or group"] == "root_contribution", "land with Rh > Rs (%)"] == 0).all()
    table = out.drop_duplicates("map").set_index("map")["land with Rh > Rs (%)"]
    w = land.values
    row2 = np.zeros(SHAPE, bool)
    row2[2, :] = True
    assert table["a"] == pytest.approx(100 * w[row2 & mask.values].sum() / w[mask.values].sum())
    assert table["b"] == 0.0 and table["b-ratio"] == 0.0  # the ratio member against Rs member b (1000), not a
    assert table["M"] == 100.0  # 950 against the Rs mean (900) everywhere


def test_rh_rs_ratio_table_rows_from_their_sources(monkeypatch):
    monkeypatch.setattr(rh, "bl2018_site_ratio", lambda: {"median": 0.6, "q25": 0.5, "q75": 0.7, "n_records": 42})
    direct = pd.Series({"a": 40.0, "b": 60.0})
    rs_totals = pd.Series({"a": 80.0, "b": 100.0})
    ratio_totals = pd.Series({"r1": 45.0, "r2": 63.0})
    totals = pd.DataFrame(
        {"total_pg": [50.0, 45.0], "Rh/Rs": [0.55, 0.5], "interval_low_pg": [40.0, np.nan], "interval_high_pg": [60.0, np.nan]},
        index=["root_contribution", "cardamom"],
    )
    comparison = types.SimpleNamespace(totals=totals, rs_common_pg=pd.Series([80.0, 120.0]))
    rc = xr.Dataset({"rc": _field(np.full(SHAPE, 0.4), None)})
    table = rhscores.rh_rs_ratio_table(direct, rs_totals, ratio_totals, comparison, rc, _field(np.ones(SHAPE)))
    row = {key: table.loc[label] for key, label in rhscores.RATIO_SOURCES.items()}
    assert list(table.index) == list(rhscores.RATIO_SOURCES.values())
    assert row["members"][["Rh/Rs", "low", "high"]].tolist() == pytest.approx([0.55, 0.5, 0.6])
    assert row["root_contribution"][["Rh/Rs", "low", "high"]].tolist() == pytest.approx([0.55, 0.4, 0.6])
    assert row["bl2018_sites"]["kind"] == "computed from their data (42 records)"
    assert row["jian_map"]["Rh/Rs"] == pytest.approx(0.6) and row["jian_map_rs_weighted"]["Rh/Rs"] == pytest.approx(0.6)
    assert row["ratio_members"][["Rh/Rs", "low", "high"]].tolist() == pytest.approx([54 / 90, 45 / 90, 63 / 90])
    assert np.isnan(row["cardamom"]["low"])


def test_route_skill_table_marks_the_routes_that_enter():
    index = pd.MultiIndex.from_tuples(
        [(r, m) for r in ("standardized", "ratio") for m in ("x", "y", "route mean")], names=["route", "member"]
    )
    skill = pd.DataFrame(
        {"r2": [0.1, 0.3, 0.2, 0.05, 0.15, 0.12], "rmse": np.arange(6.0), "bias": -np.arange(6.0), "n_records": 9}, index=index
    )
    table = rhscores.route_skill_table(skill, ["ratio"])
    assert table.loc["standardized", "R2 (route mean)"] == 0.2
    assert table.loc["ratio", ["member R2 min", "member R2 max"]].tolist() == [0.05, 0.15]
    assert table["enters the reference"].tolist() == [False, True]
    assert table["candidate"].tolist() == [k in rh.REFERENCE_CANDIDATES for k in ("standardized", "ratio")]


def test_describe_benchmark_files_reads_back_what_was_exported(tmp_path):
    rng = np.random.default_rng(10)
    values = rng.uniform(300, 900, (3, *SHAPE))
    values[1, 2, 3] = np.nan  # one cell with fewer members
    paths = {}
    for variable in ("rs", "rh"):
        ds = benchmark.make_benchmark_dataset(
            _members(values), variable, (2001, 2010), title="t", source="s", references="r", license="CC0-1.0", provenance={}
        )
        paths[variable] = benchmark.export_benchmark(ds, tmp_path / f"{variable}.nc")
    table = rhscores.describe_benchmark_files(paths)
    assert list(table.index) == ["rs.nc", "rh.nc"]
    assert table.loc["rh.nc", "members"] == 3 and table.loc["rh.nc", "cells with fewer members"] == 1
    assert table.loc["rh.nc", "time bounds"] == "2001-01-01 to 2011-01-01"
    assert table.loc["rs.nc", "units"] == "kg m-2 s-1" and table.loc["rs.nc", "license"] == "CC0-1.0"
    assert table.attrs["conventions"] == "CF-1.8" and set(table.attrs["periods"]) == {"rs", "rh"}


def test_regional_drivers_average_the_cmip_models_only():
    rows = []
    scores = {"A": {"None": 0.8, "WEST": 0.9, "EAST": 0.5}, "B": {"None": 0.6, "WEST": 0.7, "EAST": 0.3}, "L": {"None": 0.1}}
    bias = {"A": {"None": 0.1, "WEST": -1.0, "EAST": 2.0}, "B": {"None": 0.1, "WEST": -3.0, "EAST": 1.0}}
    for name, table in (("Overall Score [1]", scores), ("Bias [g m-2 d-1]", bias)):
        for model, by_region in table.items():
            rows += [{"source": model, "region": r, "name": name, "value": v} for r, v in by_region.items()]
    scalars = pd.DataFrame(rows)
    group = pd.Series({"A": "CMIP6", "B": "CMIP5", "L": "soil-carbon model"})
    area, fraction, mask = _land(11)
    land = area * fraction
    ref = _field(np.full(SHAPE, 500.0))
    reg, drivers = rhscores.regional_score_drivers(scalars, group, ref, _halves(), land, mask)
    assert list(drivers.index) == ["EAST", "WEST"]  # lowest mean CMIP score first; "global" left out
    assert drivers.loc["EAST", "mean overall score (CMIP models)"] == pytest.approx(0.4)
    assert drivers.loc["WEST", "mean bias (CMIP models)"] == pytest.approx(-2.0)
    assert drivers.loc["EAST", "lowest model"] == "B"
    west = mask.values & (LON < 0)[None, :]
    share = 100 * land.values[west].sum() / land.values[mask.values].sum()
    assert drivers.loc["WEST", "share of the reference's Rh (%)"] == pytest.approx(share, rel=1e-10)
    assert reg.loc["A", "global"] == 0.8


def test_relationship_table_tau_is_kendalls():
    relationship = pd.Series({"A": 0.9, "B": 0.5, "C": 0.7, "D": 0.2})
    overall = pd.Series({"A": 0.6, "B": 0.7, "C": 0.5, "D": 0.4, "E": 0.9})
    group = pd.Series({"A": "CMIP6", "B": "CMIP5", "C": "CMIP6", "D": "CMIP5", "E": "CMIP6"})
    table, tau = rhscores.relationship_table(relationship, overall, group)
    assert list(table.index) == ["A", "C", "B", "D"]
    assert tau == pytest.approx(kendalltau(relationship.sort_index(), overall[relationship.index].sort_index()).statistic)
    assert table.loc["B", "overall score (bias, spatial)"] == 0.7


def test_member_sd_ratio_on_the_cells_every_member_covers():
    rng = np.random.default_rng(12)
    values = rng.uniform(300, 900, (3, *SHAPE))
    values[2, :, :3] = np.nan  # member m2 misses three columns: nobody is counted there
    members = _members(values)
    mean = members.mean("member")
    out = rhscores.member_sd_ratio(members, mean)
    ref_sd = np.std(mean.values[:, 3:])
    for k in range(3):
        assert out[f"m{k}"] == pytest.approx(np.std(values[k][:, 3:]) / ref_sd, rel=1e-10)


def test_the_benchmark_keeps_what_it_was_built_from(rh_benchmark):
    """load_rh_benchmark's reference is its skilful routes' members, with the statistics it exported."""
    bench = rh_benchmark
    assert bench.routes == benchmark.reference_routes(bench.skill)
    assert list(dict.fromkeys(bench.members["route"].values)) == bench.routes
    xr.testing.assert_identical(bench.statistics, benchmark.route_statistics(bench.members))
    with xr.open_dataset(bench.path) as f:
        assert int(f["rh_n"].max()) == int(bench.statistics["n"].max())
