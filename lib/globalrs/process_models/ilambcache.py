"""Grid work of ilamb3 done once per grid: region masks and cell areas.

ilamb3 (2026.6) redoes two pieces of grid work for every scalar it computes:

* :func:`ilamb3.regions.restrict_to_region` interpolates a region mask registered with
  :meth:`ilamb3.regions.Regions.add_netcdf` onto the data's grid (nearest neighbour), masks the
  data with ``xr.where`` and cuts it to the mask's bounding box
  (:func:`ilamb3.regions.restrict_to_bbox`, four nearest-label look-ups);
* :func:`ilamb3.dataset.compute_cell_measures` guesses cell bounds with ``cf_xarray`` and computes
  the cells' areas, for every regional mean.

The bias analysis calls both for every scalar of every region, the spatial-distribution analysis
restricts both fields of every region: scoring two models in 15 regions made 364 restrictions and
120 cell-area computations, about 80 % of the scoring time, all on two or three grids. With those
done once, most of what remained was :func:`ilamb3.dataset.integrate_space` itself: each regional
scalar goes through xarray's ``weighted`` machinery (two aligned ``xr.dot`` calls through
``apply_ufunc``, about 10 ms of bookkeeping for a sum of a few thousand products), 60 scalars per
model in 15 regions.

:func:`grid_work_once` is a context manager that, while it is open, lets ilamb3 compute each of
these once per grid (with its own code, on the first call) and answers later calls on the same grid
from what it computed: the interpolated mask and the positions of the bounding-box cut that
ilamb3's own ``restrict_to_bbox`` chose, and the cell areas. It also answers ``integrate_space``
for a 2-D field with ilamb3's own steps (pint, region, cell measures, units) and xarray's own
reduction (``fillna``/``notnull`` and the same ``einsum`` with the same subscripts that ``xr.dot``
hands to it), without the per-call alignment. The scores are the same
(``tests/test_ilambcache.py`` compares every scalar with the plain call, on data it makes and on
the book's reference; the integrals are compared with ``assert_identical``). Calls the caches do
not cover (site data, a longitude convention other than the mask's, which ilamb3 would rewrite, or
a grid without unique coordinates) go to ilamb3's own functions unchanged. The original functions
are put back when the block ends, even on an error.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

#: Serialises the swap of ilamb3's functions; a block opened inside another reuses the outer one.
_LOCK = threading.RLock()
_ACTIVE: list[GridWork] = []


def _digest(values) -> str:
    """A key for an array's values (dtype, shape and bytes)."""
    arr = np.ascontiguousarray(np.asarray(values))
    if arr.dtype == object:
        return hashlib.sha1(repr(arr.tolist()).encode()).hexdigest()
    return hashlib.sha1(f"{arr.dtype}{arr.shape}".encode() + arr.tobytes()).hexdigest()


def _as_slice(positions: np.ndarray) -> slice | np.ndarray:
    """Consecutive ascending positions as a slice (a view when indexing), others as they are."""
    if positions.size and np.all(np.diff(positions) == 1):
        return slice(int(positions[0]), int(positions[-1]) + 1)
    return positions


def _plain_2d_float(da: xr.DataArray) -> bool:
    """A two-dimensional floating-point field held in numpy (pint-wrapped or not), the fast path's case."""
    data = getattr(da.data, "magnitude", da.data)
    return da.ndim == 2 and isinstance(data, np.ndarray) and data.dtype.kind == "f"


def _dot(a: xr.DataArray, b: xr.DataArray) -> np.ndarray:
    """``xr.dot(a, b, dim=...)``'s numbers for two arrays on the same dimensions: the same einsum call.

    ``xr.dot`` names each dimension by a letter in order of appearance (``a``'s, then ``b``'s
    others) and hands xarray's ``einsum`` the two arrays as they are with ``...<dims>`` subscripts.
    This follows xarray's internals (``xarray.core.duck_array_ops.einsum``, how ``xr.dot`` builds
    its subscripts), which requirements.txt pins; ``tests/test_ilambcache.py`` compares the
    integrals with ilamb3's own, so an xarray that changes them fails there, not silently.
    """
    from xarray.core.duck_array_ops import einsum

    letters = {d: "abcdefghijklmnopqrstuvwxyz"[i] for i, d in enumerate(a.dims)}
    subscripts = ",".join("..." + "".join(letters[d] for d in x.dims) for x in (a, b)) + "->..."
    return np.asarray(einsum(subscripts, a.data, b.data))


