"""The fast cell-by-region overlap fractions equal regionmask's own ``mask_3D_frac_approx``, value for value.

``regions.overlap_fractions`` rasterizes groups of non-touching regions with 2-D masks instead of
regionmask's 3-D unpacking; these property tests (hypothesis) compare the two over random
regular grids: either longitude convention, coarse and fine steps, grids that stop short of the
poles or reach past them (regionmask's edge-row rule), and region sets whose regions share
boundaries (SREX, AR6 land) or overlap outright (boxes made here).
"""

from __future__ import annotations

import numpy as np
import pytest
import regionmask
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from globalrs.gridding import regions

PROPERTY_SETTINGS = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def overlapping_boxes() -> regionmask.Regions:
    """Three boxes: two overlap, the third shares an edge with the second; one crosses no grid line."""
    outlines = [box(-30, -20, 40, 35), box(10, 0, 70, 60), box(70, 10, 120, 50)]
    return regionmask.Regions(outlines, numbers=[3, 7, 11], names=["a", "b", "c"], abbrevs=["A", "B", "C"])


REGION_SETS = {
    "srex": lambda: regionmask.defined_regions.srex,
    "ar6.land": lambda: regionmask.defined_regions.ar6.land,
    "boxes": overlapping_boxes,
}


@st.composite
def regular_grids(draw) -> tuple[np.ndarray, np.ndarray]:
    """Equally spaced cell centres: steps 1.5..6 degrees, any offset, -180..180 or 0..360 longitudes,
    the whole globe or a part of it, either orientation."""
    step_lat = draw(st.floats(1.5, 6.0))
    step_lon = draw(st.floats(1.5, 6.0))
    lat0 = draw(st.floats(-90.0, -60.0))
    n_lat = min(draw(st.integers(3, 200)), int((90.0 - lat0) // step_lat) + 1)
    lat = lat0 + step_lat * np.arange(max(n_lat, 2))
    lon0 = draw(st.sampled_from([-180.0, 0.0])) + draw(st.floats(0.0, step_lon))
    n_lon = int(360.0 // step_lon)
    lon = lon0 + step_lon * np.arange(n_lon)
    if draw(st.booleans()):  # a regional grid
        lon = lon[: max(2, int(n_lon * draw(st.floats(0.1, 0.9))))]
    if draw(st.booleans()):
        lat = lat[::-1]
    if draw(st.booleans()):
        lon = lon[::-1]
    return lat, lon


def assert_same_fractions(defined: regionmask.Regions, lat: np.ndarray, lon: np.ndarray) -> xr.DataArray:
    expected = defined.mask_3D_frac_approx(lon, lat, drop=False)
    got = regions.overlap_fractions(defined, lon, lat)
    xr.testing.assert_identical(got, expected)  # values bit for bit, coordinates, name and attributes
    return got


@pytest.mark.filterwarnings("ignore:No gridpoint belongs to any region")
@pytest.mark.parametrize("set_name", sorted(REGION_SETS))
@PROPERTY_SETTINGS
@given(grid=regular_grids())
def test_overlap_fractions_equal_regionmask_on_any_regular_grid(set_name, grid):
    lat, lon = grid
    assert_same_fractions(REGION_SETS[set_name](), lat, lon)


def test_overlap_fractions_equal_regionmask_on_the_half_degree_grid():
    """The grid the chapters use (a band of it: 45 S to 15 S, all longitudes), with AR6 land's 46 regions.

    The band crosses South America and southern Africa, where AR6's shared boundaries put samples
    in two regions at once (the cells where a 2-D mask alone would differ from regionmask).
    """
    lat = np.arange(-44.75, -15.0, 0.5)
    lon = np.arange(-179.75, 180.0, 0.5)
    got = assert_same_fractions(regionmask.defined_regions.ar6.land, lat, lon)
    assert int((got.sum("region") > 1.0 + 1e-9).sum()) > 10  # the band does hold such cells


def test_shared_boundaries_count_for_both_regions_as_regionmask_counts_them():
    """Samples on a boundary two AR6 regions share count for both (fractions over 1), kept as regionmask has them."""
    lat = np.arange(-89.0, 90.0, 2.0)
    lon = np.arange(-179.0, 180.0, 2.0)
    got = regions.overlap_fractions(regionmask.defined_regions.ar6.land, lon, lat)
    assert float(got.sum("region").max()) > 1.0


def test_continent_fractions_use_the_same_counting(mirror_dir):
    """The Natural Earth continents (which touch: Europe and Asia) come out as regionmask's method gives them."""
    lat = np.arange(-88.0, 90.0, 4.0)
    lon = np.arange(-178.0, 180.0, 4.0)
    assert_same_fractions(regions._continent_regions(), lat, lon)


def test_the_fast_path_runs_on_the_grids_it_claims(monkeypatch):
    """On a plain regular grid regionmask's 3-D method is not called at all (the comparisons above are not with itself)."""
    lat = np.arange(-88.0, 90.0, 4.0)
    lon = np.arange(-178.0, 180.0, 4.0)
    expected = regionmask.defined_regions.srex.mask_3D_frac_approx(lon, lat, drop=False)

    def refuse(*args, **kwargs):
        raise AssertionError("regionmask's mask_3D_frac_approx was called")

    monkeypatch.setattr(regionmask.Regions, "mask_3D_frac_approx", refuse)
    xr.testing.assert_identical(regions.overlap_fractions(regionmask.defined_regions.srex, lon, lat), expected)


def test_a_sample_at_the_antimeridian_after_wrapping_goes_to_regionmask():
    """A 0..360 grid with a sample at 180 E, regions in -180..180: regionmask wraps it to -180 E, where its
    2-D and 3-D masks treat edge points differently, so its own method decides."""
    outlines = [box(-185, 0, -170, 10), box(170, 0, 180, 10)]
    defined = regionmask.Regions(outlines, numbers=[0, 1], names=["west", "east"], abbrevs=["W", "E"])
    lon = 170.45 + np.arange(20.0)
    lat = np.arange(0.5, 10.0, 1.0)
    assert_same_fractions(defined, lat, lon)


@pytest.mark.parametrize(
    "lat, lon",
    [
        (np.array([-10.0, 0.0, 5.0, 20.0]), np.arange(-178.0, 180.0, 4.0)),  # unequal latitude steps
        (np.array([80.0, 88.0, 96.0]), np.arange(-178.0, 180.0, 4.0)),  # beyond the pole
        (np.array([10.0]), np.arange(-178.0, 180.0, 4.0)),  # a single row
    ],
    ids=["unequal steps", "beyond 90 N", "one row"],
)
def test_grids_regionmask_refuses_are_refused_the_same_way(lat, lon):
    srex = regionmask.defined_regions.srex
    try:
        expected = srex.mask_3D_frac_approx(lon, lat, drop=False)
    except Exception as exc:  # noqa: BLE001 - whatever regionmask raises, the fast path must raise too
        with pytest.raises(type(exc)):
            regions.overlap_fractions(srex, lon, lat)
    else:
        xr.testing.assert_identical(regions.overlap_fractions(srex, lon, lat), expected)
