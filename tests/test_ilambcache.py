"""ilamb3 scores the same with its grid work done once per grid (globalrs.process_models.ilambcache) as without.

The plain call and the cached one run ilamb3's own analyses on data the tests make; every scalar
must agree to 1e-12 (relative), whatever the grid's orientation, the regions and the data's
longitude convention.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from test_benchmark import LAT, LON, _export, _halves, _members

from globalrs.process_models import benchmark, ilambcache


def _plain_scores(ref, maps, regions):
    """score_maps with ilamb3's functions as they are (the cache switched off for the call)."""
    import ilamb3.dataset as ild
    import ilamb3.regions as ilr

    restrict, measures = ilr.restrict_to_region, ild.compute_cell_measures

    class Plain:
        def __enter__(self):
            return None

        def __exit__(self, *exc):
            return False

    original = benchmark.grid_work_once
    benchmark.grid_work_once = Plain
    try:
        return benchmark.score_maps(ref, maps, "rh", regions=regions)[0]
    finally:
        benchmark.grid_work_once = original
        assert ilr.restrict_to_region is restrict and ild.compute_cell_measures is measures


def _assert_same_scalars(plain: pd.DataFrame, cached: pd.DataFrame) -> None:
    assert list(plain.columns) == list(cached.columns)
    pd.testing.assert_frame_equal(plain.drop(columns="value"), cached.drop(columns="value"))
    a, b = plain["value"].to_numpy(float), cached["value"].to_numpy(float)
    assert np.array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_allclose(b[~np.isnan(b)], a[~np.isnan(a)], rtol=1e-12, atol=0)


def _maps(members: xr.DataArray) -> xr.DataArray:
    mean = members.mean("member")
    east_high = xr.where(mean["lon"] < 0, mean, 1.5 * mean).transpose("lat", "lon")
    rng = np.random.default_rng(3)
    noisy = mean * rng.uniform(0.5, 1.5, mean.shape)
    return (
        xr.concat([east_high, noisy, 0.7 * mean], dim="model")
        .assign_coords(model=["east_high", "noisy", "low"])
        .assign_attrs(units="g C m-2 yr-1")
    )


def _stripes() -> xr.DataArray:
    """Three latitude bands and a box that does not reach the grid's edges, as ``(region, lat, lon)`` weights."""
    values = np.zeros((4, LAT.size, LON.size), dtype="float32")
    values[0, LAT < -20, :] = 1.0
    values[1, (LAT >= -20) & (LAT < 20), :] = 1.0
    values[2, LAT >= 20, :] = 1.0
    box = (np.abs(LAT) < 30)[:, None] & ((LON > -60) & (LON < 45))[None, :]
    values[:, box] = 0.0
    values[3, box] = 1.0
    weights = xr.DataArray(
        values, dims=("region", "lat", "lon"), coords={"region": ["SOUTH", "MIDDLE", "NORTH", "BOX"], "lat": LAT, "lon": LON}
    )
    return weights


@pytest.mark.parametrize("regions_of", [_halves, _stripes])
def test_every_scalar_equals_the_plain_call(tmp_path, regions_of):
    members = _members(seed=1)
    _, path = _export(tmp_path, members)
    ref = benchmark.load_reference(path, "rh")
    labels = benchmark.register_regions(regions_of())
    maps = _maps(members)
    plain = _plain_scores(ref, maps, [None] + labels)
    with ilambcache.grid_work_once() as work:
        cached = benchmark.score_maps(ref, maps, "rh", regions=[None] + labels)[0]
    _assert_same_scalars(plain, cached)
    # the work was really reused: far fewer masks and areas computed than asked for
    assert work.mask_hits > 2 * work.mask_misses > 0
    assert work.area_hits > 2 * work.area_misses > 0
    assert work.integrals_direct > 0
    assert set(cached["region"]) == {"None", *labels}


