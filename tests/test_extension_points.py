"""The extension points, proven: a toy member, a toy region set and a toy dataset reach the
tables the chapters show through the library functions the chapters call, with no other edit.

What a newcomer adds (the whole "diff" of the toy extension; nothing else changes):

1. A member: one declaration, in ``members.PAPER_MEMBERS`` or from their own code with
   ``members.register`` (here ``members.registered``, which restores the registry)::

       Member(
           name="class_median",
           family="Area x Mean",
           description="median observed Rs per land-cover group",
           fit=fit_class_median,           # FitData -> ({"median_<group>": g C m-2 yr-1}, None)
           predict=predict_class_median,   # (params, None, CellData) -> (n,) g C m-2 yr-1
           covariates=members.landcover_covariates,
           label="Class median",
           color="C7",
       )

2. A region set: one table, ``lib/globalrs/tables/regions_NAME.csv`` or a file of their own
   registered with ``regions.register_region_set`` (here ``registered_region_set``)::

       region,name,priority,continents,lat_min,lat_max,lon_min,lon_max
       N,Toy north,1,Toyland,0,90,-180,180
       S,Toy south,2,Toyland,-90,0,-180,180
       I,Toy isle,3,Toyisle,-90,90,-180,180

3. A dataset: the file in the mirror with its ``MANIFEST.csv`` row (``scripts/build_registry.py
   --manifest-row`` prints it), and one entry in ``SOURCES`` of ``scripts/build_registry.py``::

       "toy": Source("Toy annual Rs records (synthetic, made by a test)", "globalrs tests", "toy2026"),

The tests build everything on a 10-degree synthetic world (no mirror file is read) and check
each table against a second computation that could disagree.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from synthetic import synthetic_obs

from globalrs.core.config import get_mirror_dir
from globalrs.core.exceptions import DataAccessError
from globalrs.core.grid import cell_area_m2, make_grid
from globalrs.core.units import G_PER_PG
from globalrs.estimates import applicability, ensemble, evaluate, members, plausibility
from globalrs.gridding import regions
from globalrs.sources import data, readers

REPO = Path(__file__).resolve().parents[1]
TOY = "class_median"
TOY_REGIONS = """# three toy regions: the set's order is the table's (N, S, I), not the labels' sorted order
region,name,priority,continents,lat_min,lat_max,lon_min,lon_max
N,Toy north,1,Toyland,0,90,-180,180
S,Toy south,2,Toyland,-90,0,-180,180
I,Toy isle,3,Toyisle,-90,90,-180,180
"""


def fit_class_median(data: members.FitData) -> tuple[dict[str, float], None]:
    """Median observed Rs of each land-cover group that has records."""
    groups = np.asarray(data.landcover_group, int)
    rs = np.asarray(data.rs_g_m2_yr, float)
    return {f"median_{readers.LANDCOVER_GROUPS[g]}": float(np.median(rs[groups == g])) for g in np.unique(groups)}, None


def predict_class_median(params: dict[str, float], estimator: None, cells: members.CellData) -> np.ndarray:
    """The median of each cell's group (NaN for a group without records)."""
    table = np.array([params.get(f"median_{g}", np.nan) for g in readers.LANDCOVER_GROUPS])
    return table[np.asarray(cells.landcover_group, int)]


TOY_MEMBER = members.Member(
    name=TOY,
    family="Area x Mean",
    description="median observed Rs per land-cover group",
    fit=fit_class_median,
    predict=predict_class_median,
    covariates=members.landcover_covariates,
    label="Class median",
    color="C7",
)


