"""Maps draw coastlines from the registered Natural Earth file and never touch the network."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest
import xarray as xr

from globalrs.core.grid import make_grid
from globalrs.viz import plots


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


def test_colorbar_extend_names_the_saturated_ends():
    from globalrs.viz.plots import colorbar_extend

    assert colorbar_extend([0.1, 0.5], 0, 1) == "neither"
    assert colorbar_extend([0.1, 1.5, np.nan], 0, 1) == "max"
    assert colorbar_extend([-1, 0.5], 0, 1) == "min"
    assert colorbar_extend([-1, 2], 0, 1) == "both"


def test_symlog_count_axis_has_ticks_for_small_counts():
    import matplotlib.pyplot as plt

    from globalrs.viz.plots import set_symlog_count_axis

    fig, ax = plt.subplots()
    set_symlog_count_axis(ax, 1200)
    ticks = list(ax.get_xticks())
    plt.close(fig)
    assert ticks[:4] == [0, 1, 2, 5] and 1000 in ticks and 2000 not in ticks


def test_place_labels_keeps_labels_apart_and_inside():
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    from globalrs.viz.plots import place_labels

    fig, ax = plt.subplots(figsize=(3, 2))
    xs, ys = [1.0, 1.02, 1.04, 9.9], [1.0, 1.0, 1.0, 5.0]
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 6)
    labels = place_labels(ax, xs, ys, ["aaa", "bbb", "ccc", "long label at the edge"])
    renderer = fig.canvas.get_renderer()
    boxes = [Text.get_window_extent(t, renderer) for t in labels]
    axes_box = ax.get_window_extent(renderer)
    plt.close(fig)
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    assert all(b.x1 <= axes_box.x1 + 0.5 and b.x0 >= axes_box.x0 - 0.5 for b in boxes)


def test_place_labels_never_overlap_for_clustered_points():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    from globalrs.viz.plots import place_labels

    fig, ax = plt.subplots(figsize=(4, 3), dpi=100)
    xs = np.array([1.0, 1.02, 1.04, 1.0, 1.03, 3.0])
    ys = np.array([10.0, 10.2, 10.1, 10.3, 9.9, 20.0])
    ax.scatter(xs, ys)
    ax.set_xlim(0, 4)
    ax.set_ylim(0, 30)
    labels = ["B1", "B2", "B3", "C2", "C5", "A1"]
    anns = place_labels(ax, xs, ys, labels)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [Text.get_window_extent(a, renderer) for a in anns]  # the text, not its leader line
    assert [a.get_text() for a in anns] == labels
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            assert not boxes[i].overlaps(boxes[j]), (labels[i], labels[j])
    # a naive fixed offset (as plot_cv_against_flux draws) would overlap for these points
    naive = [
        ax.annotate(lab, (x, y), xytext=(3, 2), textcoords="offset points", fontsize=7)
        for x, y, lab in zip(xs, ys, labels, strict=True)
    ]
    fig.canvas.draw()
    nb = [Text.get_window_extent(a, renderer) for a in naive]
    assert any(nb[i].overlaps(nb[j]) for i in range(len(nb)) for j in range(i + 1, len(nb)))
    plt.close(fig)