def _is_0_to_360(lon: np.ndarray) -> bool:
    """ilamb3's own test in ``adjust_lon`` of a longitude convention."""
    lon0, lonf = float(np.min(lon)), float(np.max(lon))
    return bool(np.abs(lon0) + np.abs(lonf - 360) < np.abs(lon0 + 180) + np.abs(lonf - 180))


@dataclass
class GridWork:
    """What :func:`grid_work_once` computed once per grid, and how often it was reused.

    Attributes
    ----------
    mask_hits, mask_misses
        Region restrictions answered from the cache / computed by ilamb3's own steps.
    area_hits, area_misses
        Cell-area computations answered from the cache / computed by ilamb3.
    integrals_direct, integrals_plain
        ``integrate_space`` calls reduced here / handed to ilamb3's own function.
    """

    restrict_original: Callable[..., Any]
    measures_original: Callable[..., xr.DataArray]
    integrate_original: Callable[..., xr.DataArray]
    masks: dict = field(default_factory=dict)
    areas: dict = field(default_factory=dict)
    mask_hits: int = 0
    mask_misses: int = 0
    area_hits: int = 0
    area_misses: int = 0
    integrals_direct: int = 0
    integrals_plain: int = 0

    # -- region masks -------------------------------------------------------------------------

    def restrict_to_region(self, da: xr.DataArray, dar: xr.DataArray) -> xr.DataArray:
        """:func:`ilamb3.regions.restrict_to_region`, with the mask and the cut kept per grid."""
        import ilamb3.dataset as dset

        if not isinstance(da, xr.DataArray) or dset.is_site(da):
            return self.restrict_original(da, dar)
        try:
            lat_name = dset.get_coord_name(da, "lat")
            lon_name = dset.get_coord_name(da, "lon")
            rlat_name = dset.get_dim_name(dar, "lat")
            rlon_name = dset.get_dim_name(dar, "lon")
        except Exception:  # noqa: BLE001 - whatever ilamb3 does with such data, it does itself
            return self.restrict_original(da, dar)
        if lat_name not in da.dims or lon_name not in da.dims:
            return self.restrict_original(da, dar)
        lat_index, lon_index = da.indexes.get(lat_name), da.indexes.get(lon_name)
        if lat_index is None or lon_index is None or not (lat_index.is_unique and lon_index.is_unique):
            return self.restrict_original(da, dar)
        if _is_0_to_360(da[lon_name].values) != _is_0_to_360(dar[rlon_name].values):
            # ilamb3's adjust_lon would rewrite the mask's longitudes: leave that case to ilamb3.
            return self.restrict_original(da, dar)
        key = (id(dar), lat_name, lon_name, _digest(da[lat_name].values), _digest(da[lon_name].values))
        entry = self.masks.get(key)
        if entry is None:
            self.mask_misses += 1
            entry = self.masks[key] = self._mask_on_grid(da, dar, lat_name, lon_name, rlat_name, rlon_name)
        else:
            self.mask_hits += 1
        keep, positions, _ = entry
        # Cut first, then mask: the same cells as ilamb3's mask-then-cut, without aligning the
        # mask's coordinates again (they are the data's own, by construction). xr.where puts the
        # mask's dimensions first, then the data's others: so does this.
        cut = da.isel(positions)
        order = list(keep.dims) + [d for d in cut.dims if d not in keep.dims]
        cut = cut.transpose(*order)
        if np.issubdtype(cut.dtype, np.floating):
            keep_values = keep.values.reshape(keep.shape + (1,) * (cut.ndim - keep.ndim))
            return cut.copy(data=np.where(keep_values, cut.values, np.nan)).rename(None)
        return xr.where(xr.DataArray(keep.values, dims=keep.dims), cut, np.nan).transpose(*order).rename(None)

    def _mask_on_grid(self, da, dar, lat_name, lon_name, rlat_name, rlon_name):
        """ilamb3's steps on a grid's first call: the interpolated mask and the cut's positions."""
        from ilamb3.regions import restrict_to_bbox

        renamed = dar.rename({rlat_name: lat_name, rlon_name: lon_name})
        args = {lat_name: da[lat_name], lon_name: da[lon_name]}
        if all(np.array_equal(renamed[n].values, da[n].values) for n in (lat_name, lon_name)):
            # The data are on the mask's own grid: nearest-neighbour interpolation onto the same
            # coordinates returns every cell's own value, so the mask is taken as it is.
            interpolated = renamed
        else:
            interpolated = renamed.interp(args, method="nearest", kwargs={"fill_value": "extrapolate"})
        grid = xr.DataArray(
            np.zeros((da[lat_name].size, da[lon_name].size)),
            dims=(lat_name, lon_name),
            coords={lat_name: da[lat_name].values, lon_name: da[lon_name].values},
        )
        kept = restrict_to_bbox(
            grid, renamed[lat_name].min(), renamed[lat_name].max(), renamed[lon_name].min(), renamed[lon_name].max()
        )
        positions = {
            lat_name: _as_slice(da.indexes[lat_name].get_indexer(kept[lat_name].values)),
            lon_name: _as_slice(da.indexes[lon_name].get_indexer(kept[lon_name].values)),
        }
        keep = interpolated.astype(bool).isel(positions)
        # The mask object is kept alive with its entry, so that its id is never reused while cached.
        return keep, positions, dar

    # -- cell areas ---------------------------------------------------------------------------

    def compute_cell_measures(self, data: xr.Dataset | xr.DataArray, varname: str | None = None) -> xr.DataArray:
        """:func:`ilamb3.dataset.compute_cell_measures`, kept per grid (coordinates and bounds)."""
        key = self._grid_key(data, varname)
        if key is None:
            return self.measures_original(data, varname)
        cached = self.areas.get(key)
        if cached is None:
            self.area_misses += 1
            cached = self.areas[key] = self.measures_original(data, varname)
        else:
            self.area_hits += 1
        return cached.copy(deep=True)

    # -- spatial integrals ---------------------------------------------------------------------

    def integrate_space(
        self,
        dset: xr.DataArray | xr.Dataset,
        varname: str,
        region: str | None = None,
        mean: bool = False,
        weight: xr.DataArray | None = None,
    ) -> xr.DataArray:
        """:func:`ilamb3.dataset.integrate_space` of a 2-D (lat, lon) numpy field, without xarray's alignment.

        ilamb3's steps, in its order: dequantify, restrict to the region (through the cached
        restriction), take the cell measures (the dataset's own, else the cached areas). Then
        xarray's weighted sum or mean, step for step: the data's ``fillna(0.0)`` (sum) and
        ``notnull()`` (sum of weights), each contracted with the measures' ``fillna(0)`` by the
        einsum ``xr.dot`` calls (xarray's ``duck_array_ops.einsum``, the subscripts it builds from
        the two arrays' dimension orders), zero weight sums set to NaN, and ilamb3's ``units``
        attribute. Anything else (extra dimensions, dask data, a ``weight``, coordinates that
        would need aligning) goes to ilamb3's own function.
        """
        import ilamb3.dataset as dset_module
        import ilamb3.regions as ilr

        field = dset[varname] if isinstance(dset, xr.Dataset) else dset
        if weight is not None or not _plain_2d_float(field):
            return self._integrate_plain(dset, varname, region, mean, weight)  # decided before any work
        data = dset.pint.dequantify()
        if region is not None:
            data = ilr.Regions().restrict_to_region(data, region)
        if not isinstance(data, xr.Dataset):
            data = data.to_dataset(name=varname)
        var = data[varname]
        try:
            space = [dset_module.get_dim_name(var, "lat"), dset_module.get_dim_name(var, "lon")]
        except Exception:  # noqa: BLE001 - let ilamb3 raise its own error
            return self._integrate_plain(dset, varname, region, mean, weight)
        if set(var.dims) != set(space) or not _plain_2d_float(var):
            return self._integrate_plain(dset, varname, region, mean, weight)
        measures = (
            data["cell_measures"]
            if "cell_measures" in data and set(data["cell_measures"].dims).issubset(var.dims)
            else dset_module.compute_cell_measures(data, varname)
        )
        weights = measures.fillna(0)
        if (
            set(weights.dims) != set(var.dims)
            or not isinstance(weights.data, np.ndarray)
            or not all(weights.indexes[d].equals(var.indexes[d]) for d in space if d in weights.indexes and d in var.indexes)
        ):
            return self._integrate_plain(dset, varname, region, mean, weight)
        self.integrals_direct += 1
        total = _dot(var.fillna(0.0), weights)
        if mean:
            sum_of_weights = _dot(var.notnull(), weights)
            with np.errstate(invalid="ignore", divide="ignore"):
                value = total / np.where(sum_of_weights != 0.0, sum_of_weights, np.nan)
            units = var.attrs["units"]
        else:
            value = total
            units = f"({var.attrs['units']})*({measures.attrs['units']})"
        # xarray's weighted reductions keep the variable's attributes unless told not to; ilamb3
        # then sets the units
        attrs = dict(var.attrs) if xr.get_options()["keep_attrs"] in ("default", True) else {}
        scalar_coords = {k: c.variable for k, c in var.coords.items() if not set(c.dims) & set(space)}
        return xr.DataArray(value, coords=scalar_coords, name=var.name, attrs={**attrs, "units": units})

    def _integrate_plain(self, dset, varname, region, mean, weight) -> xr.DataArray:
        self.integrals_plain += 1
        return self.integrate_original(dset, varname, region=region, mean=mean, weight=weight)

    @staticmethod
    def _grid_key(data, varname) -> tuple | None:
        """What ilamb3's cell areas depend on: the spatial coordinates, their bounds, scalar coordinates."""
        import ilamb3.dataset as dset

        da = data[varname] if isinstance(data, xr.Dataset) else data
        try:
            lat_name, lon_name = dset.get_dim_name(da, "lat"), dset.get_dim_name(da, "lon")
        except Exception:  # noqa: BLE001 - ilamb3 raises its own errors for such data: let it
            return None
        parts: list = [type(data).__name__, lat_name, lon_name]
        for name in (lat_name, lon_name):
            coord = da[name]
            parts += [_digest(coord.values), tuple(sorted(coord.attrs.items(), key=str))]
            bounds = coord.attrs.get("bounds")
            if isinstance(data, xr.Dataset) and bounds in data:
                parts += [bounds, _digest(data[bounds].values), data[bounds].dims]
        scalar = {n: c.values for n, c in data.coords.items() if c.ndim == 0}
        parts += [(n, _digest(v)) for n, v in sorted(scalar.items())]
        return tuple(parts)


@contextlib.contextmanager
def grid_work_once() -> Iterator[GridWork]:
    """Within the block, ilamb3 puts each region mask on a grid and computes its cell areas once.

    Yields
    ------
    GridWork
        The caches and their hit counts (see the module).
    """
    import ilamb3.dataset as ild
    import ilamb3.regions as ilr

    with _LOCK:
        if _ACTIVE:
            yield _ACTIVE[-1]
            return
        work = GridWork(ilr.restrict_to_region, ild.compute_cell_measures, ild.integrate_space)
        ilr.restrict_to_region = work.restrict_to_region
        ild.compute_cell_measures = work.compute_cell_measures
        ild.integrate_space = work.integrate_space
        _ACTIVE.append(work)
        try:
            yield work
        finally:
            ilr.restrict_to_region = work.restrict_original
            ild.compute_cell_measures = work.measures_original
            ild.integrate_space = work.integrate_original
            _ACTIVE.clear()
