"""Maps draw coastlines from the registered Natural Earth file and never touch the network."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest
import xarray as xr

from globalrs import plots
from globalrs.grid import make_grid


@pytest.fixture
def no_cartopy_downloads(monkeypatch, tmp_path):
    import cartopy
    from cartopy.io import Downloader

    def refuse(*args, **kwargs):
        raise AssertionError("cartopy tried to download data during an offline build")

    monkeypatch.setitem(cartopy.config, "data_dir", str(tmp_path / "cartopy"))
    monkeypatch.setattr(Downloader, "acquire_resource", refuse)


def test_land_geometries_come_from_registry(mirror_dir):
    geoms = plots.read_land_geometries("110m")
    assert len(geoms) > 100
    total_deg2 = sum(g.area for g in geoms)
    assert 15_000 < total_deg2 < 30_000  # land in square degrees (about 21,000)


def test_unknown_resolution_is_refused():
    with pytest.raises(ValueError, match="resolution must be one of"):
        plots.read_land_geometries("10m")


def test_map_draws_offline(mirror_dir, no_cartopy_downloads):
    lat, lon = make_grid(5.0)
    field = xr.DataArray(
        np.cos(np.deg2rad(lat))[:, None] * np.ones(lon.size),
        coords={"lat": lat, "lon": lon},
        dims=("lat", "lon"),
    )
    fig, axes = plots.make_map_axes(1, 1)
    mesh = plots.plot_map(field, axes[0, 0], vmin=0, vmax=1, title="test")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    assert buffer.tell() > 1000
    assert mesh.get_array().max() == pytest.approx(field.max().item())
