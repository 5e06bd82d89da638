"""First-order conservative regridding on the sphere: the overlap maths.

Overlaps of latitude bands (in ``sin(lat)``, area-proportional) and of longitude intervals
(periodic in 360 degrees) are sparse matrices; :func:`regrid_conservative` integrates a map over
the target cells with them. Edges closer than :data:`EDGE_SNAP_SHARE` of a cell are one edge
(see :mod:`globalrs.gridding.harmonize`).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from globalrs.core.grid import EARTH_RADIUS_M
from globalrs.gridding.harmonize.sources import GridEdges

#: Two cell edges closer than this share of the finer of the two grids' smallest cell width are
#: the same edge: rounding (e.g. ``-180 + 0.1 * k`` against ``-180 + 0.5 * m``) leaves
#: differences of about 1e-13 deg, which would otherwise count as overlaps of that size and
#: make a target cell with no real overlap "covered".
EDGE_SNAP_SHARE = 1e-6


def _deg_to_sin(edges_deg: np.ndarray) -> np.ndarray:
    return np.sin(np.deg2rad(edges_deg))


def overlap_lat(src_e: np.ndarray, tgt_e: np.ndarray) -> sparse.csr_matrix:
    """Sparse ``(n_tgt, n_src)`` overlaps of latitude bands in ``sin(lat)`` (area-proportional).

    Overlaps are exact up to rounding and zero where the bands only touch: edges of the two
    grids that differ by less than :data:`EDGE_SNAP_SHARE` of a cell are taken as one edge.
    """
    return _interval_overlaps(np.asarray(src_e, dtype=float), np.asarray(tgt_e, dtype=float), _deg_to_sin)


def overlap_lon(src_e: np.ndarray, tgt_e: np.ndarray) -> sparse.csr_matrix:
    """Sparse ``(n_tgt, n_src)`` overlaps of longitude intervals in radians, periodic in 360."""
    src_e = np.asarray(src_e, dtype=float)
    tgt_e = np.asarray(tgt_e, dtype=float)
    mats = [_interval_overlaps(src_e + shift, tgt_e, np.deg2rad) for shift in (-360.0, 0.0, 360.0)]
    return (mats[0] + mats[1] + mats[2]).tocsr()


def _snap_edges(src_e: np.ndarray, tgt_e: np.ndarray, tol: float) -> np.ndarray:
    """``src_e`` with every edge within ``tol`` of a target edge replaced by that target edge."""
    idx = np.clip(np.searchsorted(tgt_e, src_e), 1, tgt_e.size - 1)
    left, right = tgt_e[idx - 1], tgt_e[idx]
    nearest = np.where(np.abs(src_e - left) <= np.abs(right - src_e), left, right)
    return np.where(np.abs(nearest - src_e) <= tol, nearest, src_e)


def _interval_overlaps(src_e: np.ndarray, tgt_e: np.ndarray, measure) -> sparse.csr_matrix:
    """Overlaps between the intervals of two ascending edge arrays (degrees).

    Source edges within a tolerance of a target edge are snapped onto it, the overlap of each
    pair is decided in degrees (``min(hi) > max(lo)``) and measured as
    ``measure(min(hi)) - measure(max(lo))`` on the snapped edges, so that the overlaps of a
    source cell sum to its own measure (the pieces telescope) and touching cells get no
    overlap at all.
    """
    steps = np.concatenate([np.diff(src_e), np.diff(tgt_e)])
    tol = EDGE_SNAP_SHARE * float(steps[steps > 0].min()) if np.any(steps > 0) else 0.0
    s = _snap_edges(src_e, tgt_e, tol)
    s_lo, s_hi = s[:-1], s[1:]
    t_lo, t_hi = tgt_e[:-1], tgt_e[1:]
    start = np.searchsorted(s_hi, t_lo, side="right")
    stop = np.searchsorted(s_lo, t_hi, side="left")
    counts = np.maximum(stop - start, 0)
    rows = np.repeat(np.arange(t_lo.size), counts)
    if rows.size:
        offsets = np.cumsum(counts) - counts
        cols = start[rows] + (np.arange(rows.size) - offsets[rows])
    else:
        cols = np.zeros(0, dtype=int)
    hi = np.minimum(s_hi[cols], t_hi[rows])
    lo = np.maximum(s_lo[cols], t_lo[rows])
    keep = hi > lo
    rows, cols = rows[keep], cols[keep]
    vals = measure(hi[keep]) - measure(lo[keep])
    return sparse.csr_matrix((vals, (rows, cols)), shape=(t_lo.size, s_lo.size))


#: what the output's "regridding" attribute adds for each kind of source latitudes
LAT_KIND_NOTES = {
    "regular": "",
    "gaussian": ", from a Gaussian grid (Gauss-Legendre latitudes, cell edges from the quadrature weights)",
    "midpoints": ", from irregular latitudes (cell edges half-way between the centres)",
}


def regrid_conservative(
    values: np.ndarray,
    src: GridEdges,
    tgt_lat_e: np.ndarray,
    tgt_lon_e: np.ndarray,
    quantity: str = "density",
) -> tuple[np.ndarray, np.ndarray]:
    """Conservatively integrate ``values`` (..., lat, lon) over target cells.

    Parameters
    ----------
    values
        Source values, latitude ascending, NaN for missing.
    src
        Source cell edges.
    tgt_lat_e, tgt_lon_e
        Target edges in degrees (ascending).
    quantity
        ``"density"`` (per m2: integrate value x overlap area) or ``"total"`` (per cell:
        distribute each cell's total by the share of its area in each target cell).

    Returns
    -------
    (integral, covered_m2)
        Per target cell: the integral (density x m2, or the summed totals) and the area (m2)
        of source cells with data inside it; arrays shaped ``(..., n_tgt_lat, n_tgt_lon)``.
    """
    s_lat = overlap_lat(src.lat, tgt_lat_e)
    s_lon = overlap_lon(src.lon, tgt_lon_e)
    r2 = EARTH_RADIUS_M**2
    if quantity == "total":
        src_dsin = np.diff(np.sin(np.deg2rad(src.lat)))
        src_dlon = np.deg2rad(np.diff(src.lon))
        s_lat_v = s_lat.multiply(1.0 / src_dsin[None, :]).tocsr()
        s_lon_v = s_lon.multiply(1.0 / src_dlon[None, :]).tocsr()
        scale = 1.0
    elif quantity == "density":
        s_lat_v, s_lon_v, scale = s_lat, s_lon, r2
    else:
        raise ValueError(f"quantity must be 'density' or 'total', got {quantity!r}")
    valid = np.isfinite(values)
    filled = np.where(valid, values, 0.0).astype(np.float64)
    lead = values.shape[:-2]
    flat = filled.reshape((-1,) + values.shape[-2:])
    vflat = valid.reshape((-1,) + values.shape[-2:]).astype(np.float64)
    integ = np.empty((flat.shape[0], tgt_lat_e.size - 1, tgt_lon_e.size - 1))
    cover = np.empty_like(integ)
    for k in range(flat.shape[0]):
        integ[k] = (s_lon_v @ (s_lat_v @ flat[k]).T).T * scale
        cover[k] = (s_lon @ (s_lat @ vflat[k]).T).T * r2
    shape = lead + integ.shape[-2:]
    return integ.reshape(shape), cover.reshape(shape)
