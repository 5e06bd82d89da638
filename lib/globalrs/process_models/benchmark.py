"""The data-driven Rs and Rh benchmark: CF export and ILAMB scoring with ``ilamb3`` itself.

* :func:`make_benchmark_dataset` turns an ensemble of maps (member, lat, lon) in g C m-2 yr-1
  into a CF-1.8 reference dataset in kg m-2 s-1: the ensemble mean as the variable (one time step
  whose bounds span the observation period, ``cell_methods``), the member SD as its
  ``ancillary_variables`` (ilamb3 reads it as the reference uncertainty), the number of members
  per cell, provenance, licence and citation attributes. :func:`export_benchmark` writes it.
* :func:`load_reference` opens an exported file the way an ilamb3 run opens reference data
  (:func:`ilamb3.load.load_reference_data`).
* :func:`score_maps` scores model maps against it with ilamb3's own analyses, the bias
  analysis and the spatial-distribution (Taylor) analysis, scored after Collier et al. (2018),
  plus ilamb3's overall score (the mean of the scores). Nothing of the scoring is re-implemented.
* :func:`register_regions` makes the book's 14 regions known to ilamb3, so the same analyses
  give per-region scores.
* :func:`load_model_scores` is :func:`score_maps`' scalar table kept in the result cache, keyed
  on the reference's and the maps' values, the region masks and ilamb3's version (scoring 20
  models in 15 regions takes about a minute); :func:`bias_maps` gives ilamb3's bias map of a
  few of them.
* The data-driven Rh reference the book scores against (the chapter "Heterotrophic respiration"
  and :func:`score_rh_map` share it): :func:`rh_reference_members` (the Rh members of the
  standardized protocol and the Rs members x (1 - RC)), :func:`export_data_driven_benchmark`
  (the CF file in the cache folder), :func:`load_rh_benchmark` (reference, model maps and the
  models' scores, built once) and :func:`score_rh_map` (one reader's Rh map scored beside the
  CMIP6, CMIP5, soil-carbon and model-data fusion models).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict, cast

import numpy as np
import pandas as pd
import xarray as xr

from globalrs.core import grid
from globalrs.core.config import get_cache_dir
from globalrs.core.exceptions import GridError
from globalrs.core.units import SECONDS_PER_YEAR
from globalrs.estimates import ensemble, inputs, rh
from globalrs.process_models import cmip6, cmipmaps
from globalrs.process_models.ilambcache import grid_work_once
from globalrs.sources.cache import cache_key, cache_path, cached_build, write_atomic, write_csv_atomic

#: ILAMB's unit for carbon fluxes (CMIP ``rh``): kg (of carbon) m-2 s-1.
BENCHMARK_UNITS = "kg m-2 s-1"
#: CF standard names (``rs`` has none in the CF table; it gets a long name only).
STANDARD_NAMES = {"rh": "heterotrophic_respiration_carbon_flux"}
LONG_NAMES = {"rh": "heterotrophic (soil) respiration carbon flux", "rs": "soil respiration carbon flux (heterotrophic + root)"}
#: ilamb3 score names shown in the score table, in display order.
SCORE_NAMES = ("Bias Score [1]", "Spatial Distribution Score [1]", "Overall Score [1]")
#: Units the analyses run in. ilamb3's spatial-distribution analysis skips any region whose
#: reference spatial SD passes ``np.allclose(sd, 0)`` (absolute tolerance 1e-8), which every
#: land carbon flux in kg m-2 s-1 does (SD about 1e-9), so the reference is converted (by ilamb3,
#: with pint) to g m-2 d-1, ILAMB's usual unit for carbon fluxes, before scoring.
ANALYSIS_UNITS = "g m-2 d-1"
#: ilamb3 scalar names shown in the score table (matched up to the bracketed units).
SCALAR_NAMES = ("Bias", "Correlation", "Normalized Standard Deviation")
#: Folder of the exported reference files, under the book's cache directory.
BENCHMARK_DIR = "benchmark"
#: Result version of the cached score tables (:func:`load_model_scores`): bump it when the
#: scoring changes results.
SCORES_VERSION = "1"
#: The forcing the data-driven benchmark members are built with (the chapter's choice).
BENCHMARK_FORCING = "worldclim"
#: What each exported reference holds (``{srdb}`` is the SRDB version, e.g. ``SRDB-V5``).
BENCHMARK_SOURCES = {
    "rs": "six standardized-protocol members fitted on {srdb} Rs_annual",
    "rh": "the data-driven Rh routes {routes} of globalrs.estimates.rh (members built from {srdb})",
}
#: The module that produces each benchmark's members (named in the file's ``source``).
BENCHMARK_PRODUCERS = {"rs": "ensemble", "rh": "rh"}
#: The group of a reader's map in :func:`score_rh_map`'s table.
READER_GROUP = "this map"


def import_ilamb3():
    """Import ilamb3 without letting it change matplotlib's backend.

    ilamb3 calls ``matplotlib.use("Agg")`` on import, which silently stops inline figures in a
    notebook; the previous backend is restored.
    """
    import matplotlib

    backend = matplotlib.get_backend()
    import ilamb3

    if matplotlib.get_backend() != backend:
        matplotlib.use(backend)
    return ilamb3


def g_m2_yr_to_kg_m2_s(field: xr.DataArray) -> xr.DataArray:
    """Convert g C m-2 yr-1 to kg m-2 s-1 (the ``units`` attribute is checked when present)."""
    units = field.attrs.get("units")
    if units is not None and units.replace(" ", "") not in ("gCm-2yr-1", "gm-2yr-1"):
        raise ValueError(f"expected g C m-2 yr-1, got {units!r}")
    out = field * (1e-3 / SECONDS_PER_YEAR)
    out.attrs = {"units": BENCHMARK_UNITS}
    return out


def ensemble_statistics(members: xr.DataArray) -> xr.Dataset:
    """Per-cell mean, SD (ddof = 1) and member count of a ``(member, lat, lon)`` ensemble."""
    if "member" not in members.dims:
        raise ValueError(f"members need a 'member' dimension, got {members.dims}")
    n = members.notnull().sum("member")
    mean = members.mean("member", skipna=True).where(n > 0)
    sd = members.std("member", ddof=1, skipna=True).where(n > 1)
    return xr.Dataset({"mean": mean, "sd": sd, "n": n.astype("int16")})


def _bounds(centres: np.ndarray) -> np.ndarray:
    step = float(np.diff(centres).mean())
    return np.column_stack([centres - step / 2, centres + step / 2])


def make_benchmark_dataset(
    members: xr.DataArray,
    variable: str,
    period: tuple[int, int],
    title: str,
    source: str,
    references: str,
    license: str,
    provenance: dict[str, str] | None = None,
    statistics: xr.Dataset | None = None,
) -> xr.Dataset:
    """A CF-1.8 reference dataset of an ensemble of annual-flux maps.

    Parameters
    ----------
    members
        ``(member, lat, lon)`` in g C m-2 yr-1 (NaN where a member has no value).
    variable
        ``"rh"`` or ``"rs"``: the variable name in the file.
    period
        First and last year the observations represent; the single time step is their mean,
        with bounds from 1 January of the first to 1 January after the last year.
    title, source, references, license
        Global attributes (what it is, how it was made, what to cite, terms of use).
    provenance
        Extra global attributes (inputs and their sha256, code, members), stored as JSON.
    statistics
        Optional ``mean``, ``sd`` and ``n`` (lat, lon) to use instead of the member mean and SD
        of :func:`ensemble_statistics` (e.g. :func:`route_statistics`, which counts each route once).

    Returns
    -------
    xarray.Dataset
        ``<variable>`` (time, lat, lon) kg m-2 s-1 with ``ancillary_variables = "<variable>_sd"``;
        ``<variable>_sd`` (lat, lon) kg m-2 s-1; ``<variable>_n`` (lat, lon) member count;
        ``time_bnds``, ``lat_bnds``, ``lon_bnds``.

    Notes
    -----
    The SD deliberately has no time dimension: ilamb3 (``dataset.get_scalar_uncertainty``) takes
    a single ancillary variable as a per-cell uncertainty only when its dimensions differ from
    the variable's; with the same dimensions it looks for interval bounds and finds none. The
    member count is not listed in ``ancillary_variables`` because ilamb3 reads two ancillary
    variables as the lower and upper bounds of an interval.
    """
    if variable not in LONG_NAMES:
        raise ValueError(f"variable must be one of {sorted(LONG_NAMES)}, got {variable!r}")
    first, last = period
    if last < first:
        raise ValueError(f"period {period} ends before it starts")
    stats = ensemble_statistics(members) if statistics is None else statistics
    mean = g_m2_yr_to_kg_m2_s(stats["mean"].assign_attrs(members.attrs))
    sd = g_m2_yr_to_kg_m2_s(stats["sd"].assign_attrs(members.attrs))
    start, end = dt.datetime(first, 1, 1), dt.datetime(last + 1, 1, 1)
    middle = start + (end - start) / 2
    lat = members["lat"].values.astype("float64")
    lon = members["lon"].values.astype("float64")
    coords = {
        "time": (
            "time",
            np.array([middle], dtype="datetime64[ns]"),
            {"standard_name": "time", "axis": "T", "bounds": "time_bnds"},
        ),
        "lat": ("lat", lat, {"standard_name": "latitude", "units": "degrees_north", "axis": "Y", "bounds": "lat_bnds"}),
        "lon": ("lon", lon, {"standard_name": "longitude", "units": "degrees_east", "axis": "X", "bounds": "lon_bnds"}),
    }
    var_attrs = {
        "units": BENCHMARK_UNITS,
        "long_name": LONG_NAMES[variable],
        "cell_methods": "time: mean area: mean where land",
        "ancillary_variables": f"{variable}_sd",
        "comment": (
            f"mean of {members.sizes['member']} data-driven ensemble members; flux per m2 of land"
            if statistics is None
            else f"mean of the route means of {members.sizes['member']} data-driven members; flux per m2 of land"
        ),
    }
    if variable in STANDARD_NAMES:
        var_attrs["standard_name"] = STANDARD_NAMES[variable]
    ds = xr.Dataset(
        {
            variable: (("time", "lat", "lon"), mean.values[None].astype("float32"), var_attrs),
            f"{variable}_sd": (
                ("lat", "lon"),
                sd.values.astype("float32"),
                {
                    "units": BENCHMARK_UNITS,
                    "long_name": (
                        f"standard deviation (ddof = 1) of {variable} across ensemble members"
                        if statistics is None
                        else f"uncertainty of {variable}: sqrt(variance of the route means + mean within-route variance)"
                    ),
                    "cell_methods": "time: mean area: mean where land",
                },
            ),
            f"{variable}_n": (
                ("lat", "lon"),
                stats["n"].values.astype("int16"),
                {"units": "1", "long_name": f"number of ensemble members with a value of {variable}"},
            ),
            "time_bnds": (("time", "nv"), np.array([[start, end]], dtype="datetime64[ns]")),
            "lat_bnds": (("lat", "nv"), _bounds(lat), {"units": "degrees_north"}),
            "lon_bnds": (("lon", "nv"), _bounds(lon), {"units": "degrees_east"}),
        },
        coords=coords,
        attrs={
            "Conventions": "CF-1.8",
            "title": title,
            "institution": "globalrs (executable companion to Hashimoto, Ito & Nishina 2023)",
            "source": source,
            "references": references,
            "license": license,
            "history": (
                f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%dT%H:%M:%SZ} written by "
                "globalrs.process_models.benchmark.export_benchmark"
            ),
            "period": f"{first}-{last}",
            "members": ", ".join(map(str, members["member"].values)),
            "provenance": json.dumps(provenance or {}, sort_keys=True),
        },
    )
    return ds


def export_benchmark(ds: xr.Dataset, path: Path) -> Path:
    """Write a :func:`make_benchmark_dataset` dataset to NetCDF atomically (times in days since 1850)."""
    encoding: dict[Hashable, dict[str, Any]] = {
        "time": {"units": "days since 1850-01-01", "calendar": "standard", "dtype": "float64"},
        "time_bnds": {"units": "days since 1850-01-01", "calendar": "standard", "dtype": "float64"},
    }
    for name, var in ds.data_vars.items():
        if var.dtype.kind == "f" and name not in encoding:
            encoding[name] = {"_FillValue": np.float32(1e20) if var.dtype == np.float32 else 1e20}
    for name in ("lat", "lon"):
        encoding[name] = {"_FillValue": None}
    return write_atomic(Path(path), lambda tmp: ds.to_netcdf(tmp, encoding=encoding))


def load_reference(path: Path, variable: str, units: str | None = ANALYSIS_UNITS) -> xr.Dataset:
    """Open an exported benchmark as ilamb3 opens reference data in a run.

    Uses :func:`ilamb3.load.load_reference_data` with a one-row catalogue pointing at ``path``,
    then converts the variable and its uncertainty to ``units`` with :func:`ilamb3.dataset.convert`
    (see :data:`ANALYSIS_UNITS`; ``None`` keeps the file's kg m-2 s-1).
    """
    import_ilamb3()
    from ilamb3.dataset import convert
    from ilamb3.load import load_reference_data

    catalogue = pd.DataFrame({"key": [Path(path).name], "path": [str(path)]}).set_index("key")
    ref = load_reference_data(catalogue, variable, {variable: Path(path).name}, transforms=[]).load()
    if units is not None:
        names = [variable] + ref[variable].attrs.get("ancillary_variables", "").split()
        for name in names:
            attrs = dict(ref[name].attrs)
            # ilamb3 annotates convert as returning Dataset | DataArray; it returns the type it is given
            ref = cast(xr.Dataset, convert(ref, units, varname=name))
            ref[name].attrs = {**attrs, "units": units}
    return ref


def comparison_dataset(field_g_m2_yr: xr.DataArray, ref: xr.Dataset, variable: str) -> xr.Dataset:
    """A model map (lat, lon, g C m-2 yr-1) as an ilamb3 comparison dataset for ``ref``.

    The model map is a period mean, like the reference; it gets the reference's single time
    step and bounds so that ilamb3 compares the two climatologies (the periods of the model
    and of the observations differ, which the caller must state).
    """
    flux = g_m2_yr_to_kg_m2_s(field_g_m2_yr)
    flux = flux.drop_vars([c for c in flux.coords if c not in ("lat", "lon")])
    time = ref["time"]
    com = xr.Dataset({variable: flux.expand_dims(time=time.values).astype("float64")})
    com[variable].attrs = {"units": BENCHMARK_UNITS}
    bname = time.attrs.get("bounds", "time_bnds")
    if bname in ref:
        com[bname] = ref[bname]
        com["time"].attrs["bounds"] = bname
    return com


def make_analyses(variable: str, regions: list[str | None] | None = None, **options) -> dict:
    """Build ilamb3's bias and spatial-distribution analyses for ``variable`` (ilamb3 defaults unless given)."""
    import_ilamb3()
    from ilamb3.analysis.bias import bias_analysis
    from ilamb3.analysis.spatial_distribution import spatial_distribution_analysis

    regions = regions or [None]
    return {
        "Bias": bias_analysis(variable, regions=regions, **options),
        "Spatial Distribution": spatial_distribution_analysis(variable, regions=regions),
    }


def score_map(
    ref: xr.Dataset, com: xr.Dataset, variable: str, regions: list[str | None] | None = None, **options
) -> tuple[pd.DataFrame, xr.Dataset, xr.Dataset]:
    """Run ilamb3's analyses on one comparison and add ilamb3's overall score.

    Returns
    -------
    scalars, ref_out, com_out
        ilamb3's scalar table (``source``, ``region``, ``analysis``, ``name``, ``type``,
        ``units``, ``value``) and its intermediate datasets (``com_out["bias"]`` is the bias map).
    """
    import_ilamb3()
    from ilamb3.analysis.base import add_overall_score
    from ilamb3.run import run_analyses

    with grid_work_once():
        df, ds_ref, ds_com = run_analyses(ref, com, make_analyses(variable, regions, **options))
    return add_overall_score(df), ds_ref, ds_com


def score_maps(
    ref: xr.Dataset, maps: xr.DataArray, variable: str, dim: str = "model", regions: list[str | None] | None = None, **options
) -> tuple[pd.DataFrame, dict[str, xr.Dataset]]:
    """Score every map along ``dim`` (g C m-2 yr-1) against ``ref``.

    Returns
    -------
    scalars, outputs
        One long table of ilamb3 scalars and scores with ``source`` set to the map's name, and
        the per-map intermediate datasets (bias maps) by name.
    """
    frames, outputs = [], {}
    # ilamb3 puts each region mask on the grid and computes the cells' areas once, not for every
    # scalar (globalrs.process_models.ilambcache; the same scores, about a third of the time).
    with grid_work_once():
        for name in maps[dim].values:
            com = comparison_dataset(maps.sel({dim: name}, drop=True).assign_attrs(maps.attrs), ref, variable)
            df, _, ds_com = score_map(ref, com, variable, regions, **options)
            df["source"] = df["source"].replace("Comparison", str(name))
            frames.append(df)
            outputs[str(name)] = ds_com
    return pd.concat(frames, ignore_index=True), outputs


def values_digest(*arrays: xr.DataArray | xr.Dataset) -> str:
    """Return the sha256 of values, dimension names, coordinates, names and attributes (a cache key part).

    A Dataset counts as all of its variables, each with its attributes; its own (global)
    attributes are provenance (``history`` holds the time a file was written) and do not count.
    """
    digest = hashlib.sha256()
    for item in arrays:
        if isinstance(item, xr.Dataset):
            digest.update(values_digest(*(item[name] for name in sorted(map(str, item.data_vars)))).encode())
            continue
        da = item
        digest.update(json.dumps([str(da.name), list(map(str, da.dims)), da.attrs], sort_keys=True, default=str).encode())
        for name in sorted(map(str, da.coords)):
            digest.update(name.encode() + np.ascontiguousarray(da[name].values).astype(str).tobytes())
        digest.update(np.ascontiguousarray(da.values).tobytes())
    return digest.hexdigest()


def read_scores(path: Path) -> pd.DataFrame:
    """Read a cached score table as written: text stays text (``region`` ``"None"`` included) and
    only empty fields (missing values when written) are missing."""
    text_columns = ["source", "region", "analysis", "name", "type", "units"]
    missing = {c: [""] for c in text_columns} | {"value": ["", "nan", "NaN"]}
    return pd.read_csv(path, dtype={c: str for c in text_columns}, keep_default_na=False, na_values=missing)


def load_model_scores(
    ref: xr.Dataset,
    maps: xr.DataArray,
    variable: str,
    dim: str = "model",
    region_weights: xr.DataArray | None = None,
    region_names: dict[str, str] | None = None,
    refresh: bool = False,
) -> pd.DataFrame:
    """Score every map along ``dim`` against ``ref`` with ilamb3, once: the table is cached.

    The same table as :func:`score_maps`, in the whole domain and, with ``region_weights``, in
    each region of :func:`register_regions` too. It is kept under ``get_cache_dir()/benchmark``,
    keyed on every variable of the reference and on the maps (values, coordinates, names and
    attributes), the regions' masks and names, ilamb3's version and :data:`SCORES_VERSION`.

    Parameters
    ----------
    ref
        The reference (:func:`load_reference`).
    maps
        ``(dim, lat, lon)`` model maps in g C m-2 yr-1.
    variable
        The variable scored (``"rh"``).
    dim
        The dimension naming the maps.
    region_weights
        ``(region, lat, lon)`` from :func:`globalrs.gridding.regions.region_weights`; ``None``: the whole
        domain only.
    region_names
        Optional region label -> display name.
    refresh
        Score again even if a cached table exists.

    Returns
    -------
    pandas.DataFrame
        As :func:`score_maps`' first result.
    """
    ilamb3 = import_ilamb3()
    regions: list[str | None] = [None]
    parts = [values_digest(ref, maps)]
    if region_weights is not None:
        regions += register_regions(region_weights, region_names)
        parts.append(values_digest(region_weights))
    key = cache_key(
        "scores",
        SCORES_VERSION,
        variable=variable,
        dim=dim,
        values=parts,
        regions=[str(r) for r in regions],
        names=region_names or {},
        ilamb3=ilamb3.__version__,
    )
    path = cache_path(BENCHMARK_DIR, f"scores-{variable}", key, ".csv")
    return cached_build(
        path,
        lambda: score_maps(ref, maps, variable, dim, regions)[0],
        read_scores,
        write_csv_atomic,
        refresh=refresh,
    )


def bias_maps(
    ref: xr.Dataset, maps: xr.DataArray, names: Sequence[str], variable: str, dim: str = "model"
) -> dict[str, xr.DataArray]:
    """Return ilamb3's bias map (model minus reference, on its comparison grid) of the named maps.

    Returns
    -------
    dict
        Name -> ``(lat, lon)`` bias in the reference's analysis units.
    """
    out = {}
    for name in names:
        com = comparison_dataset(maps.sel({dim: name}, drop=True).assign_attrs(maps.attrs), ref, variable)
        _, _, ds_com = score_map(ref, com, variable)
        out[str(name)] = ds_com["bias"].rename(lat_nested="lat", lon_nested="lon")
    return out


def score_table(
    scalars: pd.DataFrame, region: str | None = None, names: tuple[str, ...] = SCORE_NAMES + SCALAR_NAMES
) -> pd.DataFrame:
    """Models x metrics for one region (``None``: the whole domain), sorted by overall score."""
    sel = scalars[(scalars["region"] == str(region)) & (scalars["source"] != "Reference")]
    table = sel.pivot_table(index="source", columns="name", values="value", aggfunc="first")
    cols = [c for n in names for c in table.columns if c == n or c.split(" [")[0] == n]
    return table[cols].sort_values("Overall Score [1]", ascending=False).rename_axis(None, axis=1)


def regional_scores(scalars: pd.DataFrame, name: str = "Overall Score [1]") -> pd.DataFrame:
    """Models x regions of one score (``"None"``, the whole domain, becomes ``"global"``)."""
    sel = scalars[(scalars["name"] == name) & (scalars["source"] != "Reference")]
    table = sel.pivot_table(index="source", columns="region", values="value", aggfunc="first")
    return table.rename(columns={"None": "global"})


def register_regions(weights: xr.DataArray, names: dict[str, str] | None = None) -> list[str]:
    """Make the book's regions known to ilamb3 (each cell in its dominant region).

    Parameters
    ----------
    weights
        ``(region, lat, lon)`` from :func:`globalrs.gridding.regions.region_weights`.
    names
        Optional label -> display name.

    Returns
    -------
    list of str
        The labels registered with :class:`ilamb3.regions.Regions`.
    """
    import_ilamb3()
    from ilamb3.regions import Regions

    labels = [str(r) for r in weights["region"].values]
    assigned = weights.sum("region") > 0
    ids = xr.where(assigned, weights.argmax("region"), -1).astype("int32")
    ds = xr.Dataset(
        {
            "ids": ids.assign_attrs(labels="labels", names="names"),
            "labels": ("n", np.array(labels, dtype=object)),
            "names": ("n", np.array([(names or {}).get(r, r) for r in labels], dtype=object)),
        },
    )
    return Regions().add_netcdf(ds)


class InputsDescription(TypedDict):
    """The attributes :func:`describe_inputs` gives a product made from registered files."""

    license: str
    references: str
    provenance: dict[str, str]


def describe_inputs(names: list[str]) -> InputsDescription:
    """Licence, references and provenance attributes of a product made from registered files.

    Returns
    -------
    dict
        ``license`` (each distinct upstream licence with the files it covers), ``references``
        (the distinct citations) and ``provenance`` (file name -> sha256), ready to pass to
        :func:`make_benchmark_dataset`.
    """
    from globalrs.sources.data import get_entry

    entries = [get_entry(n) for n in names]
    licences: dict[str, list[str]] = {}
    for e in entries:
        licences.setdefault(e.license, []).append(e.name.split("/")[0])
    license = "; ".join(f"{lic} ({', '.join(sorted(set(folders)))})" for lic, folders in licences.items())
    references = "; ".join(dict.fromkeys(e.citation for e in entries))
    return {
        "license": "derived product; upstream terms: " + license,
        "references": references,
        "provenance": {e.name: e.sha256 for e in entries},
    }


def collect_rh_maps(
    land_mask: xr.DataArray, land_fraction: xr.DataArray, cardamom_g_m2_yr: xr.DataArray | None = None
) -> tuple[xr.DataArray, pd.Series]:
    """Every model rh map the book holds, on the 0.5-degree grid and ``land_mask``, for scoring.

    The CMIP6 and CMIP5 maps (:func:`globalrs.process_models.cmipmaps.load_rh_maps_05`), the three soil-carbon
    models (:func:`globalrs.process_models.cmip6.landmodels_on_grid`) and, when given, CARDAMOM (from
    :func:`globalrs.estimates.rh.cardamom_on_mask`).

    Returns
    -------
    maps, group
        ``(model, lat, lon)`` in g C m-2 yr-1, NaN outside ``land_mask``; and each model's group
        (``CMIP6``, ``CMIP5``, ``soil-carbon model``, ``model-data fusion``).
    """
    mask = land_mask.astype(bool)
    cmip = cmipmaps.load_rh_maps_05()
    land = cmip6.landmodels_on_grid(mask, land_fraction)
    parts = [cmip["rh"].where(mask).drop_vars("mip"), land["rs_annual"].rename(member="model").drop_vars("method_family")]
    group = list(cmip["mip"].values) + ["soil-carbon model"] * land.sizes["member"]
    if cardamom_g_m2_yr is not None:
        parts.append(cardamom_g_m2_yr.where(mask).expand_dims(model=["CARDAMOM"]))
        group.append("model-data fusion")
    for p in parts:
        if not grid.same_grid(p, mask):
            raise ValueError("a model map is not on the land mask's grid")
    maps = xr.concat(
        [p.drop_vars([c for c in p.coords if c not in ("model", "lat", "lon")]) for p in parts], dim="model"
    ).assign_attrs(units="g C m-2 yr-1")
    names = maps["model"].values.astype(str)
    if len(set(names)) != names.size:
        raise ValueError(f"duplicate model names: {sorted(names)}")
    return maps, pd.Series(group, index=pd.Index(names, name="model"), name="group")


# --------------------------------------------------------------------------------------------
# the data-driven Rh reference (one path for the chapter and for score_rh_map)
# --------------------------------------------------------------------------------------------
def rh_reference_members(routes: dict[str, xr.DataArray]) -> xr.DataArray:
    """The members of a data-driven Rh reference: route key -> ``(member, lat, lon)`` maps.

    Parameters
    ----------
    routes
        Keys of :data:`globalrs.estimates.rh.ROUTES` (e.g. the routes of :func:`reference_routes`) -> their
        members in g C m-2 yr-1 (NaN where a route has no value, e.g. outside the RC map).

    Returns
    -------
    xarray.DataArray
        ``(member, lat, lon)`` g C m-2 yr-1, members named ``<route>:<member>`` with a ``route``
        coordinate (:func:`globalrs.estimates.rh.route_members`).
    """
    return rh.route_members(routes).assign_attrs(units="g C m-2 yr-1")


def _bare_members(members: xr.DataArray) -> xr.DataArray:
    return members.drop_vars([c for c in members.coords if c not in members.dims])


def benchmark_path(variable: str) -> Path:
    """Where the data-driven benchmark of ``variable`` (``"rs"`` or ``"rh"``) is exported (cache folder)."""
    return get_cache_dir() / BENCHMARK_DIR / f"{variable}_globalrs_benchmark.nc"


def export_data_driven_benchmark(
    variable: str,
    members: xr.DataArray,
    observations: Sequence[pd.DataFrame],
    data_version: str = "v5",
    path: Path | None = None,
    statistics: xr.Dataset | None = None,
    routes: Sequence[str] = (),
) -> Path:
    """Export a data-driven ensemble as the book's CF reference file.

    Parameters
    ----------
    variable
        ``"rs"`` or ``"rh"``.
    members
        ``(member, lat, lon)`` in g C m-2 yr-1 (the Rs ensemble, or :func:`rh_reference_members`).
    observations
        The observation tables behind the members; their study years give the period.
    data_version
        The SRDB version the members were fitted on (inputs, licences and citations follow it).
    path
        Target file (default :func:`benchmark_path`).
    statistics
        Optional per-cell ``mean``/``sd``/``n`` (:func:`route_statistics`); default the member
        mean and SD.
    routes
        For ``"rh"``: the routes the members come from (named in the file's ``source``).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    if variable not in BENCHMARK_SOURCES:
        raise ValueError(f"variable must be one of {sorted(BENCHMARK_SOURCES)}, got {variable!r}")
    names = ensemble.input_names(data_version) + ([rh.RC_FILE] if variable == "rh" else [])
    meta = describe_inputs(names)
    how = BENCHMARK_SOURCES[variable].format(srdb=f"SRDB-{data_version.upper()}", routes=", ".join(routes) or "(unnamed)")
    ds = make_benchmark_dataset(
        _bare_members(members).assign_attrs(units="g C m-2 yr-1"),
        variable,
        inputs.observation_period(*observations),
        title=f"Data-driven {variable} benchmark (globalrs)",
        source=f"{how}; WorldClim 1.4 forcing, MODIS land cover, 0.5 degree (globalrs.{BENCHMARK_PRODUCERS[variable]})",
        references=meta["references"],
        license=meta["license"],
        provenance=meta["provenance"],
        statistics=statistics,
    )
    return export_benchmark(ds, path or benchmark_path(variable))


@dataclass
class RhBenchmark:
    """The data-driven Rh reference and the models scored against it (:func:`load_rh_benchmark`).

    Attributes
    ----------
    path
        The exported reference file.
    ref
        The reference as ilamb3 opens it (:func:`load_reference`, in :data:`ANALYSIS_UNITS`).
    land_mask
        The data-driven land mask (lat, lon) every map is scored on.
    model_maps, group
        :func:`collect_rh_maps`: ``(model, lat, lon)`` g C m-2 yr-1 and each model's group.
    model_scalars
        ilamb3's scalars of every model (:func:`score_maps`: the whole domain, and each region
        when :func:`load_rh_benchmark` was given region weights).
    skill
        Every route's blocked-CV skill against held-out Rh records (:func:`globalrs.estimates.rh.route_skill`).
    routes
        The routes in the reference (:func:`reference_routes`).
    members
        The reference's members (:func:`rh_reference_members`), ``(member, lat, lon)`` g C m-2 yr-1.
    statistics
        Their per-cell ``mean``, ``sd`` and ``n`` (:func:`route_statistics`), as exported.
    """

    path: Path
    ref: xr.Dataset
    land_mask: xr.DataArray
    model_maps: xr.DataArray
    group: pd.Series
    model_scalars: pd.DataFrame
    skill: pd.DataFrame | None = None
    routes: list[str] = field(default_factory=list)
    members: xr.DataArray | None = None
    statistics: xr.Dataset | None = None


def build_route_cv(data_version: str = "v5", forcing: str = "worldclim", seed: int = ensemble.SEED) -> pd.DataFrame:
    """:func:`globalrs.estimates.rh.cross_validate_routes` on the real records, CARDAMOM included (no cache).

    Here, not in :mod:`globalrs.estimates.rh`, because the CARDAMOM map is read by the process-model
    stage (:func:`globalrs.process_models.cmipmaps.read_cardamom_rh`); see :func:`load_route_cv`.
    """
    rs_obs, _ = inputs.load_observations(data_version, forcing)
    rh_obs, _ = rh.load_rh_observations(data_version, forcing)
    pairs, _ = rh.load_ratio_observations(data_version, forcing)
    lat, lon = rh_obs["lat"].to_numpy(), rh_obs["lon"].to_numpy()
    rc = rh.read_root_contribution()["rc"]
    land = inputs.load_static_05()["land_mask"].astype(bool)
    card = rh.cardamom_on_mask(cmipmaps.read_cardamom_rh(), land)
    rc_at_rh = grid.sample_at_sites(rc, lat, lon).astype(float)
    cardamom_at_rh = grid.sample_at_sites(card, lat, lon).astype(float)
    return rh.cross_validate_routes(rs_obs, rh_obs, pairs, rc_at_rh, cardamom_at_rh, seed=seed)


def load_route_cv(data_version: str = "v5", forcing: str = "worldclim", refresh: bool = False) -> pd.DataFrame:
    """Cached :func:`build_route_cv` (CSV in the result cache, under the Rh routes' key)."""
    key = rh.rh_cache_key("route_cv", data_version=data_version, forcing=forcing, seed=ensemble.SEED)
    path = cache_path("rh", f"rh-route-cv-{data_version}-{forcing}", key, ".csv")
    return cached_build(path, lambda: build_route_cv(data_version, forcing), pd.read_csv, write_csv_atomic, refresh)


def load_rh_benchmark(
    data_version: str = "v5",
    log: Callable[[str], None] | None = print,
    region_weights: xr.DataArray | None = None,
    region_names: dict[str, str] | None = None,
) -> RhBenchmark:
    """Build the chapter's data-driven Rh reference, load it with ilamb3 and score the models.

    The whole pipeline of the chapter "Heterotrophic respiration", which calls it once: the
    blocked-CV skill of every route against held-out Rh records (:func:`load_route_cv`,
    cached); the candidate routes with skill (:func:`reference_routes`: Rs members x the Rh/Rs
    ratio and Rs members x (1 - RC), both Rh <= Rs by construction), checked to cover every
    region (:func:`check_route_coverage`, with ``region_weights``) and exported with
    :func:`route_statistics` to :func:`benchmark_path`; the CMIP6, CMIP5, soil-carbon and
    CARDAMOM maps of :func:`collect_rh_maps`, scored with :func:`load_model_scores`.

    Parameters
    ----------
    data_version
        SRDB version of the members.
    log
        Called with one line per step (``None``: silent).
    region_weights
        ``(region, lat, lon)`` region weights: the models are scored in each region too.
    region_names
        Optional region label -> display name (:func:`register_regions`).

    Returns
    -------
    RhBenchmark
    """
    say = log or (lambda _msg: None)
    say("Rh benchmark: the blocked-CV skill of the routes (the first run fits and caches it: about a minute)")
    skill = rh.route_skill(load_route_cv(data_version, BENCHMARK_FORCING))
    rs_ens = ensemble.load_ensemble(data_version, BENCHMARK_FORCING)
    mask = rs_ens["land_mask"].astype(bool)
    say("Rh benchmark: the routes with skill and the CF reference file")
    routes = reference_members_by_route(rs_ens, data_version, reference_routes(skill))
    rh_obs, _ = rh.load_rh_observations(data_version, BENCHMARK_FORCING)
    rs_obs, _ = inputs.load_observations(data_version, BENCHMARK_FORCING)
    members = rh_reference_members(routes)
    if region_weights is not None:
        check_route_coverage(members.where(mask), region_weights)
    statistics = route_statistics(members)
    path = export_data_driven_benchmark("rh", members, (rh_obs, rs_obs), data_version, statistics=statistics, routes=list(routes))
    ref = load_reference(path, "rh")
    say("Rh benchmark: the model rh maps (CMIP6, CMIP5, soil-carbon models, CARDAMOM)")
    cardamom = rh.cardamom_on_mask(cmipmaps.read_cardamom_rh(), mask)
    maps, group = collect_rh_maps(mask, rs_ens["land_fraction"], cardamom)
    say(f"Rh benchmark: ilamb3 scores of the {maps.sizes['model']} models")
    scalars = load_model_scores(ref, maps, "rh", region_weights=region_weights, region_names=region_names)
    return RhBenchmark(
        path=Path(path),
        ref=ref,
        land_mask=mask,
        model_maps=maps,
        group=group,
        model_scalars=scalars,
        skill=skill,
        routes=list(routes),
        members=members,
        statistics=statistics,
    )


def reference_members_by_route(rs_ensemble: xr.Dataset, data_version: str, routes: Sequence[str]) -> dict[str, xr.DataArray]:
    """The members of each named route (``ratio``, ``root_contribution``, ``standardized``).

    Returns
    -------
    dict
        Route -> ``(member, lat, lon)`` g C m-2 yr-1 on ``rs_ensemble``'s grid.
    """
    out = {}
    for route in routes:
        if route == "ratio":
            ratio = rh.load_ratio_route(data_version, BENCHMARK_FORCING)["rh_rs_ratio"]
            out[route] = rh.rh_from_ratio(rs_ensemble["rs_annual"], ratio)
        elif route == "root_contribution":
            out[route] = rh.rh_from_root_contribution(rs_ensemble["rs_annual"], rh.read_root_contribution(), z=rh.RC_Z)[
                "rh_annual"
            ]
        elif route == "standardized":
            out[route] = rh.load_rh_ensemble(data_version, BENCHMARK_FORCING)["rh_annual"]
        else:
            raise ValueError(f"route {route!r} has no data-driven members (known: ratio, root_contribution, standardized)")
    return out


def reader_label(name: str, models: Sequence[str]) -> str:
    """The reader's row label: ``name``, or ``"<name> (this map)"`` when a model has that name."""
    return f"{name} ({READER_GROUP})" if name in set(models) else name


def score_rh_map(
    rh_g_m2_yr: xr.DataArray, name: str, bench: RhBenchmark | None = None, log: Callable[[str], None] | None = print
) -> pd.DataFrame:
    """Score one Rh map with ilamb3 against the data-driven Rh benchmark, beside the models.

    Parameters
    ----------
    rh_g_m2_yr
        ``(lat, lon)`` on the book's 0.5-degree grid in g C m-2 yr-1 (as
        :func:`globalrs.gridding.harmonize.harmonize_to_grid` returns); scored on the benchmark's land
        mask, like the models.
    name
        The map's label.
    bench
        The reference and the models' scores (default: :func:`load_rh_benchmark`).
    log
        Progress lines when the benchmark is loaded here (``None``: silent).

    Returns
    -------
    pandas.DataFrame
        One row per map, the reader's first, then the models by ilamb3's overall score:
        ``group`` (:data:`READER_GROUP` for the reader), ``rank`` (1 = highest overall score
        among the reader's map and the models), the share of the land mask each map covers
        (``land_mask_cover_pct``) and the scores and scalars of :func:`score_table`. ``attrs``
        hold ``reader`` (the row label), ``reference`` (the file) and ``period``.

    Raises
    ------
    GridError
        The map is not a (lat, lon) map on the benchmark's grid, or has no value on its land mask.
    ValueError
        Units other than g C m-2 yr-1.
    """
    bench = bench or load_rh_benchmark(log=log)
    mask = bench.land_mask
    if set(rh_g_m2_yr.dims) != {"lat", "lon"}:
        raise GridError(f"an Rh map needs dimensions (lat, lon), got {rh_g_m2_yr.dims}")
    if rh_g_m2_yr.sizes != mask.sizes or not grid.same_grid(rh_g_m2_yr, mask):
        raise GridError("the Rh map is not on the benchmark's 0.5-degree grid; harmonize it first (globalrs.gridding.harmonize)")
    field = rh_g_m2_yr.transpose("lat", "lon").where(mask)
    if not bool(field.notnull().any()):
        raise GridError(f"{name}: no value on the benchmark's land mask")
    models = [str(m) for m in bench.model_maps["model"].values]
    label = reader_label(name, models)
    reader = field.drop_vars([c for c in field.coords if c not in ("lat", "lon")]).expand_dims(model=[label])
    reader_scalars, _ = score_maps(bench.ref, reader.assign_attrs(rh_g_m2_yr.attrs), "rh")
    scalars = pd.concat([reader_scalars, bench.model_scalars[bench.model_scalars["source"] != "Reference"]], ignore_index=True)
    table = score_table(scalars)
    group = pd.concat([pd.Series({label: READER_GROUP}), bench.group])
    maps = xr.concat([reader, bench.model_maps], dim="model")
    cover = 100 * maps.notnull().sum(("lat", "lon")) / int(mask.sum())
    table.insert(0, "group", group.reindex(table.index))
    table.insert(1, "rank", table["Overall Score [1]"].rank(ascending=False, method="min").astype(int))
    table.insert(2, "land_mask_cover_pct", cover.to_series().reindex(table.index))
    table = pd.concat([table.loc[[label]], table.drop(index=label)])
    table.attrs = {"reader": label, "reference": str(bench.path), "period": bench.ref.attrs.get("period", "")}
    return table


# --------------------------------------------------------------------------------------------
# references built from several routes, and rankings compared across references
# --------------------------------------------------------------------------------------------
def route_statistics(members: xr.DataArray) -> xr.Dataset:
    """Per-cell mean, uncertainty and member count of a reference built from several routes.

    Parameters
    ----------
    members
        ``(member, lat, lon)`` with a ``route`` coordinate on ``member`` (:func:`globalrs.estimates.rh.route_members`).

    Returns
    -------
    xarray.Dataset
        ``mean``: the mean of the route means (each route counts once, however many members it
        has); ``sd``: sqrt(variance of the route means (ddof = 1) + mean within-route variance
        (ddof = 1)), so the uncertainty carries the routes' disagreement as well as each route's
        own spread (a single-member route adds no within-route variance); ``n``: members with a
        value. Where only one route has a value its own statistics are used.
    """
    if "route" not in members.coords:
        raise ValueError("members need a 'route' coordinate (globalrs.estimates.rh.route_members)")
    by_route = members.groupby("route")
    means = by_route.mean("member", skipna=True)
    within = by_route.var("member", ddof=1, skipna=True).fillna(0.0).where(means.notnull())
    n_routes = means.notnull().sum("route")
    between = means.var("route", ddof=1, skipna=True).where(n_routes > 1, 0.0)
    mean = means.mean("route", skipna=True).where(n_routes > 0)
    # numpy's stubs type a ufunc of a DataArray as an ndarray; xarray returns a DataArray
    sd = cast(xr.DataArray, np.sqrt(between + within.mean("route", skipna=True))).where(n_routes > 0)
    return xr.Dataset({"mean": mean, "sd": sd, "n": members.notnull().sum("member")})


def reference_routes(skill: pd.DataFrame, candidates: Sequence[str] = rh.REFERENCE_CANDIDATES) -> list[str]:
    """The candidate routes whose member mean has skill (:func:`globalrs.estimates.rh.route_skill`), in order.

    Raises
    ------
    ValueError
        If no candidate route has skill: there is then no data-driven reference to rank against.
    """
    skilful = [r for r in candidates if (r, "route mean") in skill.index and bool(skill.loc[(r, "route mean"), "skilful"])]
    if not skilful:
        raise ValueError(f"no candidate route {list(candidates)} has blocked-CV skill against held-out Rh records")
    return skilful


def check_route_coverage(members: xr.DataArray, weights: xr.DataArray) -> None:
    """Refuse a reference whose members of one route are all NaN over a whole region.

    Raises
    ------
    ValueError
        Naming the route and the region.
    """
    if "route" not in members.coords:
        raise ValueError("members need a 'route' coordinate (globalrs.estimates.rh.route_members)")
    if not grid.same_grid(members, weights):
        raise GridError("the region table is not on the members' grid")
    for route in dict.fromkeys(members["route"].values):
        has = members.where(members["route"] == route, drop=True).notnull().any("member")
        for region in weights["region"].values:
            inside = weights.sel(region=region) > 0
            if bool(inside.any()) and not bool((has & inside).any()):
                raise ValueError(f"route {str(route)!r}: every member is NaN on region {region}")


def route_benchmark(
    members: xr.DataArray,
    observations: Sequence[pd.DataFrame],
    name: str,
    data_version: str = "v5",
    mask: xr.DataArray | None = None,
) -> Path:
    """Export the Rh members of one or more routes as a CF reference (:func:`route_statistics`).

    Parameters
    ----------
    members
        ``(member, lat, lon)`` with a ``route`` coordinate, g C m-2 yr-1.
    observations
        The observation tables behind the members (their study years give the period).
    name
        The reference's label (file ``rh_<name>_globalrs_benchmark.nc`` in the cache folder).
    mask
        Optional cells to keep (the others become NaN), e.g. the cells every route covers.

    Returns
    -------
    pathlib.Path
    """
    if mask is not None:
        members = members.where(mask)
    stats = route_statistics(members)
    routes = list(dict.fromkeys(members["route"].values))
    target = get_cache_dir() / BENCHMARK_DIR / f"rh_{name}_globalrs_benchmark.nc"
    return export_data_driven_benchmark("rh", members, observations, data_version, path=target, statistics=stats, routes=routes)


def scores_by_reference(
    references: dict[str, xr.Dataset], maps: xr.DataArray, variable: str = "rh", score: str = "Overall Score [1]"
) -> pd.DataFrame:
    """The ilamb3 score of every map against each reference (whole domain, cached per reference).

    A map named like a reference (CARDAMOM against CARDAMOM) is not scored against itself.

    Returns
    -------
    pandas.DataFrame
        Models x references.
    """
    columns = {}
    for name, ref in references.items():
        keep = [m for m in maps["model"].values if str(m) != name]
        scalars = load_model_scores(ref, maps.sel(model=keep), variable)
        columns[name] = score_table(scalars)[score]
    return pd.DataFrame(columns).reindex([str(m) for m in maps["model"].values])


def ranking_agreement(scores: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Ranks under every reference and Kendall's tau (``scipy.stats.kendalltau``) between them.

    Parameters
    ----------
    scores
        Models x references (:func:`scores_by_reference`); higher is better.

    Returns
    -------
    ranks, tau
        Ranks (1 = best; NaN where a model is not scored) and the references x references tau,
        each pair over the models both score.
    """
    from scipy.stats import kendalltau

    ranks = scores.rank(ascending=False, method="min")
    names = list(scores.columns)
    tau = pd.DataFrame(np.nan, index=names, columns=names)
    for a in names:
        for b in names:
            both = scores[[a, b]].dropna()
            if len(both) >= 3:
                tau.loc[a, b] = kendalltau(both[a], both[b]).statistic
    return ranks, tau


def robust_statements(scores: pd.DataFrame, group: pd.Series) -> pd.DataFrame:
    """Statements about the models, each tested under every reference.

    Statements: which model is best and worst; the order of the group means; and, for every
    pair of models, which one scores higher. Only models scored under every reference count.

    Returns
    -------
    pandas.DataFrame
        ``statement`` (one per kind, the pair statements summarized), ``holds_under``
        (references where it holds), ``n_references``, ``survives`` (holds under all).
    """
    full = scores.dropna()
    refs = list(full.columns)
    rows = []

    def add(statement: str, holds: list[bool]) -> None:
        """Append one statement and the references under which it holds."""
        rows.append(
            {
                "statement": statement,
                "holds_under": ", ".join(r for r, h in zip(refs, holds, strict=True) if h),
                "n_references": int(sum(holds)),
                "survives": bool(all(holds)),
            }
        )

    first = full[refs[0]]
    for label, pick in (("best", first.idxmax()), ("worst", first.idxmin())):
        holds = [full[r].idxmax() == pick if label == "best" else full[r].idxmin() == pick for r in refs]
        add(f"{pick} scores {label} (as under {refs[0]})", holds)
    means = full.groupby(group.reindex(full.index)).mean()
    order = list(means[refs[0]].sort_values(ascending=False).index)
    holds = [list(means[r].sort_values(ascending=False).index) == order for r in refs]
    add("group means in the order " + " > ".join(order), holds)
    models = list(full.index)
    n_pairs = 0
    stable = 0
    for i, a in enumerate(models):
        for b in models[i + 1 :]:
            signs = np.sign(full.loc[a] - full.loc[b])
            n_pairs += 1
            stable += int((signs > 0).all() or (signs < 0).all())
    table = pd.DataFrame(rows)
    table.attrs.update(n_pairs=n_pairs, n_pairs_stable=stable, n_models=len(models))
    return table.set_index("statement")


# --------------------------------------------------------------------------------------------
# Rh against temperature: ilamb3's relationship analysis
# --------------------------------------------------------------------------------------------
#: Result version of the cached relationship scores (:func:`load_relationship_scores`).
RELATIONSHIP_VERSION = "1"


def relationship_scores(ref: xr.Dataset, ref_tas_c: xr.DataArray, maps: xr.DataArray, tas_c: xr.DataArray) -> pd.Series:
    """The ilamb3 relationship score of Rh against near-surface air temperature, per model.

    The reference pairs the data-driven Rh (``ref``, :func:`load_reference`) with an observed
    temperature map; each model pairs its own rh with its own tas. ilamb3's
    ``relationship_analysis`` bins Rh by temperature in both and scores how close the model's
    response curve is to the reference's.

    Parameters
    ----------
    ref
        The Rh reference (one time step).
    ref_tas_c
        (lat, lon) observed temperature (degC) on the reference grid, NaN off the land mask.
    maps
        (model, lat, lon) rh in g C m-2 yr-1 (:func:`collect_rh_maps`).
    tas_c
        (model, lat, lon) each model's tas (degC) on the same grid; models without one are skipped.

    Returns
    -------
    pandas.Series
        ``Relationship Score tas`` per model (0..1).
    """
    import_ilamb3()
    from ilamb3.analysis.relationship import relationship_analysis

    ref_pair = xr.Dataset({"rh": ref["rh"].isel(time=0, drop=True), "tas": ref_tas_c.assign_attrs(units="degC")})
    out = {}
    for model in tas_c["model"].values:
        name = str(model)
        if name not in set(map(str, maps["model"].values)):
            continue
        flux = comparison_dataset(maps.sel(model=name, drop=True).assign_attrs(maps.attrs), ref, "rh")["rh"].isel(
            time=0, drop=True
        )
        com = xr.Dataset(
            {"rh": flux, "tas": tas_c.sel(model=name, drop=True).where(ref_tas_c.notnull()).assign_attrs(units="degC")}
        )
        df, _, _ = relationship_analysis("rh", "tas")(ref_pair, com)
        out[name] = float(df["value"].iloc[0])
    return pd.Series(out, name="Relationship Score tas [1]")


def load_relationship_scores(
    ref: xr.Dataset, ref_tas_c: xr.DataArray, maps: xr.DataArray, tas_c: xr.DataArray, refresh: bool = False
) -> pd.Series:
    """:func:`relationship_scores`, kept in the result cache (keyed on every input's values and ilamb3's version)."""
    ilamb3 = import_ilamb3()
    key = cache_key(
        "relationship",
        RELATIONSHIP_VERSION,
        values=values_digest(ref, ref_tas_c, maps, tas_c),
        ilamb3=ilamb3.__version__,
    )
    path = cache_path(BENCHMARK_DIR, "relationship-rh-tas", key, ".csv")

    def read(target: Path) -> pd.Series:
        return pd.read_csv(target, index_col=0).iloc[:, 0]

    def write(series: pd.Series, target: Path) -> None:
        write_csv_atomic(series.rename_axis("model").reset_index(), target)

    return cached_build(path, lambda: relationship_scores(ref, ref_tas_c, maps, tas_c), read, write, refresh)
