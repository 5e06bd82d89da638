"""The regions of the paper's regional analysis (and other region sets), as data, and regional statistics.

The paper divides land into 14 regions "based on the continents, latitudes, and primary biomes"
and names three (B2 north African dry area, C2 central Eurasian deserts, C5 Southeast Asian
islands). The table ``globalrs/tables/regions.csv`` is a RECONSTRUCTION: rules of Natural Earth
continent x latitude/longitude box, labelled A1..C5 (A = Americas, B = Europe/Africa,
C = Asia/Oceania). Edit the table to try another division; nothing else changes.

Masking rule (documented, fractional):

1. each cell's fractional overlap with every Natural Earth continent polygon is computed with
   ``regionmask``'s method (``mask_3D_frac_approx``, counted by :func:`overlap_fractions`; 110m
   countries dissolved by ``CONTINENT``);
2. the share of a continent in a cell goes to the first rule (by ``priority``) that lists the
   continent and whose box holds the cell centre;
3. weights are normalized so that every cell touching land is fully partitioned among regions
   (regional totals then add up to the global total of the same map); coastal and island cells
   that no 110m polygon touches take the region of the nearest cell that has one within three
   cells (north of 60 S; Antarctica belongs to no region; remote islands stay unassigned and
   the chapter reports the area they hold).

Other divisions are other tables: ``tables/regions_NAME.csv`` is the region set ``NAME``, either
with the same rule columns or naming a set of regions that ``regionmask`` defines in its own code
(``regionmask_set``, e.g. ``srex``), whose cell overlaps are normalized the same way
(:func:`region_weights` with ``region_set``). A table outside the package is a set too, once
registered (:func:`register_region_set`, or :func:`registered_region_set` for a ``with`` block).
Every set, the paper's included, goes through the same code: its regions, their number and their
order come from its table (:func:`region_order`). Nothing else changes.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from importlib import resources
from io import StringIO
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import xarray as xr

from globalrs.core.exceptions import DataAccessError, GridError
from globalrs.core.grid import cell_area_m2, cell_index, make_grid, same_grid, wrap_lon
from globalrs.core.units import G_PER_PG
from globalrs.sources.cache import cache_key, cache_path, cached_build, read_netcdf_array, write_netcdf_atomic
from globalrs.sources.data import fetch, require_columns

with warnings.catch_warnings():
    # regionmask imports tqdm.auto, which in a Jupyter kernel without ipywidgets warns on stderr
    # that it will fall back to text progress bars. Harmless, but stderr fails the book build;
    # regionmask's progress bars are not used here.
    warnings.filterwarnings("ignore", message="IProgress not found")
    import regionmask

COUNTRIES = "natural-earth/ne_110m_admin_0_countries.json"
#: Result version of the cached continent fractions: bump it when their computation changes.
REGIONS_VERSION = "1"
#: The region set of the paper's analysis (``tables/regions.csv``); another set ``NAME`` is the
#: table ``tables/regions_NAME.csv``.
PAPER_SET = "paper"
#: Columns every region table has; a rule table (continent x box rules) adds the box columns,
#: a regionmask table names the regionmask-defined set each region comes from.
TABLE_COLUMNS = {"region", "name"}
RULE_COLUMNS = {"priority", "continents", "lat_min", "lat_max", "lon_min", "lon_max"}
REGIONMASK_COLUMN = "regionmask_set"


#: Region sets registered from tables outside the package: name -> table path.
_REGISTERED_SETS: dict[str, Path] = {}


def _table_file(region_set: str) -> str:
    if region_set in _REGISTERED_SETS:
        return str(_REGISTERED_SETS[region_set])
    return "tables/regions.csv" if region_set == PAPER_SET else f"tables/regions_{region_set}.csv"


def region_sets() -> list[str]:
    """The region sets: ``"paper"``, each ``tables/regions_NAME.csv`` the package ships, then the registered ones."""
    names = [p.name for p in resources.files("globalrs").joinpath("tables").iterdir()]
    others = sorted(
        n.removeprefix("regions_").removesuffix(".csv") for n in names if n.startswith("regions_") and n.endswith(".csv")
    )
    return [PAPER_SET, *others, *_REGISTERED_SETS]


def register_region_set(name: str, table_csv: str | Path) -> None:
    """Make a region table outside the package the region set ``name``.

    Parameters
    ----------
    name
        The set's name (``region_set=name`` everywhere); a shipped set's name is refused.
    table_csv
        A rule table or a regionmask table (the columns of ``tables/regions.csv`` or
        ``tables/regions_srex.csv``; ``#`` lines are comments). Checked now.
    """
    path = Path(table_csv)
    if name in region_sets():
        raise ValueError(f"a region set named {name!r} exists already; choose another name")
    if not path.is_file():
        raise FileNotFoundError(f"region table {path} does not exist")
    _REGISTERED_SETS[name] = path
    try:
        load_regions(name)
    except Exception:
        del _REGISTERED_SETS[name]
        raise


def unregister_region_set(name: str) -> None:
    """Forget a set added by :func:`register_region_set`."""
    if name not in _REGISTERED_SETS:
        raise KeyError(f"{name!r} is not a registered region set")
    del _REGISTERED_SETS[name]


@contextmanager
def registered_region_set(name: str, table_csv: str | Path) -> Iterator[str]:
    """:func:`register_region_set` for a ``with`` block; the set is forgotten afterwards."""
    register_region_set(name, table_csv)
    try:
        yield name
    finally:
        unregister_region_set(name)


def _table_text(region_set: str) -> str:
    if region_set in _REGISTERED_SETS:
        return _REGISTERED_SETS[region_set].read_text()
    return resources.files("globalrs").joinpath(_table_file(region_set)).read_text()


def read_region_table(region_set: str = PAPER_SET) -> pd.DataFrame:
    """The rows of a region table (``#`` lines are comments), checked.

    Raises
    ------
    ValueError
        An unknown set, a table that is neither a rule table nor a regionmask table, or a
        region without a name.
    """
    if region_set not in region_sets():
        raise ValueError(f"unknown region set {region_set!r}; known: {region_sets()}")
    text = _table_text(region_set)
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    table = pd.read_csv(StringIO("\n".join(lines)))
    name = _table_file(region_set)
    require_columns(table, TABLE_COLUMNS, name)
    if not (RULE_COLUMNS <= set(table.columns) or REGIONMASK_COLUMN in table.columns):
        raise ValueError(f"{name}: neither a rule table ({sorted(RULE_COLUMNS)}) nor a regionmask table ({REGIONMASK_COLUMN!r})")
    if table["region"].isna().any() or table["name"].isna().any():
        raise ValueError(f"{name}: every row needs a region label and a name")
    return table


def load_region_rules(region_set: str = PAPER_SET) -> pd.DataFrame:
    """Return the rule table (one row per continent x box rule), sorted by priority."""
    rules = read_region_table(region_set)
    require_columns(rules, RULE_COLUMNS, _table_file(region_set))
    return rules.sort_values("priority").reset_index(drop=True)


def load_regions(region_set: str = PAPER_SET) -> pd.DataFrame:
    """Return the regions of a set (index ``region``) with name and the table's other columns.

    The regions come in the order they first appear in the table (A1..C5 for the paper's set),
    whatever kind of table it is. Any number of regions (two or more) is allowed.
    """
    table = read_region_table(region_set)
    extra = [c for c in ("basis", "gfed_analogue", "paper_analogue", REGIONMASK_COLUMN) if c in table.columns]
    agg: dict[str, tuple[str, Any]] = {"name": ("name", "first"), **{c: (c, "first") for c in extra}}
    if "continents" in table.columns:
        agg["continents"] = ("continents", lambda s: ";".join(dict.fromkeys(";".join(s).split(";"))))
    regions = table.groupby("region", sort=False).agg(**agg)
    if len(regions) < 2:
        raise ValueError(f"{_table_file(region_set)}: a region set needs at least two regions")
    regions.index = regions.index.astype(str)
    regions.index.name = "region"
    return regions


def region_order(region_set: str = PAPER_SET) -> tuple[str, ...]:
    """The labels of a region set in display order (:func:`load_regions`)."""
    return tuple(load_regions(region_set).index)


#: The labels of the paper's set (A1..C5), read from its table like any other set's.
REGION_ORDER = region_order(PAPER_SET)


@lru_cache(maxsize=1)
def _continent_regions():
    countries = gpd.read_file(fetch(COUNTRIES))
    continents = countries[["CONTINENT", "geometry"]].dissolve("CONTINENT").reset_index()
    return regionmask.from_geopandas(continents, names="CONTINENT", abbrevs="_from_name", name="natural-earth-continents")


def continent_fractions(lat: np.ndarray, lon: np.ndarray) -> xr.DataArray:
    """Fractional overlap (0..1) of each cell with each Natural Earth continent.

    Cached on disk (keyed by the grid and the countries file) because it takes seconds.

    Returns
    -------
    xarray.DataArray
        ``(continent, lat, lon)`` fractions.
    """
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    grid = hashlib.sha256(lat.tobytes() + lon.tobytes()).hexdigest()[:16]
    key = cache_key("continent_fractions", REGIONS_VERSION, [COUNTRIES], grid=grid)

    def build() -> xr.DataArray:
        frac = overlap_fractions(_continent_regions(), lon, lat)
        frac = frac.assign_coords(continent=("region", frac["names"].values))
        frac = frac.swap_dims(region="continent").drop_vars([c for c in ("region", "names", "abbrevs") if c in frac.coords])
        return frac.fillna(0.0).astype("float32").rename("continent_fraction")

    return cached_build(cache_path("regions", "continent_frac", key), build, read_netcdf_array, write_netcdf_atomic)


SUBSAMPLES_PER_CELL_SIDE = 10  # regionmask's mask_3D_frac_approx samples each cell 10 x 10


def overlap_fractions(defined: regionmask.Regions, lon: np.ndarray, lat: np.ndarray) -> xr.DataArray:
    """Each cell's fractional overlap with each region: ``defined.mask_3D_frac_approx(lon, lat, drop=False)``.

    regionmask samples every cell 10 x 10, rasterizes each region on the sampled grid as its own
    boolean layer (a sample on a boundary two regions share can count for both) and averages.
    This gives the same numbers with less work: the regions are split into groups in which no
    two touch (a greedy colouring of the regions' intersection graph; AR6 land needs a handful),
    and each group is rasterized by one 2-D mask of the sampled grid (``Regions.mask``, the same
    rasterization, polygon by polygon), whose samples are counted per cell with ``bincount``
    and divided by the samples counted, as regionmask's mean does (at the first and last rows
    only samples within 90 degrees count). The result equals regionmask's value for value
    (``tests/test_region_fractions.py`` compares them on random grids) without the 3-D unpacking
    that takes regionmask about 20 CPU-s for AR6 on the 0.5-degree grid. Everything else goes
    to regionmask's own method, with its own errors: grids it would not rasterize directly (not
    1-D, fewer than two cells a side, not equally spaced, latitudes beyond 90 degrees), regions
    on both sides of the longitude conventions, and sampled grids touching -180 E (0 E) or
    -90 N after regionmask's longitude wrapping, where its edge-point rule differs between its
    2-D and 3-D masks.

    Returns
    -------
    xarray.DataArray
        ``(region, lat, lon)`` fractions (float64) with regionmask's ``region`` numbers and
        ``abbrevs``/``names`` coordinates, every region kept, named and labelled as regionmask's.
    """
    n = SUBSAMPLES_PER_CELL_SIDE
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    if not _rasterizable(defined, lon, lat):
        return defined.mask_3D_frac_approx(lon, lat, drop=False)  # regionmask's own error or method
    lon_s, lat_s = _sample_cell_centres(lon, n), _sample_cell_centres(lat, n)
    wrap: Literal[180, 360] | bool = 180 if np.round(defined.bounds_global[2], 6) <= 180 else 360  # regionmask's rule
    lon_wrapped = _wrap_like_regionmask(lon_s, wrap)
    on_edge = np.isclose(lon_wrapped, -180.0 if lon_wrapped.min() < 0 else 0.0).any() or np.isclose(lat_s, -90.0).any()
    if on_edge:
        return defined.mask_3D_frac_approx(lon, lat, drop=False)
    if np.array_equal(lon_wrapped, lon_s):
        wrap = False  # regionmask's wrapping would leave every sample as it is; skip its edge-point pass too
    row_used = np.abs(lat_s) <= 90  # regionmask's first and last rows count only these samples
    row_used[n:-n] = True
    per_row = row_used.reshape(lat.size, n).sum(axis=1) * n
    numbers = np.asarray(defined.numbers)
    frac = np.zeros((numbers.size, lat.size, lon.size))
    for group in _non_touching_groups(list(defined.polygons)):
        part = regionmask.Regions([defined.polygons[i] for i in group], numbers=list(range(len(group))), overlap=False)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="No gridpoint belongs to any region")
            sampled = part.mask(lon_s, lat_s, wrap_lon=wrap).values
        frac[group] = _samples_per_cell(sampled, row_used, n, len(group)).transpose(2, 0, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac /= per_row[None, :, None]
    return xr.DataArray(
        frac,
        dims=("region", "lat", "lon"),
        coords={
            "lat": lat,
            "lon": lon,
            "region": numbers,
            "abbrevs": ("region", list(defined.abbrevs)),
            "names": ("region", list(defined.names)),
        },
        name="mask",
        attrs={"standard_name": "region"},
    )


def _rasterizable(defined: regionmask.Regions, lon: np.ndarray, lat: np.ndarray) -> bool:
    """Whether regionmask would rasterize this grid as it is (its own tests, or stricter)."""
    if lon.ndim != 1 or lat.ndim != 1 or lon.size < 2 or lat.size < 2:
        return False
    if not all(np.allclose(np.diff(c)[0], np.diff(c)) for c in (lon, lat)):  # regionmask's equally_spaced
        return False
    if lat.min() < -90 or lat.max() > 90:
        return False
    west, east = np.round(defined.bounds_global[0], 6), np.round(defined.bounds_global[2], 6)
    return not (west < 0 and east > 180)  # regionmask refuses such regions


def _wrap_like_regionmask(lon: np.ndarray, wrap: int) -> np.ndarray:
    """Longitudes as regionmask wraps them before masking: into [-180, 180) (``wrap=180``) or [0, 360)."""
    if wrap == 360:
        return np.mod(lon, 360)
    out = lon.copy()
    outside = (out < -180) | (out >= 180)
    out[outside] = np.mod(out[outside] + 180, 360) - 180
    return out


def _sample_cell_centres(centres: np.ndarray, n: int) -> np.ndarray:
    """``n`` equally spaced samples inside each cell of equally spaced ``centres`` (regionmask's sampling)."""
    step = centres[1] - centres[0]
    left = centres[0] - step / 2 + step / (n * 2)
    right = centres[-1] + step / 2 - step / (n * 2)
    return np.linspace(left, right, centres.size * n)


def _non_touching_groups(polygons: list[Any]) -> list[list[int]]:
    """Indices of ``polygons`` in groups whose members neither overlap nor touch (greedy colouring)."""
    groups: list[list[int]] = []
    for i, polygon in enumerate(polygons):
        for group in groups:
            if not any(polygon.intersects(polygons[j]) for j in group):
                group.append(i)
                break
        else:
            groups.append([i])
    return groups


def _samples_per_cell(sampled: np.ndarray, row_used: np.ndarray, n: int, n_regions: int) -> np.ndarray:
    """``(lat, lon, region)`` counts of a sampled 2-D mask's region indices (0 .. n_regions - 1) per cell.

    Row band by row band (``n`` sample rows a cell), so no array as large as the sampled grid is
    made; sample rows not ``row_used`` are skipped, and samples in no region (NaN) are not counted.
    """
    n_lat, n_lon = sampled.shape[0] // n, sampled.shape[1] // n
    n_labels = n_regions + 1
    column_cell = np.repeat(np.arange(n_lon), n) * n_labels
    counts = np.zeros((n_lat, n_lon, n_labels), dtype=np.int64)
    for i in range(n_lat):
        rows = slice(i * n, (i + 1) * n)
        label = np.nan_to_num(sampled[rows][row_used[rows]], nan=n_regions).astype(np.int64)  # NaN: in none
        counts[i] = np.bincount((column_cell[None, :] + label).ravel(), minlength=n_lon * n_labels).reshape(n_lon, n_labels)
    return counts[..., :n_regions]


def defined_fractions(region_set: str, lat: np.ndarray, lon: np.ndarray) -> xr.DataArray:
    """Fractional overlap (0..1) of each cell with each region of a regionmask table's set.

    The regions are regionmask's own definitions (``regionmask.defined_regions.<set>``, named in
    the table's ``regionmask_set`` column), selected by the table's labels (their abbreviations).
    Cached on disk like :func:`continent_fractions`.

    Returns
    -------
    xarray.DataArray
        ``(region, lat, lon)`` fractions in the table's order.

    Raises
    ------
    ValueError
        A table naming more than one regionmask set, or a label the set does not define.
    """
    table = read_region_table(region_set)
    sets = table[REGIONMASK_COLUMN].unique()
    if sets.size != 1:
        raise ValueError(f"{_table_file(region_set)}: one regionmask set per table, got {list(sets)}")
    defined: Any = regionmask.defined_regions
    try:
        for part in str(sets[0]).split("."):
            defined = getattr(defined, part)
    except AttributeError:
        raise
    except Exception as exc:  # noqa: BLE001 - pooch's network errors have many types; say what to do
        raise DataAccessError(
            f"{_table_file(region_set)}: regionmask could not load its {sets[0]} regions ({type(exc).__name__}: {exc}). "
            "Some of regionmask's region sets (AR6) are a shapefile regionmask downloads on first use; offline, "
            "'./run.sh env' puts it in regionmask's cache from regionmask's own sdist on the package index "
            "(scripts/seed_regionmask_cache.py), or go online once."
        ) from exc
    missing = sorted(set(table["region"]) - set(defined.abbrevs))
    if missing:
        raise ValueError(f"{_table_file(region_set)}: regions {missing} are not in regionmask's {sets[0]}")
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    grid = hashlib.sha256(lat.tobytes() + lon.tobytes()).hexdigest()[:16]
    key = cache_key("defined_fractions", REGIONS_VERSION, [], set=str(sets[0]), regionmask=regionmask.__version__, grid=grid)
    order = list(region_order(region_set))

    def build() -> xr.DataArray:
        frac = overlap_fractions(defined, lon, lat)
        frac = frac.assign_coords(label=("region", frac["abbrevs"].values)).swap_dims(region="label")
        frac = frac.drop_vars([c for c in ("region", "names", "abbrevs") if c in frac.coords]).rename(label="region")
        return frac.sel(region=order).fillna(0.0).astype("float32").rename("region_fraction")

    return cached_build(cache_path("regions", f"defined_frac_{region_set}", key), build, read_netcdf_array, write_netcdf_atomic)


def _rule_weights(
    fractions: xr.DataArray, continents: set[str], rules: pd.DataFrame, order: Sequence[str], lat: np.ndarray, lon: np.ndarray
) -> dict[str, np.ndarray]:
    """Each region's share of every cell under the rule table: its continents' fractions inside its boxes.

    Rules are taken in table order; a cell a rule has claimed for a continent is not claimed again.
    """
    lat2 = lat[:, None]
    lon2 = lon[None, :]
    weights = {r: np.zeros((lat.size, lon.size)) for r in order}
    for continent in continents:
        frac = fractions.sel(continent=continent).values.astype(float)
        unclaimed = np.ones((lat.size, lon.size), dtype=bool)
        for rule in rules.itertuples():
            if continent not in rule.continents.split(";"):
                continue
            inside = (lat2 >= rule.lat_min) & (lat2 < rule.lat_max) & (lon2 >= rule.lon_min) & (lon2 < rule.lon_max)
            take = inside & unclaimed
            weights[rule.region] += np.where(take, frac, 0.0)
            unclaimed &= ~take
    return weights


def _fill_from_nearest(
    stack: np.ndarray, total: np.ndarray, antarctic: np.ndarray, lat: np.ndarray, lon: np.ndarray, max_fill_cells: float
) -> np.ndarray:
    """Give unassigned cells north of 60 S (not Antarctic) the weights of the nearest assigned cell within reach."""
    lat2 = lat[:, None]
    lon2 = lon[None, :]
    empty = (total <= 0) & ~antarctic & (lat2 > -60) & np.ones_like(lon2, dtype=bool)
    if not ((total > 0).any() and empty.any()):
        return stack
    # nearest assigned cell (in index space, longitude periodic via tiling)
    assigned = np.tile(total > 0, (1, 3))
    from scipy import ndimage  # on first use: scipy.ndimage costs 0.2 CPU-s in every kernel that imports regions

    dist, (ii, jj) = ndimage.distance_transform_edt(~assigned, return_indices=True)
    n = lon.size
    ii, jj = ii[:, n : 2 * n], jj[:, n : 2 * n] % n
    near = empty & (dist[:, n : 2 * n] <= max_fill_cells)
    return np.where(near[None], stack[:, ii, jj], stack)


def region_weights(
    lat: np.ndarray | None = None,
    lon: np.ndarray | None = None,
    fractions: xr.DataArray | None = None,
    fill_nearest: bool = True,
    max_fill_cells: float = 3.0,
    region_set: str = PAPER_SET,
) -> xr.DataArray:
    """Fractional membership (0..1) of every cell in each region of a set (the paper's 14 by default).

    Parameters
    ----------
    lat, lon
        Cell centres (default: the common 0.5-degree grid).
    fractions
        ``(continent, lat, lon)`` continent fractions; computed with :func:`continent_fractions`
        when omitted (tests pass small synthetic ones).
    fill_nearest
        Give cells no continent polygon touches (north of 60 S) the region of the nearest cell
        that has one, if it lies within ``max_fill_cells`` cells (coasts and small islands that
        the 110m polygons miss; remote islands stay unassigned and are counted by callers).
    max_fill_cells
        Largest distance (in cells) over which the nearest-region fill reaches.
    region_set
        :func:`region_sets`: the paper's rule table, or a regionmask table (each cell's overlap
        with the regionmask-defined regions it lists, normalized like the rules' shares).

    Returns
    -------
    xarray.DataArray
        ``(region, lat, lon)`` weights; they sum to 1 on every assigned cell and 0 elsewhere.
    """
    if lat is None or lon is None:
        lat, lon = make_grid(0.5)
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    order = region_order(region_set)
    table = read_region_table(region_set)
    known: set[str] = set()
    if REGIONMASK_COLUMN in table.columns:
        defined = defined_fractions(region_set, lat, lon) if fractions is None else fractions
        weights = {region: defined.sel(region=region).values.astype(float) for region in order}
    else:
        if fractions is None:
            fractions = continent_fractions(lat, lon)
        known = set(str(c) for c in fractions["continent"].values)
        weights = _rule_weights(fractions, known, load_region_rules(region_set), order, lat, lon)
    stack = np.stack([weights[r] for r in order])
    total = stack.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        stack = np.where(total > 0, stack / np.where(total > 0, total, 1.0), 0.0)
    if fill_nearest:
        antarctic = np.zeros_like(total, dtype=bool)
        if fractions is not None and "Antarctica" in known:
            antarctic = fractions.sel(continent="Antarctica").values > 0
        stack = _fill_from_nearest(stack, total, antarctic, lat, lon, max_fill_cells)
    out = xr.DataArray(
        stack.astype("float32"),
        dims=("region", "lat", "lon"),
        coords={"region": list(order), "lat": lat, "lon": lon},
        name="region_weight",
        attrs={
            "units": "1",
            "long_name": f"fractional membership in the regions of the {region_set!r} set",
            "region_set": region_set,
            "rule": (
                f"overlap with regionmask.defined_regions.{table[REGIONMASK_COLUMN].iloc[0]} (globalrs/{_table_file(region_set)})"
                if REGIONMASK_COLUMN in table.columns
                else f"Natural Earth continent x box rules (globalrs/{_table_file(region_set)})"
            ),
        },
    )
    return out


def region_labels(weights: xr.DataArray) -> xr.DataArray:
    """The dominant region of each cell (string), '' where no region."""
    idx = weights.argmax("region")
    labels = np.asarray(weights["region"].values)[idx.values]
    labels = np.where(weights.sum("region").values > 0, labels, "")
    return xr.DataArray(labels, dims=("lat", "lon"), coords={"lat": weights.lat, "lon": weights.lon})


def check_on_region_grid(field: xr.DataArray, weights: xr.DataArray) -> None:
    """Refuse a map on a grid the region weights are not on, naming the map and the region set.

    The comparison of grids is :func:`globalrs.core.grid.same_grid`; this adds the message a reader of
    regional tables needs.

    Raises
    ------
    GridError
        The map's (lat, lon) differ from the weights'.
    """
    if not all(c in field.coords for c in ("lat", "lon")) or not same_grid(field, weights):
        what = ", ".join(map(str, field["model"].values)) if "model" in field.coords else (field.name or "the map")
        shape = tuple(field.sizes.get(c) for c in ("lat", "lon"))
        raise GridError(
            f"{what}: a (lat, lon) grid of {shape} cells that the regions of the "
            f"{weights.attrs.get('region_set', PAPER_SET)!r} set ({weights.sizes['lat']} x {weights.sizes['lon']}) "
            "are not on; put the map on the region grid first (globalrs.gridding.harmonize)"
        )


def regional_totals_pg(
    flux_g_m2_yr: xr.DataArray,
    weights: xr.DataArray | None = None,
    area_m2: xr.DataArray | None = None,
    mask: xr.DataArray | None = None,
) -> xr.DataArray:
    """Regional totals of a flux density in Pg C yr-1.

    Parameters
    ----------
    flux_g_m2_yr
        ``(..., lat, lon)`` in g C m-2 yr-1 (``units`` attribute checked when present).
    weights
        ``(region, lat, lon)`` from :func:`region_weights`; when omitted,
        :func:`region_weights` of the flux's grid (kept for existing callers: pass the weights
        when you already have them).
    area_m2
        Cell areas; computed from the coordinates when omitted.
    mask
        Optional ``(lat, lon)`` boolean: only these cells count, and a NaN inside raises.

    Returns
    -------
    xarray.DataArray
        ``(..., region)`` totals, ``units="Pg C yr-1"``.
    """
    units = flux_g_m2_yr.attrs.get("units")
    if units is not None and units.replace(" ", "") not in {"gCm-2yr-1", "gm-2yr-1"}:
        raise ValueError(f"regional_totals_pg expects g C m-2 yr-1, got {units!r}")
    if weights is None:
        weights = region_weights(flux_g_m2_yr["lat"].values, flux_g_m2_yr["lon"].values)
    check_on_region_grid(flux_g_m2_yr, weights)
    if area_m2 is None:
        area_m2 = cell_area_m2(flux_g_m2_yr["lat"].values, flux_g_m2_yr["lon"].values)
    flux = flux_g_m2_yr
    if mask is not None:
        mask = mask.astype(bool)
        bad = int((flux.isnull() & mask).sum())
        if bad:
            raise ValueError(f"{bad} cell values inside the mask are NaN")
        flux = flux.where(mask)
    weighted_area = weights * area_m2
    total = xr.dot(flux.fillna(0.0), weighted_area, dim=["lat", "lon"]) / G_PER_PG
    total.attrs = {"units": "Pg C yr-1", "long_name": "regional total"}
    return total.rename("regional_total_pg_c_yr")


def regional_mean(field: xr.DataArray, weights: xr.DataArray) -> xr.DataArray:
    """Area- and membership-weighted regional mean of a ``(..., lat, lon)`` field (NaNs skipped).

    Parameters
    ----------
    field
        ``(..., lat, lon)`` field.
    weights
        ``(region, lat, lon)`` from :func:`region_weights`.

    Returns
    -------
    xarray.DataArray
        ``(..., region)`` means.
    """
    area = cell_area_m2(field["lat"].values, field["lon"].values)
    w = weights * area
    valid = field.notnull()
    num = xr.dot(field.fillna(0.0), w, dim=["lat", "lon"])
    den = xr.dot(valid.astype(float), w, dim=["lat", "lon"])
    out = num / den.where(den > 0)
    out.attrs = dict(field.attrs)
    return out


#: Fewest members for a bootstrap interval of a CV: with fewer, resampling a handful of members
#: gives intervals that mean nothing (a lower bound of 1e-14 when a draw repeats one member), so
#: :func:`regional_cv` gives the leave-one-out range instead.
MIN_BOOTSTRAP_MEMBERS = 10


def leave_one_out_cv(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest CV (ddof = 1) with one member left out, per column of ``(member, region)``.

    NaN with fewer than three members (a CV of one member is undefined).
    """
    values = np.asarray(values, float)
    n = values.shape[0]
    if n < 3:
        nan = np.full(values.shape[1:], np.nan)
        return nan, nan.copy()
    cvs = []
    for k in range(n):
        rest = np.delete(values, k, axis=0)
        cvs.append(rest.std(axis=0, ddof=1) / rest.mean(axis=0))
    stacked = np.array(cvs)
    return stacked.min(axis=0), stacked.max(axis=0)


def regional_cv(
    totals: xr.DataArray,
    dim: str = "member",
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
    min_boot_members: int = MIN_BOOTSTRAP_MEMBERS,
    cv_threshold: float | None = None,
) -> pd.DataFrame:
    """Coefficient of variation (sample SD / mean, ddof = 1) of regional totals across members.

    Parameters
    ----------
    totals
        ``(member, region)`` totals in Pg C yr-1.
    dim
        The ensemble dimension.
    n_boot
        Bootstrap resamples of the members (with replacement) for the interval.
    confidence
        Central interval of the bootstrap CV distribution.
    seed
        Random seed (results are reproducible).
    min_boot_members
        With fewer members, ``cv_low``/``cv_high`` are the leave-one-out range
        (:func:`leave_one_out_cv`) instead of a bootstrap interval.
    cv_threshold
        A CV (fraction) to flag regions against, e.g. the paper's 25 % line
        (:data:`globalrs.reproduction.paper.CV_THRESHOLD`); None: no flag column.

    Returns
    -------
    pandas.DataFrame
        Index ``region``; columns ``n_members``, ``mean_pg``, ``sd_pg``, ``cv``, ``cv_low``,
        ``cv_high``, ``interval`` (what ``cv_low``/``cv_high`` are), and with ``cv_threshold``
        ``exceeds_25pct`` (``cv > cv_threshold``; the name keeps the paper's 25 % line).
    """
    if dim not in totals.dims or "region" not in totals.dims:
        raise ValueError(f"totals must have dims ({dim!r}, 'region'), got {totals.dims}")
    values = totals.transpose(dim, "region").values.astype(float)
    n = values.shape[0]
    if n < 2:
        raise ValueError(f"a CV needs at least two members, got {n}")
    if np.isnan(values).any():
        raise ValueError("regional totals contain NaN: use a common mask first")
    mean = values.mean(axis=0)
    sd = values.std(axis=0, ddof=1)
    cv = sd / mean
    if n < min_boot_members:
        low, high = leave_one_out_cv(values)
        interval = "leave-one-out range"
    else:
        rng = np.random.default_rng(seed)
        idx = rng.integers(0, n, size=(n_boot, n))
        boot = values[idx]  # (n_boot, n, region)
        with np.errstate(invalid="ignore", divide="ignore"):
            boot_cv = boot.std(axis=1, ddof=1) / boot.mean(axis=1)
        alpha = (1.0 - confidence) / 2.0
        low, high = np.nanquantile(boot_cv, [alpha, 1.0 - alpha], axis=0)
        interval = f"bootstrap {100 * confidence:g} %"
    frame = pd.DataFrame(
        {
            "n_members": n,
            "mean_pg": mean,
            "sd_pg": sd,
            "cv": cv,
            "cv_low": low,
            "cv_high": high,
            "interval": interval,
        },
        index=pd.Index([str(r) for r in totals["region"].values], name="region"),
    )
    if cv_threshold is not None:
        frame["exceeds_25pct"] = cv > cv_threshold
    return frame


def assign_points_to_regions(lat: np.ndarray, lon: np.ndarray, weights: xr.DataArray) -> pd.Series:
    """Region (dominant region of the containing cell) of each point; '' where none.

    Points with missing or out-of-range coordinates also get '' (count them as exclusions).

    Parameters
    ----------
    lat, lon
        Point coordinates in degrees (longitudes are wrapped to -180..180).
    weights
        ``(region, lat, lon)`` from :func:`region_weights`.

    Returns
    -------
    pandas.Series
        Region label per point.
    """
    labels = region_labels(weights)
    grid_lat = weights["lat"].values
    grid_lon = weights["lon"].values
    dlat = abs(grid_lat[1] - grid_lat[0])
    dlon = abs(grid_lon[1] - grid_lon[0])
    lat = np.asarray(lat, dtype=float)
    lon = wrap_lon(np.asarray(lon, dtype=float))
    i = cell_index(lat, grid_lat.min() - dlat / 2, dlat, grid_lat.size, "latitude", strict=False)
    j = cell_index(lon, grid_lon.min() - dlon / 2, dlon, grid_lon.size, "longitude", strict=False)
    ok = (i >= 0) & (j >= 0)
    out = np.where(ok, labels.values[np.maximum(i, 0), np.maximum(j, 0)], "")
    return pd.Series(out, name="region")


def region_label_points(
    labels: xr.DataArray, area_m2: xr.DataArray | None = None, window_cells: int = 9, order: Sequence[str] | None = None
) -> pd.DataFrame:
    """A point inside each region where its label can be drawn: the cell of the region with the
    largest share of same-region land in a ``window_cells`` square around it (the bulk of the
    region, away from its edges), ties broken by the distance to the region's area-weighted centroid.

    Parameters
    ----------
    labels
        ``(lat, lon)`` region labels ('' outside every region), e.g. :func:`region_labels`.
    area_m2
        Optional cell areas for the centroid (default: equal weights).
    order
        Display order of the regions (e.g. :func:`region_order` of their set); labels not in it
        come after, sorted. Default: sorted labels.

    Returns
    -------
    pandas.DataFrame
        Index region (in ``order``; regions without cells left out), columns ``lon`` and ``lat``
        (degrees).
    """
    from scipy import ndimage  # on first use: scipy.ndimage costs 0.2 CPU-s in every kernel that imports regions

    lat = labels["lat"].values
    lon = labels["lon"].values
    lon2d, lat2d = np.meshgrid(lon, lat)
    values = labels.transpose("lat", "lon").values
    weight = np.ones(values.shape) if area_m2 is None else np.nan_to_num(area_m2.transpose("lat", "lon").values)
    rows = {}
    present = [str(r) for r in np.unique(values) if str(r)]
    order = list(order or ())
    for region in [r for r in order if r in present] + sorted(r for r in present if r not in order):
        inside = values == region
        if not inside.any():
            continue
        share = ndimage.uniform_filter(inside.astype(float), size=window_cells, mode="wrap")
        w = weight * inside
        c_lat = float((lat2d * w).sum() / w.sum())
        c_lon = float((lon2d * w).sum() / w.sum())
        distance = np.hypot(lat2d - c_lat, (lon2d - c_lon) * np.cos(np.deg2rad(c_lat)))
        score = np.where(inside, share - 1e-4 * distance, -np.inf)
        i, j = np.unravel_index(np.argmax(score), score.shape)
        rows[region] = {"lon": float(lon[j]), "lat": float(lat[i])}
    return pd.DataFrame.from_dict(rows, orient="index")


def region_mask_dataset(weights: xr.DataArray, region_set: str | None = None) -> xr.Dataset:
    """A CF dataset of a region set on its grid: the weights, each cell's dominant region and the names.

    Parameters
    ----------
    weights
        ``(region, lat, lon)`` weights from :func:`region_weights`.
    region_set
        The set's name (default: the ``region_set`` attribute of ``weights``), for its long names.

    Returns
    -------
    xarray.Dataset
        ``region_weight`` (fraction, 0..1), ``region_index`` (the dominant region's position in
        ``region``, -1 where no region, with CF ``flag_values``/``flag_meanings``), and the
        ``region`` and ``region_name`` label variables; lat/lon with CF units.
    """
    region_set = region_set or str(weights.attrs.get("region_set", PAPER_SET))
    codes = [str(r) for r in weights["region"].values]
    names = load_regions(region_set)["name"].reindex(codes).fillna("").astype(str)
    assigned = weights.sum("region") > 0
    index = xr.where(assigned, weights.argmax("region"), -1).astype("int16")
    index.attrs = {
        "long_name": f"dominant region of the cell ({region_set!r} set; -1: no region)",
        "flag_values": np.arange(len(codes), dtype="int16"),
        "flag_meanings": " ".join(c.replace(" ", "_") for c in codes),
    }
    ds = xr.Dataset(
        {
            "region_weight": weights.astype("float32"),
            "region_index": index,
            "region_name": ("region", np.asarray(names.values, dtype=str), {"long_name": "region name"}),
        }
    )
    ds["region"].attrs = {"long_name": "region code", "cf_role": "timeseries_id"}
    ds["lat"].attrs = {"units": "degrees_north", "standard_name": "latitude", "axis": "Y"}
    ds["lon"].attrs = {"units": "degrees_east", "standard_name": "longitude", "axis": "X"}
    ds.attrs = {
        "Conventions": "CF-1.8",
        "title": f"globalrs region mask: the {region_set!r} region set",
        "source": str(weights.attrs.get("rule", "")),
        "region_set": region_set,
        "regions_version": REGIONS_VERSION,
    }
    return ds


def write_region_mask_netcdf(weights: xr.DataArray, path, region_set: str | None = None) -> Path:
    """Write :func:`region_mask_dataset` of ``weights`` to ``path`` (NetCDF, compressed); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds = region_mask_dataset(weights, region_set)
    encoding = {name: {"zlib": True, "complevel": 4} for name in ("region_weight", "region_index")}
    ds.to_netcdf(path, encoding=encoding)
    return path