def test_a_descending_grid_scores_as_ilamb3_scores_it(tmp_path):
    members = _members(seed=2).isel(lat=slice(None, None, -1))
    _, path = _export(tmp_path, members)
    ref = benchmark.load_reference(path, "rh")
    labels = benchmark.register_regions(_halves().isel(lat=slice(None, None, -1)))
    maps = _maps(members)
    cached = benchmark.score_maps(ref, maps, "rh", regions=[None] + labels)[0]
    _assert_same_scalars(_plain_scores(ref, maps, [None] + labels), cached)


def test_data_in_the_other_longitude_convention_is_left_to_ilamb3(tmp_path):
    """A mask in -180..180 and data in 0..360: ilamb3's own function does it, with its own result."""
    import ilamb3.regions as ilr

    labels = benchmark.register_regions(_halves())
    lon360 = LON % 360
    order = np.argsort(lon360)
    field = xr.DataArray(
        np.arange(LAT.size * LON.size, dtype=float).reshape(LAT.size, LON.size)[:, order],
        dims=("lat", "lon"),
        coords={"lat": LAT, "lon": lon360[order]},
        attrs={"units": "g m-2 d-1"},
    )
    with ilambcache.grid_work_once() as work:
        cached = ilr.Regions().restrict_to_region(field.copy(), labels[1])
    assert work.mask_hits == work.mask_misses == 0
    # ilamb3's adjust_lon rewrites the registered mask's longitudes in place (to 0..360): register
    # it afresh for the plain call
    labels = benchmark.register_regions(_halves())
    plain = ilr.Regions().restrict_to_region(field.copy(), labels[1])
    xr.testing.assert_identical(plain, cached)


@pytest.mark.parametrize("grid", ["the mask's", "finer, shifted"])
def test_a_restricted_field_is_identical_to_ilamb3s(grid):
    """Values, coordinates, attributes and name: the whole DataArray, first call and later ones.

    On the mask's own grid the mask is taken as it is; on another grid it is interpolated (as
    ilamb3 does) once.
    """
    import ilamb3.regions as ilr

    labels = benchmark.register_regions(_stripes())
    lat, lon = (LAT, LON) if grid == "the mask's" else (np.arange(-58.0, 58.0, 2.5), np.arange(-179.0, 180.0, 4.0))
    rng = np.random.default_rng(0)
    field = xr.DataArray(
        rng.uniform(1, 2, (3, lat.size, lon.size)),
        dims=("time", "lat", "lon"),
        coords={"time": [0, 1, 2], "lat": lat, "lon": lon},
        attrs={"units": "g m-2 d-1"},
        name="rh",
    )
    for label in labels:
        plain = ilr.Regions().restrict_to_region(field, label)
        plain_2d = ilr.Regions().restrict_to_region(field.isel(time=0).transpose("lon", "lat"), label)
        with ilambcache.grid_work_once() as work:
            first = ilr.Regions().restrict_to_region(field, label)
            again = ilr.Regions().restrict_to_region(field * 2, label)
            transposed = ilr.Regions().restrict_to_region(field.isel(time=0).transpose("lon", "lat"), label)
        assert work.mask_misses == 1 and work.mask_hits == 2
        xr.testing.assert_identical(plain, first)
        xr.testing.assert_identical(ilr.Regions().restrict_to_region(field * 2, label), again)
        xr.testing.assert_identical(plain_2d, transposed)


def test_ilamb3s_functions_are_put_back_even_after_an_error():
    import ilamb3.dataset as ild
    import ilamb3.regions as ilr

    restrict, measures, integrate = ilr.restrict_to_region, ild.compute_cell_measures, ild.integrate_space
    with pytest.raises(RuntimeError, match="inside"):
        with ilambcache.grid_work_once():
            assert ilr.restrict_to_region is not restrict
            with ilambcache.grid_work_once() as inner:  # nested: the outer block's caches serve
                assert ilr.restrict_to_region == inner.restrict_to_region
            assert ilr.restrict_to_region is not restrict
            raise RuntimeError("inside")
    assert ilr.restrict_to_region is restrict and ild.compute_cell_measures is measures
    assert ild.integrate_space is integrate


