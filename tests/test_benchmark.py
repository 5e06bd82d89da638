"""The CF benchmark export stays consumable by ilamb3, and the scores come from ilamb3's analyses.

Every test builds a small ensemble of maps, exports it, opens the file with ilamb3's reference
loader and scores model maps the test makes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pint
import pytest
import xarray as xr

from globalrs.core.exceptions import GridError
from globalrs.estimates import inputs
from globalrs.process_models import benchmark

LAT = np.arange(-60.0, 60.0, 10.0) + 5.0  # 12 rows
LON = np.arange(-180.0, 180.0, 15.0) + 7.5  # 24 columns


def _members(n: int = 4, seed: int = 0) -> xr.DataArray:
    """A smooth positive flux field (g C m-2 yr-1) plus member noise; one ocean cell."""
    rng = np.random.default_rng(seed)
    base = 600 + 400 * np.cos(np.deg2rad(LAT))[:, None] * (1 + 0.3 * np.sin(np.deg2rad(LON)))[None, :]
    values = base[None] * rng.uniform(0.8, 1.2, (n, LAT.size, LON.size))
    values[:, 0, 0] = np.nan
    return xr.DataArray(
        values,
        dims=("member", "lat", "lon"),
        coords={"member": [f"m{i}" for i in range(n)], "lat": LAT, "lon": LON},
        attrs={"units": "g C m-2 yr-1"},
    )


def _export(tmp_path, members: xr.DataArray, variable: str = "rh"):
    ds = benchmark.make_benchmark_dataset(
        members,
        variable,
        (2000, 2009),
        title="test",
        source="made by the test",
        references="none",
        license="CC0-1.0",
        provenance={"inputs": "synthetic"},
    )
    path = benchmark.export_benchmark(ds, tmp_path / f"{variable}_bench.nc")
    return ds, path


def _halves() -> xr.DataArray:
    """Two regions as ``(region, lat, lon)`` weights: WEST (lon < 0) and EAST."""
    weights = xr.DataArray(
        np.zeros((2, LAT.size, LON.size), dtype="float32"),
        dims=("region", "lat", "lon"),
        coords={"region": ["WEST", "EAST"], "lat": LAT, "lon": LON},
    )
    weights[0, :, LON < 0] = 1.0
    weights[1, :, LON >= 0] = 1.0
    return weights


def test_unit_conversion_agrees_with_pint():
    ureg = pint.UnitRegistry()
    by_pint = (1.0 * ureg("g / m**2 / year")).to("kg / m**2 / s").magnitude
    ours = float(benchmark.g_m2_yr_to_kg_m2_s(xr.DataArray(1.0, attrs={"units": "g C m-2 yr-1"})))
    assert ours == pytest.approx(by_pint, rel=1e-12)
    with pytest.raises(ValueError, match="g C m-2 yr-1"):
        benchmark.g_m2_yr_to_kg_m2_s(xr.DataArray(1.0, attrs={"units": "kg C m-2 yr-1"}))


def test_export_is_cf_with_bounds_uncertainty_and_counts(tmp_path):
    members = _members()
    members[1, 3, 4] = np.nan  # one member missing in one cell
    _, path = _export(tmp_path, members)
    with xr.open_dataset(path, decode_times=False) as raw:
        var = raw["rh"]
        assert var.dims == ("time", "lat", "lon") and var.attrs["units"] == "kg m-2 s-1"
        assert var.attrs["standard_name"] == "heterotrophic_respiration_carbon_flux"
        assert var.attrs["cell_methods"].startswith("time: mean")
        assert var.attrs["ancillary_variables"] == "rh_sd"
        assert raw["time"].attrs["bounds"] == "time_bnds" and raw["lat"].attrs["bounds"] == "lat_bnds"
        assert raw["time"].attrs["units"].startswith("days since")
        assert raw.attrs["Conventions"] == "CF-1.8"
        for key in ("license", "references", "source", "history", "provenance", "title"):
            assert raw.attrs[key]
        assert int(raw["rh_n"][3, 4]) == 3 and int(raw["rh_n"][5, 5]) == 4 and int(raw["rh_n"][0, 0]) == 0
    with xr.open_dataset(path) as ds:
        # cf-xarray finds the axes, bounds and standard name from the CF attributes alone
        import cf_xarray  # noqa: F401

        assert {"X", "Y", "T"} <= set(ds.cf.axes)
        assert ds.cf.bounds["lat"] == ["lat_bnds"] and ds.cf.bounds["time"] == ["time_bnds"]
        assert ds.cf["heterotrophic_respiration_carbon_flux"].name == "rh"
        start, end = ds["time_bnds"].values[0]
        assert str(start)[:10] == "2000-01-01" and str(end)[:10] == "2010-01-01"
        # the stored mean and SD are the members' statistics, converted
        expected = members.mean("member").values * 1e-3 / benchmark.SECONDS_PER_YEAR
        np.testing.assert_allclose(ds["rh"].values[0], expected, rtol=1e-6)
        expected_sd = members.std("member", ddof=1).values * 1e-3 / benchmark.SECONDS_PER_YEAR
        np.testing.assert_allclose(ds["rh_sd"].values, expected_sd, rtol=1e-5)


def test_ilamb3_reads_the_export_and_scores_model_maps(tmp_path):
    members = _members()
    _, path = _export(tmp_path, members)
    ref = benchmark.load_reference(path, "rh")
    mean = members.mean("member").assign_attrs(units="g C m-2 yr-1")
    perfect, _, _ = benchmark.score_map(ref, benchmark.comparison_dataset(mean, ref, "rh"), "rh")
    scores = perfect[perfect["type"] == "score"].set_index("name")["value"]
    assert scores["Bias Score [1]"] == pytest.approx(1.0)
    assert scores["Spatial Distribution Score [1]"] == pytest.approx(1.0)
    assert scores["Overall Score [1]"] == pytest.approx(1.0)
    # a map twice too high scores lower; a map with the right level but no pattern scores lower in space
    maps = (
        xr.concat([mean * 2.0, xr.full_like(mean, float(mean.mean())) + 1e-3 * mean, mean], dim="model")
        .assign_coords(model=["double", "flat", "same"])
        .assign_attrs(units="g C m-2 yr-1")
    )
    scalars, outputs = benchmark.score_maps(ref, maps, "rh")
    table = benchmark.score_table(scalars)
    assert table.index[0] == "same" and set(table.index) == {"double", "flat", "same"}
    assert table.loc["double", "Bias Score [1]"] < table.loc["flat", "Bias Score [1]"] < 1.0
    assert table.loc["flat", "Spatial Distribution Score [1]"] < table.loc["double", "Spatial Distribution Score [1]"]
    # the ilamb3 bias map is model minus reference, in the reference's units
    bias = outputs["double"]["bias"]
    assert float(bias.mean()) == pytest.approx(float(ref["rh"].mean()), rel=0.05)


def test_the_spread_is_used_as_the_reference_uncertainty(tmp_path):
    narrow = _members(seed=1)
    # the same mean with a much wider spread: add and subtract a large offset around it
    mean = narrow.mean("member")
    wide = xr.concat([mean * 0.2, mean * 1.8], dim="member").assign_coords(member=["lo", "hi"])
    wide.attrs = narrow.attrs
    _, p_narrow = _export(tmp_path / "n", narrow)
    _, p_wide = _export(tmp_path / "w", wide)
    model = (mean * 1.3).assign_attrs(units="g C m-2 yr-1")
    s = {}
    for label, path in (("narrow", p_narrow), ("wide", p_wide)):
        ref = benchmark.load_reference(path, "rh")
        df, _, _ = benchmark.score_map(ref, benchmark.comparison_dataset(model, ref, "rh"), "rh")
        s[label] = float(df.loc[df["name"] == "Bias Score [1]", "value"].iloc[0])
    ref = benchmark.load_reference(p_wide, "rh")
    df, _, _ = benchmark.score_map(ref, benchmark.comparison_dataset(model, ref, "rh"), "rh", use_uncertainty=False)
    without = float(df.loc[df["name"] == "Bias Score [1]", "value"].iloc[0])
    # a 30 % bias is inside a +/-80 % spread: discounted to (almost) a perfect score
    assert s["wide"] > 0.99 and s["narrow"] < s["wide"] and without < s["wide"]


def test_regions_registered_with_ilamb3_give_regional_scores(tmp_path):
    members = _members()
    _, path = _export(tmp_path, members)
    ref = benchmark.load_reference(path, "rh")
    weights = _halves()
    labels = benchmark.register_regions(weights, {"WEST": "western half", "EAST": "eastern half"})
    assert labels == ["WEST", "EAST"]
    mean = members.mean("member")
    # right in the west, 50 % too high in the east
    model = xr.where(mean["lon"] < 0, mean, 1.5 * mean).transpose("lat", "lon").assign_attrs(units="g C m-2 yr-1")
    df, _, _ = benchmark.score_map(
        ref, benchmark.comparison_dataset(model, ref, "rh"), "rh", regions=[None, "WEST", "EAST"], use_uncertainty=False
    )
    by_region = benchmark.regional_scores(df.assign(source="model"), "Bias Score [1]").loc["model"]
    assert by_region["WEST"] == pytest.approx(1.0)
    assert by_region["EAST"] < by_region["global"] < by_region["WEST"]


def test_model_scores_are_kept_and_read_back_equal_to_a_fresh_scoring(tmp_path, monkeypatch):
    monkeypatch.setenv("GLOBALRS_CACHE_DIR", str(tmp_path / "cache"))
    members = _members()
    _, path = _export(tmp_path, members)
    ref = benchmark.load_reference(path, "rh")
    mean = members.mean("member")
    maps = xr.concat([mean * 1.5, mean], dim="model").assign_coords(model=["high", "same"]).assign_attrs(units="g C m-2 yr-1")
    weights = _halves()
    labels = benchmark.register_regions(weights)
    fresh, outputs = benchmark.score_maps(ref, maps, "rh", regions=[None] + labels)
    first = benchmark.load_model_scores(ref, maps, "rh", region_weights=weights)
    pd.testing.assert_frame_equal(first, fresh, check_dtype=False, check_exact=True)
    assert set(first["region"]) == {"None", "WEST", "EAST"}

    # the reference written again (a new "history" time stamp) is the same reference; its values are not
    rewritten = ref.assign_attrs(history="2030-01-01T00:00:00Z written again")
    assert benchmark.values_digest(rewritten) == benchmark.values_digest(ref)
    assert benchmark.values_digest(ref.assign(rh=ref["rh"].copy(data=ref["rh"].values * 1.01))) != benchmark.values_digest(ref)

    def no_scoring(*args, **kwargs):
        raise AssertionError("scored again although the table is cached")

    monkeypatch.setattr(benchmark, "score_maps", no_scoring)
    again = benchmark.load_model_scores(ref, maps, "rh", region_weights=weights)
    pd.testing.assert_frame_equal(again, first)
    # other values, other regions or no regions: scored anew
    for changed in (
        dict(maps=maps * 1.01, region_weights=weights),
        dict(maps=maps.assign_attrs(units="kg C m-2 s-1"), region_weights=weights),
        dict(maps=maps, region_weights=weights[::-1].assign_coords(region=["WEST", "EAST"])),
        dict(maps=maps, region_weights=None),
    ):
        with pytest.raises(AssertionError, match="scored again"):
            benchmark.load_model_scores(ref, changed["maps"], "rh", region_weights=changed["region_weights"])
    # ilamb3's bias map of one model, computed alone, is the one of the joint scoring
    bias = benchmark.bias_maps(ref, maps, ["high"], "rh")["high"]
    xr.testing.assert_allclose(bias, outputs["high"]["bias"].rename(lat_nested="lat", lon_nested="lon"))


def test_bad_input_is_refused(tmp_path):
    members = _members()
    with pytest.raises(ValueError, match="variable"):
        benchmark.make_benchmark_dataset(members, "gpp", (2000, 2009), "t", "s", "r", "l")
    with pytest.raises(ValueError, match="period"):
        benchmark.make_benchmark_dataset(members, "rh", (2009, 2000), "t", "s", "r", "l")
    with pytest.raises(ValueError, match="member"):
        benchmark.ensemble_statistics(members.isel(member=0))
    assert isinstance(
        benchmark.score_table(pd.DataFrame({"source": ["a"], "region": ["None"], "name": ["Overall Score [1]"], "value": [0.5]})),
        pd.DataFrame,
    )


def test_importing_ilamb3_keeps_the_matplotlib_backend():
    import subprocess
    import sys

    # A fresh interpreter, where ilamb3 is not imported yet: the library's import keeps the
    # backend; executing ilamb3's module again (as a plain first import does) switches it.
    code = (
        "import importlib, matplotlib; matplotlib.use('svg')\n"
        "from globalrs.process_models import benchmark\n"
        "ilamb3 = benchmark.import_ilamb3(); print(matplotlib.get_backend())\n"
        "importlib.reload(ilamb3); print(matplotlib.get_backend())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == "svg"
    assert out[1].lower() == "agg"


def test_collect_rh_maps_puts_every_model_on_the_land_mask(mirror_dir):
    from globalrs.process_models import cmipmaps

    static = inputs.load_static_05()
    mask = static["land_mask"]
    card = xr.full_like(mask, 300.0, dtype=float).assign_attrs(units="g C m-2 yr-1")
    maps, group = benchmark.collect_rh_maps(mask, static["land_fraction"], card)
    assert list(group.index) == [str(m) for m in maps["model"].values]
    n_cmip = len(cmipmaps.load_model_grids())
    assert group.value_counts().to_dict() == {
        **group[:n_cmip].value_counts().to_dict(),
        "soil-carbon model": 3,
        "model-data fusion": 1,
    }
    assert set(group[:n_cmip]) == {"CMIP6", "CMIP5"}
    assert int(maps.where(~mask).notnull().sum()) == 0  # nothing outside the data-driven mask
    assert float(maps.sel(model="CARDAMOM").where(mask).mean()) == pytest.approx(300.0)
    # every model covers most of the mask with plausible land fluxes (g C m-2 yr-1)
    cover = maps.where(mask).notnull().sum(("lat", "lon")) / int(mask.sum())
    assert float(cover.min()) > 0.8, cover.to_series()
    assert float(maps.max()) < 5000


# ----------------------------------------------------------------------------- one reader's Rh map


def _reference_mean_g_m2_yr(path) -> xr.DataArray:
    """The exported reference's mean, back in g C m-2 yr-1 with the test's own factor."""
    with xr.open_dataset(path) as f:
        mean = f["rh"].isel(time=0, drop=True).load()
    mean = mean.drop_vars([c for c in mean.coords if c not in ("lat", "lon")]) * (1e3 * 365.25 * 86400)
    return mean.astype("float64").assign_attrs(units="g C m-2 yr-1")


def test_score_rh_map_ranks_the_reference_mean_first_and_a_doubled_map_lower(rh_benchmark):
    mean = _reference_mean_g_m2_yr(rh_benchmark.path)
    same = benchmark.score_rh_map(mean, "reference mean", rh_benchmark)
    double = benchmark.score_rh_map((2 * mean).assign_attrs(mean.attrs), "reference mean x 2", rh_benchmark)
    n_models = rh_benchmark.model_maps.sizes["model"]
    for table, label in ((same, "reference mean"), (double, "reference mean x 2")):
        assert table.index[0] == label == table.attrs["reader"]
        assert table.loc[label, "group"] == benchmark.READER_GROUP
        assert len(table) == n_models + 1
    mine = same.loc["reference mean"]
    assert mine["Bias Score [1]"] == pytest.approx(1.0, abs=1e-4)
    assert mine["Spatial Distribution Score [1]"] == pytest.approx(1.0, abs=1e-4)
    assert mine["rank"] == 1
    doubled = double.loc["reference mean x 2"]
    assert doubled["Bias Score [1]"] < mine["Bias Score [1]"] - 0.1
    assert doubled["Normalized Standard Deviation [1]"] == pytest.approx(2.0, rel=1e-3)
    # rank: one plus the number of models with a higher overall score
    models = double.drop(index="reference mean x 2")
    assert doubled["rank"] == 1 + int((models["Overall Score [1]"] > doubled["Overall Score [1]"]).sum())


def test_the_models_beside_the_map_score_as_ilamb3_scores_them_alone(rh_benchmark):
    from globalrs.estimates import rh
    from globalrs.process_models import cmipmaps

    # the models and the reference, loaded again here
    ref = benchmark.load_reference(rh_benchmark.path, "rh")
    static = inputs.load_static_05()
    mask = static["land_mask"]
    cardamom = rh.cardamom_on_mask(cmipmaps.read_cardamom_rh(), mask)
    maps, group = benchmark.collect_rh_maps(mask, static["land_fraction"], cardamom)
    # scored afresh here: a CMIP6 model, a soil-carbon model and the model-data fusion (that a
    # stored score table equals a fresh scoring is tested in test_model_scores_are_kept_...)
    fresh = [str(group[group == "CMIP6"].index[0]), "CASA-CNP", "CARDAMOM"]
    expected = benchmark.score_table(benchmark.score_maps(ref, maps.sel(model=fresh), "rh")[0])
    # a reader's map made from a real model map, under a model's name
    reader = (0.8 * maps.sel(model="CASA-CNP", drop=True)).assign_attrs(units="g C m-2 yr-1")
    table = benchmark.score_rh_map(reader, "CASA-CNP", rh_benchmark)
    label = table.attrs["reader"]
    assert label == "CASA-CNP (this map)" and table.index[0] == label
    models = table.drop(index=label)
    assert sorted(models.index) == sorted(map(str, maps["model"].values))
    pd.testing.assert_frame_equal(models.loc[expected.index, expected.columns], expected, check_names=False)
    assert (models["group"] == group.reindex(models.index)).all()
    # the reader's row is ilamb3's scores of that map alone
    alone = benchmark.score_table(benchmark.score_maps(ref, reader.expand_dims(model=["x"]), "rh")[0])
    np.testing.assert_allclose(table.loc[label, expected.columns].astype(float), alone.loc["x"].astype(float))
    cover = float(reader.where(mask).notnull().sum() / mask.sum())
    assert table.loc[label, "land_mask_cover_pct"] == pytest.approx(100 * cover)


def test_score_rh_map_refuses_maps_it_cannot_score(rh_benchmark):
    from globalrs.core.exceptions import GridError

    mean = _reference_mean_g_m2_yr(rh_benchmark.path)
    coarse = mean.coarsen(lat=2, lon=2).mean()
    with pytest.raises(GridError, match="0.5-degree grid"):
        benchmark.score_rh_map(coarse, "coarse", rh_benchmark)
    with pytest.raises(ValueError, match="g C m-2 yr-1"):
        benchmark.score_rh_map(mean.assign_attrs(units="kg C m-2 s-1"), "per second", rh_benchmark)
    with pytest.raises(GridError, match="no value"):
        benchmark.score_rh_map(xr.full_like(mean, np.nan), "empty", rh_benchmark)


def _two_routes() -> xr.DataArray:
    """Route a (two members) and route b (one member), on the test grid; b has no value west of 0."""
    base = _members(3, seed=4).assign_coords(member=["a1", "a2", "b1"])
    base[2, :, LON < 0] = np.nan
    return base.assign_coords(route=("member", ["a", "a", "b"]))


def test_route_statistics_count_each_route_once_and_carry_the_routes_spread():
    members = _two_routes()
    stats = benchmark.route_statistics(members)
    a = members.values[:2]
    b = members.values[2]
    i, j = 5, 20  # east: both routes
    mean_a = a[:, i, j].mean()
    assert float(stats["mean"][i, j]) == pytest.approx((mean_a + b[i, j]) / 2)
    between = np.var([mean_a, b[i, j]], ddof=1)
    within = (np.var(a[:, i, j], ddof=1) + 0.0) / 2
    assert float(stats["sd"][i, j]) == pytest.approx(np.sqrt(between + within))
    # west: only route a has a value, so its own statistics
    assert float(stats["mean"][i, 2]) == pytest.approx(a[:, i, 2].mean())
    assert float(stats["sd"][i, 2]) == pytest.approx(np.std(a[:, i, 2], ddof=1))
    assert int(stats["n"][i, 2]) == 2 and int(stats["n"][i, j]) == 3
    with pytest.raises(ValueError, match="route"):
        benchmark.route_statistics(members.drop_vars("route"))


def test_the_reference_takes_only_routes_with_skill():
    index = pd.MultiIndex.from_tuples([("ratio", "route mean"), ("root_contribution", "route mean")], names=["route", "member"])
    skill = pd.DataFrame({"r2": [0.1, -0.2], "skilful": [True, False]}, index=index)
    assert benchmark.reference_routes(skill) == ["ratio"]
    with pytest.raises(ValueError, match="no candidate route"):
        benchmark.reference_routes(skill.assign(skilful=False))


def test_a_route_all_nan_on_a_region_is_named():
    members = _two_routes()  # route b has no value west of 0
    full = members.copy(data=_members(3, seed=4).values)
    full.values[:, 0, 0] = np.nan  # one cell without a value does not empty a region
    benchmark.check_route_coverage(full, _halves())
    with pytest.raises(ValueError, match="route 'b': every member is NaN on region WEST"):
        benchmark.check_route_coverage(members, _halves())
    with pytest.raises(GridError, match="region table"):
        benchmark.check_route_coverage(full, _halves().assign_coords(lat=LAT + 1))


def test_rankings_agree_with_kendalls_tau_counted_by_hand():
    scores = pd.DataFrame(
        {"r1": [0.9, 0.8, 0.7, 0.6], "r2": [0.8, 0.9, 0.7, 0.6], "r3": [0.6, 0.7, 0.8, np.nan]},
        index=["m1", "m2", "m3", "m4"],
    )
    ranks, tau = benchmark.ranking_agreement(scores)
    assert ranks["r1"].tolist() == [1, 2, 3, 4] and np.isnan(ranks.loc["m4", "r3"])
    # r1 vs r2: 6 pairs, one discordant (m1, m2): (5 - 1) / 6
    assert tau.loc["r1", "r2"] == pytest.approx(4 / 6)
    # r1 vs r3 over m1..m3: every pair reversed
    assert tau.loc["r1", "r3"] == pytest.approx(-1.0)
    group = pd.Series({"m1": "A", "m2": "A", "m3": "B", "m4": "B"})
    statements = benchmark.robust_statements(scores[["r1", "r2"]], group)
    best = statements.loc["m1 scores best (as under r1)"]
    assert not best["survives"] and best["holds_under"] == "r1"
    assert bool(statements.loc["m4 scores worst (as under r1)", "survives"])
    assert bool(statements.loc["group means in the order A > B", "survives"])
    assert statements.attrs["n_pairs"] == 6 and statements.attrs["n_pairs_stable"] == 5


def test_relationship_scores_prefer_the_reference_response(tmp_path):
    temperature = np.linspace(-5, 28, LAT.size)[:, None] + np.linspace(0, 4, LON.size)[None, :]
    tas = xr.DataArray(temperature, dims=("lat", "lon"), coords={"lat": LAT, "lon": LON})
    rh = 200 + 25 * tas  # the reference: Rh rising with temperature
    members = xr.concat([rh * 0.95, rh * 1.05], dim="member").assign_attrs(units="g C m-2 yr-1")
    _, path = _export(tmp_path, members)
    ref = benchmark.load_reference(path, "rh")
    maps = (
        xr.concat([rh, 1100 - 25 * tas], dim="model").assign_coords(model=["same", "reversed"]).assign_attrs(units="g C m-2 yr-1")
    )
    tas_maps = xr.concat([tas, tas], dim="model").assign_coords(model=["same", "reversed"])
    scores = benchmark.relationship_scores(ref, tas, maps, tas_maps)
    assert scores["same"] > 0.9 and scores["reversed"] < scores["same"]
    # a model without a tas map is left out
    assert list(benchmark.relationship_scores(ref, tas, maps, tas_maps.sel(model=["same"])).index) == ["same"]