def toy_world() -> tuple[xr.Dataset, xr.Dataset]:
    """A 10-degree world: land between 50 S and 70 N in three land-cover groups, a seasonal climate."""
    lat, lon = make_grid(10.0)
    rng = np.random.default_rng(3)
    coords = {"lat": lat, "lon": lon}
    land = (lat[:, None] > -50) & (lat[:, None] < 70) & np.ones(lon.size, bool)
    seasonal = 8 * np.sin(np.linspace(0, 2 * np.pi, 12, endpoint=False))[:, None, None]
    tmean = 25 - 0.4 * np.abs(lat)[None, :, None] + seasonal + np.zeros((12, lat.size, lon.size))
    prec = rng.uniform(10, 150, (12, lat.size, lon.size))
    climate = xr.Dataset(
        {"tmean_c": (("month", "lat", "lon"), tmean), "prec_mm_month": (("month", "lat", "lon"), prec)},
        coords={"month": np.arange(1, 13), **coords},
    )
    static = xr.Dataset(
        {
            "landcover_group": (("lat", "lon"), np.where(land, rng.integers(0, 3, land.shape), -1)),
            "land_mask": (("lat", "lon"), land),
            "cell_area_m2": cell_area_m2(lat, lon),
            "land_fraction": (("lat", "lon"), np.where(land, rng.uniform(0.5, 1.0, land.shape), 0.0)),
        },
        coords=coords,
        attrs={"mask_cells_removed_per_step": "{}", "land_mask_rule": "toy: 50 S to 70 N"},
    )
    return static, climate


@pytest.fixture(scope="module")
def world():
    """The toy world, its records and the ensemble fitted with the toy member registered."""
    static, climate = toy_world()
    obs = synthetic_obs(n_sites=80, seed=2)
    steps = pd.DataFrame({"step": ["synthetic"], "n_records": [len(obs)]})
    with members.registered(TOY_MEMBER):
        ds = ensemble.assemble_ensemble(obs, steps, static, climate, "v5", "synthetic")
        cv = evaluate.cross_validate_members(obs, members=(TOY, "area_x_mean"))
        params = {m: json.loads(ds.attrs[f"params_{m}"]) for m in ds["member"].values}
        aoa = applicability.member_aoa(obs, params, climate, static["landcover_group"], ds["land_mask"])
        registered_names = list(ensemble.MEMBERS)
        key_params = members.cache_params()
    return {
        "static": static,
        "climate": climate,
        "obs": obs,
        "ds": ds,
        "cv": cv,
        "aoa": aoa,
        "registered_names": registered_names,
        "key_params": key_params,
    }


def test_the_registry_is_restored_and_the_paper_keys_unchanged(world):
    assert TOY in world["registered_names"] and TOY not in ensemble.MEMBERS
    assert world["key_params"] == {"members": [*world["registered_names"]], "optional": ["temperature_optimum"]}
    assert TOY in world["key_params"]["members"]
    assert members.cache_params() == {}  # the paper's members: the cache keys of before the registry
    with pytest.raises(ValueError, match="already registered"), members.registered(TOY_MEMBER, TOY_MEMBER):
        pass
    assert TOY not in ensemble.MEMBERS


def test_the_toy_member_is_in_the_ensemble_totals_table(world):
    ds = world["ds"]
    assert list(ds["member"].values) == [*ensemble.MEMBERS, TOY]
    # the table of standardized_ensemble (cell "global totals")
    totals = ensemble.ensemble_totals_pg(ds).to_series()
    table = pd.DataFrame({"method family": ds["method_family"].to_series(), "global total (Pg C yr-1)": totals})
    assert table.loc[TOY, "method family"] == "Area x Mean"
    # by hand: each group's median of the records, times the land area of the group's cells
    obs, static = world["obs"], world["static"]
    medians = obs.groupby("landcover_group")["rs_g_m2_yr"].median()
    lc = static["landcover_group"].values
    land = static["land_mask"].values
    weight = (static["cell_area_m2"] * static["land_fraction"]).values
    by_hand = sum(medians[g] * weight[land & (lc == g)].sum() for g in medians.index) / G_PER_PG
    assert table.loc[TOY, "global total (Pg C yr-1)"] == pytest.approx(by_hand, rel=1e-5)
    assert json.loads(ds.attrs["member_descriptions"])[TOY] == TOY_MEMBER.description
    with members.registered(TOY_MEMBER):
        assert members.colors(ds["member"].values)[TOY] == "C7"  # the chapter's figure colours


def test_the_toy_member_is_cross_validated_and_bootstrapped(world):
    cv = world["cv"].set_index("member")
    assert set(cv.index) == {TOY, "area_x_mean"} and cv.loc[TOY, "method_family"] == "Area x Mean"
    # a median of a group differs from its mean: the two members' out-of-fold errors differ
    assert cv.loc[TOY, "rmse"] != pytest.approx(cv.loc["area_x_mean", "rmse"])
    with members.registered(TOY_MEMBER):
        boot = evaluate.bootstrap_totals(world["obs"], world["climate"], world["static"], members=(TOY,), n_boot=2)
    assert list(boot["member"].unique()) == [TOY] and (boot["total_pg_c_yr"] > 0).all()