def _integral_cases(labels: list[str]):
    """(description, data, varname, region, mean): the shapes of call the analyses make, and edge cases."""
    import pint_xarray  # noqa: F401 - registers the .pint accessor

    rng = np.random.default_rng(5)
    values = rng.uniform(0.5, 2.0, (LAT.size, LON.size))
    values[rng.uniform(size=values.shape) < 0.2] = np.nan
    attrs = {"units": "g m-2 d-1", "long_name": "heterotrophic respiration", "standard_name": "heterotrophic_respiration"}
    field = xr.DataArray(values, dims=("lat", "lon"), coords={"lat": LAT, "lon": LON}, attrs=attrs, name="rh")
    empty = field.where(field["lat"] > 1000.0)  # all NaN: the weights sum to zero
    f32 = field.astype("float32").assign_attrs(attrs)
    with_coord = field.assign_coords(height=2.0)
    dataset = field.to_dataset()
    dataset["cell_measures"] = xr.DataArray(
        np.cos(np.deg2rad(LAT))[:, None] * np.ones(LON.size), dims=("lat", "lon"), coords={"lat": LAT, "lon": LON}
    ).assign_attrs(units="m2")
    quantified = field.pint.quantify()
    cases = []
    for region in [None, *labels]:
        for mean in (True, False):
            cases += [
                ("field", field, region, mean),
                ("transposed", field.transpose("lon", "lat"), region, mean),
                ("float32", f32, region, mean),
                ("all NaN", empty, region, mean),
                ("scalar coordinate", with_coord, region, mean),
                ("dataset with cell_measures", dataset, region, mean),
                ("pint-quantified", quantified, region, mean),
            ]
    return cases


def test_every_spatial_integral_is_identical_to_ilamb3s():
    """integrate_space answered here equals ilamb3's own: values, name, coordinates and units, bit for bit."""
    import ilamb3.dataset as ild

    labels = benchmark.register_regions(_stripes())
    cases = _integral_cases(labels)
    plain = [ild.integrate_space(data, "rh", region=region, mean=mean) for _, data, region, mean in cases]
    with ilambcache.grid_work_once() as work:
        fast = [ild.integrate_space(data, "rh", region=region, mean=mean) for _, data, region, mean in cases]
    assert work.integrals_direct == len(cases) and work.integrals_plain == 0
    for (what, _, region, mean), a, b in zip(cases, plain, fast, strict=True):
        try:
            xr.testing.assert_identical(a, b)
        except AssertionError as exc:
            raise AssertionError(f"{what}, region {region}, mean={mean}") from exc
    assert np.isnan(float(fast[[c[0] for c in cases].index("all NaN")]))


def test_integrals_the_fast_path_does_not_cover_go_to_ilamb3():
    """A time dimension or a mass weight: ilamb3's own function, with its own result, and no work done twice."""
    import ilamb3.dataset as ild

    labels = benchmark.register_regions(_stripes())
    rng = np.random.default_rng(6)
    field = xr.DataArray(
        rng.uniform(1, 2, (2, LAT.size, LON.size)),
        dims=("time", "lat", "lon"),
        coords={"time": [0, 1], "lat": LAT, "lon": LON},
        attrs={"units": "g m-2 d-1"},
        name="rh",
    )
    weight = xr.DataArray(rng.uniform(1, 2, (LAT.size, LON.size)), dims=("lat", "lon"), coords={"lat": LAT, "lon": LON})
    weight.attrs["units"] = "1"

    def both():
        with_time = ild.integrate_space(field, "rh", region=labels[0], mean=True)
        return [with_time, ild.integrate_space(field.isel(time=0), "rh", region=labels[0], mean=True, weight=weight)]

    plain = both()
    with ilambcache.grid_work_once() as work:
        fast = both()
    assert work.integrals_plain == 2 and work.integrals_direct == 0
    assert work.mask_hits + work.mask_misses == 2  # each restricted once, by ilamb3's own function
    for a, b in zip(plain, fast, strict=True):
        xr.testing.assert_identical(a, b)