def test_the_toy_member_has_an_aoa_and_a_plausibility_row(world):
    ds, aoa, static, obs = world["ds"], world["aoa"], world["static"], world["obs"]
    covariates = json.loads(aoa.attrs["covariates"])
    assert covariates[TOY]["covariates"] == [f"lc_{g}" for g in readers.LANDCOVER_GROUPS]
    outside = applicability.outside_aoa_shares(
        ds["rs_annual"], aoa["inside_aoa"], ds["cell_area_m2"], ds["land_fraction"], ds["land_mask"]
    )
    # the same covariates as area x mean, fitted on the same records: the same AOA
    assert outside.loc[TOY, "land_outside_pct"] == outside.loc["area_x_mean", "land_outside_pct"]
    np.testing.assert_array_equal(aoa["inside_aoa"].sel(member=TOY), aoa["inside_aoa"].sel(member="area_x_mean"))
    # plausibility by class: the member's median over a class's cells is the records' median
    classes = plausibility.landcover_classes(static["landcover_group"], readers.LANDCOVER_GROUPS)
    obs_class = np.asarray(readers.LANDCOVER_GROUPS, dtype=object)[obs["landcover_group"].to_numpy(int)]
    order = [readers.LANDCOVER_GROUPS[g] for g in range(3)]
    weight = ds["cell_area_m2"] * ds["land_fraction"]
    table = plausibility.class_plausibility(
        ds["rs_annual"], classes, weight, ds["land_mask"], obs["rs_g_m2_yr"], obs_class, order, min_records=1
    )
    for label in order:
        rows = table[table["class"] == label].set_index("source")
        assert rows.loc[TOY, "median"] == pytest.approx(rows.loc["records", "median"], rel=1e-6)
    summary = plausibility.class_summary(table)
    assert f"median {TOY}" in summary.columns


def toy_fractions(lat: np.ndarray, lon: np.ndarray) -> xr.DataArray:
    """Continent fractions: ``Toyisle`` in the cells east of 150 E, ``Toyland`` everywhere else."""
    isle = np.broadcast_to(lon[None, :] > 150, (lat.size, lon.size)).astype(float)
    return xr.DataArray(
        np.stack([1.0 - isle, isle]),
        dims=("continent", "lat", "lon"),
        coords={"continent": ["Toyland", "Toyisle"], "lat": lat, "lon": lon},
    )


def test_a_toy_region_set_goes_through_the_regional_cv_table(world, tmp_path):
    ds = world["ds"]
    table_csv = tmp_path / "regions_toy.csv"
    table_csv.write_text(TOY_REGIONS)
    lat, lon = ds["lat"].values, ds["lon"].values
    with regions.registered_region_set("toy3", table_csv):
        assert regions.region_order("toy3") == ("N", "S", "I")  # the table's order
        weights = regions.region_weights(lat, lon, fractions=toy_fractions(lat, lon), region_set="toy3")
        names = regions.load_regions("toy3")["name"]
    assert "toy3" not in regions.region_sets()
    area = ds["cell_area_m2"] * ds["land_fraction"]
    # the regional_cv chapter's calls
    totals = regions.regional_totals_pg(ds["rs_annual"], weights, area_m2=area, mask=ds["land_mask"])
    np.testing.assert_allclose(totals.sum("region"), ensemble.ensemble_totals_pg(ds), rtol=1e-5)
    cv = regions.regional_cv(totals, dim="member", n_boot=50, seed=0, cv_threshold=0.25)
    cv_table = names.to_frame().join(cv)
    assert list(cv_table.index) == ["N", "S", "I"] and (cv_table["n_members"] == len(ds["member"])).all()
    numpy_cv = totals.std("member", ddof=1) / totals.mean("member")
    np.testing.assert_allclose(cv_table["cv"], numpy_cv.sel(region=cv_table.index))
    assert (cv_table["exceeds_25pct"] == (cv_table["cv"] > 0.25)).all()
    # the isle (lon > 150 E) holds exactly the cells east of 150 E
    isle_area = area.where(ds["land_mask"] & (ds["lon"] > 150)).sum()
    assert float((weights.sel(region="I") * area).where(ds["land_mask"]).sum()) == pytest.approx(float(isle_area))
    regional_aoa = applicability.regional_aoa_table(ds["rs_annual"], world["aoa"]["inside_aoa"], weights, area, ds["land_mask"])
    assert list(regional_aoa.index) == ["N", "S", "I"]


def load_builder():
    """``scripts/build_registry.py`` as a module."""
    spec = importlib.util.spec_from_file_location("build_registry", REPO / "scripts" / "build_registry.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_toy_dataset_is_registered_by_the_builder_and_fetched_verified(tmp_path, monkeypatch):
    builder = load_builder()
    mirror = tmp_path / "mirror"
    (mirror / "toy").mkdir(parents=True)
    name = "toy/toy_rs.csv"
    (mirror / name).write_text("site,rs_g_m2_yr\na,700\nb,450\n")
    row = builder.manifest_row(mirror, name, "https://example.org/toy_rs.csv", "CC-BY-4.0")
    manifest = mirror / "MANIFEST.csv"
    pd.DataFrame([row]).to_csv(manifest, index=False)
    # the one declared entry
    monkeypatch.setitem(
        builder.SOURCES, "toy", builder.Source("Toy annual Rs records (synthetic, made by a test)", "globalrs tests", "toy2026")
    )
    registry = tmp_path / "registry.csv"
    assert builder.build_registry(manifest, registry) == 1
    monkeypatch.setenv("GLOBALRS_REGISTRY", str(registry))
    monkeypatch.setenv("GLOBALRS_DATA_MIRROR", str(mirror))
    entry = data.get_entry(name)
    assert entry.citation == "globalrs tests" and entry.bibkeys == ("toy2026",)
    path = data.fetch(name)
    assert pd.read_csv(path)["rs_g_m2_yr"].sum() == 1150
    # the same size, one byte changed: refused by the sha256 the builder recorded
    (mirror / name).write_text("site,rs_g_m2_yr\na,701\nb,450\n")
    with pytest.raises(DataAccessError, match="sha256"):
        data.fetch(name)
    # an undeclared folder is refused, not registered without a citation
    monkeypatch.delitem(builder.SOURCES, "toy")
    with pytest.raises(KeyError, match="add it to SOURCES"):
        builder.build_registry(manifest, registry)


def test_the_builder_rebuilds_the_packaged_registry(tmp_path):
    """The committed registry is the builder's output of the mirror's manifest (nothing hand-added)."""
    mirror = get_mirror_dir()
    if mirror is None or not (mirror / "MANIFEST.csv").is_file():
        pytest.skip("no offline mirror with a MANIFEST.csv (GLOBALRS_DATA_MIRROR)")
    out = tmp_path / "registry.csv"
    load_builder().build_registry(mirror / "MANIFEST.csv", out)
    assert out.read_text() == (REPO / "lib" / "globalrs" / "registry.csv").read_text()


def test_bad_declarations_are_refused_and_leave_nothing_registered(tmp_path):
    with pytest.raises(ValueError, match="exactly one of predict"):
        members.Member(TOY, "Area x Mean", "", fit=fit_class_median, covariates=members.landcover_covariates)
    with (
        pytest.raises(ValueError, match="reserved"),
        members.registered(
            members.Member(
                "x_gpp",
                "Area x Mean",
                "",
                fit=fit_class_median,
                predict=predict_class_median,
                covariates=members.landcover_covariates,
            )
        ),
    ):
        pass
    with pytest.raises(ValueError, match="no member named"):
        members.get(TOY)
    with pytest.raises(ValueError, match="exists already"):
        regions.register_region_set("ar6", tmp_path / "missing.csv")
    one_region = tmp_path / "one.csv"
    one_region.write_text("region,name,priority,continents,lat_min,lat_max,lon_min,lon_max\nN,North,1,Toyland,0,90,-180,180\n")
    with pytest.raises(ValueError, match="at least two regions"):
        regions.register_region_set("one", one_region)
    assert "one" not in regions.region_sets()
