"""Flux unit conversions for gridded carbon fluxes.

The book's common unit is the flux density g C m-2 yr-1 (totals in Pg C yr-1). Inputs arrive as

* flux densities per year, month, day or second, with any mass prefix (``g``, ``kg``, ``Mg``,
  ``Pg``...) and area (``m-2``, ``km-2``, ``ha-1``), written ``"g C m-2 yr-1"``, ``"gC/m2/yr"``,
  ``"kg m-2 s-1"``, ``"kg C m-2 s-1"``, ``"g C m-2 month-1"``, ``"gC m-2 d-1"``...;
* per-cell totals without an area (``"g C yr-1"``, ``"Tg C yr-1"``), which need the cell area;
* the units field studies report: ``"umol CO2 m-2 s-1"``, ``"mg C m-2 h-1"``,
  ``"mg CO2 m-2 h-1"``, ``"g C m-2 d-1"``, ``"kg C m-2 s-1"``, ``"Mg C ha-1 yr-1"``.

Units are read by :mod:`pint` (UDUNITS-style exponents such as ``m-2`` are accepted); the only
hand-written step is taking the chemical species (``C`` or ``CO2``, spaced or glued as in
``gC``) out of the string before pint sees it, because pint would read ``C`` as a coulomb.

Conventions (stated once, used everywhere):

* a year is :data:`DAYS_PER_YEAR` = 365.25 days unless a caller passes another value;
* a per-month rate is converted with the length of its month when the data say which month it is
  (a ``month`` coordinate 1..12 uses the non-leap lengths of :data:`DAYS_IN_MONTH`; a ``time``
  coordinate of datetimes uses the real calendar); without that information a month is one
  twelfth of a year, so a mean monthly flux times 12 is the annual flux;
* carbon-free mass units (``"kg m-2 s-1"``, the CMIP convention for ``rh``) are read as mass of
  carbon; ``CO2`` masses are converted to carbon with the molar masses
  :data:`MOLAR_MASS_C_G_MOL` / :data:`MOLAR_MASS_CO2_G_MOL` (12.011 / 44.009), and amounts
  (``umol CO2``, ``mol C``) to grams of carbon with :data:`MOLAR_MASS_C_G_MOL` (one carbon atom
  per CO2 molecule).

Unknown or unparseable units raise :class:`UnitsError`; nothing is guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import xarray as xr

from globalrs.core.exceptions import UnitsError

#: days in a year used for rates per second or per day <-> per year (Julian year)
DAYS_PER_YEAR = 365.25
SECONDS_PER_DAY = 86_400.0
#: non-leap month lengths, January..December
DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=float)
#: days in a year of the 365-day (no-leap) calendar most CMIP6 models use
DAYS_PER_NOLEAP_YEAR = 365.0
#: seconds per (Julian) year, for g C m-2 yr-1 <-> kg m-2 s-1 (the UDUNITS/pint year)
SECONDS_PER_YEAR = DAYS_PER_YEAR * SECONDS_PER_DAY
#: grams per petagram
G_PER_PG = 1e15
#: grams per kilogram
G_PER_KG = 1000.0
#: square metres per million square kilometres (land areas are reported in M km2)
M2_PER_MKM2 = 1e12
#: molar mass of carbon, g mol-1 (IUPAC conventional atomic weight)
MOLAR_MASS_C_G_MOL = 12.011
#: molar mass of oxygen, g mol-1
MOLAR_MASS_O_G_MOL = 15.999
#: molar mass of CO2, g mol-1 (12.011 + 2 x 15.999 = 44.009)
MOLAR_MASS_CO2_G_MOL = MOLAR_MASS_C_G_MOL + 2 * MOLAR_MASS_O_G_MOL
#: grams of carbon per gram of CO2
C_PER_CO2 = MOLAR_MASS_C_G_MOL / MOLAR_MASS_CO2_G_MOL

CANONICAL_FLUX = "g C m-2 yr-1"
CANONICAL_MONTHLY_FLUX = "g C m-2 month-1"

#: time units with a fixed length in seconds (years and months depend on the caller/calendar)
_TIME_SECONDS_FIXED = {"s": 1.0, "min": 60.0, "h": 3600.0, "day": SECONDS_PER_DAY}
#: pint's unit names -> the short time codes of :class:`FluxUnits`
_TIME_CODES = {"second": "s", "minute": "min", "hour": "h", "day": "day", "month": "month", "year": "yr"}
#: a species after a mass or amount ("g C", "gC", "umol CO2", "mg CO2"); case-sensitive
_SPECIES_RE = re.compile(r"(?<![A-Za-z])([A-Za-zµμ]*?)(CO2|C)(?![A-Za-z0-9])")
#: an explicit per-cell marker ("cell-1", "gridcell-1", "/cell", "pixel-1")
_CELL_RE = re.compile(
    r"(/\s*)?(?<![A-Za-z])(grid_?cell|cell|pixel)s?(?![A-Za-z])(\s*(\*\*|\^)?\s*-1)?",
    re.IGNORECASE,
)


@lru_cache(maxsize=1)
def unit_registry():
    """The pint registry used for flux units (UDUNITS-style ``m-2`` exponents, ``mo`` = month)."""
    import pint

    ureg = pint.UnitRegistry(preprocessors=[lambda text: re.sub(r"(?<=[A-Za-z])(?=-?[0-9])", "**", text)])
    ureg.define("@alias month = mo = mon")
    return ureg


@dataclass(frozen=True)
class FluxUnits:
    """A parsed flux unit.

    Attributes
    ----------
    grams_c
        Grams of carbon in one unit of mass or amount (``kg`` -> 1000,
        ``g CO2`` -> 12.011/44.009, ``umol CO2`` -> 12.011e-6).
    time
        The time unit of the rate: ``"s"``, ``"min"``, ``"h"``, ``"day"``, ``"month"``,
        ``"yr"`` (or another pint time unit name such as ``"week"``).
    area_m2
        Square metres in one unit of area (``m-2`` -> 1, ``km-2`` -> 1e6), or ``None`` for a
        per-cell total (no area in the unit).
    text
        The original string.
    species
        ``"C"`` (including carbon-free mass units, read as carbon) or ``"CO2"``.
    """

    grams_c: float
    time: str
    area_m2: float | None
    text: str
    species: str = "C"

    @property
    def is_per_cell(self) -> bool:
        """True for totals per grid cell (no area in the unit)."""
        return self.area_m2 is None


def parse_flux_units(units: str | None) -> FluxUnits:
    """Parse a carbon-flux units string.

    Parameters
    ----------
    units
        For example ``"g C m-2 yr-1"``, ``"gC/m2/yr"``, ``"kg m-2 s-1"``, ``"g C m-2 month-1"``,
        ``"g C m-2 d-1"``, ``"Mg C ha-1 yr-1"`` or the per-cell total ``"g C yr-1"``.

    Returns
    -------
    FluxUnits

    Raises
    ------
    UnitsError
        Missing, unknown or inconsistent units (for example no time unit, or m-1).
    """
    if units is None or not str(units).strip():
        raise UnitsError("no units given: set the variable's 'units' attribute (e.g. 'g C m-2 yr-1')")
    text = str(units)
    expr, species = _strip_species(text)
    expr = _CELL_RE.sub(" ", expr).replace("μ", "u").replace("µ", "u")
    if not expr.strip():
        raise UnitsError(f"cannot read units {text!r}: no mass unit (g, kg, Pg...)")
    ureg = unit_registry()
    try:
        unit_items = list(ureg.Quantity(1.0, expr).unit_items())
    except Exception as exc:  # pint's parse and undefined-unit errors
        raise UnitsError(f"cannot read units {text!r}: {exc}") from None
    parts = _FluxParts()
    for name, exp in unit_items:
        _read_unit_item(ureg, name, exp, species, text, parts)
    grams, area, time = parts.grams, parts.area_m2, parts.time
    if grams is None:
        raise UnitsError(f"cannot read units {text!r}: no mass unit (g, kg, Pg...) or amount (mol)")
    if time is None:
        raise UnitsError(f"cannot read units {text!r}: no time unit (s-1, h-1, day-1, month-1, yr-1)")
    return FluxUnits(grams_c=grams, time=time, area_m2=area, text=text, species=species or "C")


@dataclass
class _FluxParts:
    """The pieces of a flux units string found so far (None: not yet seen)."""

    grams: float | None = None
    area_m2: float | None = None
    time: str | None = None


def _read_unit_item(ureg, name: str, exp: int, species: str | None, text: str, parts: _FluxParts) -> None:
    """Put one unit of a flux units string (its name and exponent) into ``parts``: mass, area or time.

    A second mass, area or time unit, or any other unit, is refused with the string ``text`` named.
    """
    dim = dict(ureg.get_dimensionality(name))
    one = ureg.Quantity(1.0, name)
    if dim == {"[mass]": 1} and exp == 1 and parts.grams is None:
        parts.grams = float(one.to("g").magnitude) * (C_PER_CO2 if species == "CO2" else 1.0)
    elif dim == {"[substance]": 1} and exp == 1 and parts.grams is None:
        if species is None:
            raise UnitsError(
                f"cannot read units {text!r}: an amount ({name}) needs its species, e.g. 'umol CO2 m-2 s-1' or 'mol C m-2 yr-1'"
            )
        parts.grams = float(one.to("mol").magnitude) * MOLAR_MASS_C_G_MOL
    elif dim in ({"[length]": 1}, {"[length]": 2}) and parts.area_m2 is None:
        parts.area_m2 = _area_m2(one, name, exp, dim["[length]"], text)
    elif dim == {"[time]": 1} and exp == -1 and parts.time is None:
        parts.time = _TIME_CODES.get(name, name)
    else:
        raise UnitsError(f"cannot read units {text!r}: unexpected {name!r} (exponent {exp})")


def _area_m2(one, name: str, exp: int, length_power: int, text: str) -> float:
    """Square metres in the area unit ``one`` (a length to ``exp`` -2, or an area to ``exp`` -1)."""
    if length_power == 1:
        if exp != -2:
            raise UnitsError(f"cannot read units {text!r}: area {name}^{exp} is not a per-area unit")
        return float(one.to("m").magnitude) ** 2
    if exp != -1:
        raise UnitsError(f"cannot read units {text!r}: area {name}^{exp} is not a per-area unit")
    return float(one.to("m**2").magnitude)


def _strip_species(text: str) -> tuple[str, str | None]:
    """Remove the species (``C`` or ``CO2``) from a units string; return (rest, species)."""
    found = _SPECIES_RE.findall(text)
    if len(found) > 1:
        raise UnitsError(f"cannot read units {text!r}: more than one species {[f[1] for f in found]}")
    if not found:
        return text, None
    return _SPECIES_RE.sub(lambda m: m.group(1) + " ", text), found[0][1]


def seconds_per_time_unit(time: str) -> float:
    """Seconds in one fixed-length time unit of :class:`FluxUnits` (not ``"yr"``/``"month"``)."""
    if time in _TIME_SECONDS_FIXED:
        return _TIME_SECONDS_FIXED[time]
    if time in ("yr", "month"):
        raise ValueError(f"{time!r} has no fixed length: it depends on days_per_year/calendar")
    return float(unit_registry().Quantity(1.0, time).to("s").magnitude)


def days_in_month(month: np.ndarray | xr.DataArray) -> np.ndarray | xr.DataArray:
    """Non-leap length in days of months numbered 1..12."""
    values = np.asarray(month)
    if values.size and (values.min() < 1 or values.max() > 12):
        raise ValueError(f"months must be 1..12, got {values.min()}..{values.max()}")
    lengths = DAYS_IN_MONTH[values.astype(int) - 1]
    if isinstance(month, xr.DataArray):
        return month.copy(data=lengths)
    return lengths


def _month_days(da: xr.DataArray, days_per_year: float):
    """Days in each month of ``da`` (DataArray for broadcasting) or a scalar mean month."""
    if "month" in da.coords and da["month"].ndim == 1 and "month" in da.dims:
        return days_in_month(da["month"])
    if "time" in da.coords and "time" in da.dims:
        time = da["time"]
        if np.issubdtype(time.dtype, np.datetime64) or time.dtype == object:
            return time.dt.days_in_month.astype(float)
    return days_per_year / 12.0


def _seconds_per(time: str, da: xr.DataArray, days_per_year: float):
    if time == "yr":
        return days_per_year * SECONDS_PER_DAY
    if time == "month":
        return _month_days(da, days_per_year) * SECONDS_PER_DAY
    return seconds_per_time_unit(time)


def convert_flux_density(
    da: xr.DataArray,
    to_units: str = CANONICAL_FLUX,
    area_m2: xr.DataArray | None = None,
    days_per_year: float = DAYS_PER_YEAR,
) -> xr.DataArray:
    """Convert a carbon flux to another flux unit, reading ``da.attrs["units"]``.

    Parameters
    ----------
    da
        The flux; its ``units`` attribute must be parseable by :func:`parse_flux_units`.
    to_units
        Target units (default ``"g C m-2 yr-1"``).
    area_m2
        Cell areas (m2) aligned with ``da``; required only to go between per-cell totals
        (``"g C yr-1"``) and flux densities.
    days_per_year
        Length of a year in days for s/day <-> yr conversions (default 365.25).

    Returns
    -------
    xarray.DataArray
        Converted values with ``attrs["units"] = to_units`` (other attributes kept).

    Raises
    ------
    UnitsError
        Unknown units, or a per-cell/density change without ``area_m2``.
    """
    src = parse_flux_units(da.attrs.get("units"))
    dst = parse_flux_units(to_units)
    if src.is_per_cell != dst.is_per_cell and area_m2 is None:
        raise UnitsError(
            f"converting {src.text!r} to {to_units!r} changes between per-cell totals and flux "
            "densities: pass area_m2 (cell areas in m2)"
        )
    if area_m2 is not None and area_m2.attrs.get("units", "m2") not in ("m2", "m^2", "m**2"):
        raise UnitsError(f"area_m2 must be in m2, got units={area_m2.attrs.get('units')!r}")
    factor_mass = src.grams_c / dst.grams_c
    seconds_src = _seconds_per(src.time, da, days_per_year)
    seconds_dst = _seconds_per(dst.time, da, days_per_year)
    out = da * factor_mass * (seconds_dst / seconds_src) if src.time != dst.time else da * factor_mass
    src_area_m2, dst_area_m2 = src.area_m2, dst.area_m2  # None: a total per cell
    if src_area_m2 is None and dst_area_m2 is not None and area_m2 is not None:  # area_m2 checked above
        out = out / area_m2 * dst_area_m2
    elif src_area_m2 is not None and dst_area_m2 is None and area_m2 is not None:
        out = out / src_area_m2 * area_m2
    elif src_area_m2 is not None and dst_area_m2 is not None:
        out = out * (dst_area_m2 / src_area_m2)
    out = out.astype(np.result_type(da.dtype, np.float32))
    out.attrs = dict(da.attrs)
    out.attrs["units"] = to_units
    out.name = da.name
    return out


def to_g_m2_yr(da: xr.DataArray, area_m2: xr.DataArray | None = None, days_per_year: float = DAYS_PER_YEAR) -> xr.DataArray:
    """Shortcut for :func:`convert_flux_density` to ``"g C m-2 yr-1"``."""
    return convert_flux_density(da, CANONICAL_FLUX, area_m2=area_m2, days_per_year=days_per_year)


def flux_to_cell_total_g_yr(flux_g_m2_yr: xr.DataArray, area_m2: xr.DataArray) -> xr.DataArray:
    """Per-cell totals in g C yr-1 from a flux density in g C m-2 yr-1 and cell areas in m2."""
    return convert_flux_density(flux_g_m2_yr, "g C yr-1", area_m2=area_m2)


def cell_total_to_flux_g_m2_yr(total_g_yr: xr.DataArray, area_m2: xr.DataArray) -> xr.DataArray:
    """Flux density in g C m-2 yr-1 from per-cell totals (any per-cell unit) and cell areas (m2)."""
    return convert_flux_density(total_g_yr, CANONICAL_FLUX, area_m2=area_m2)


def g_to_pg(grams: float | np.ndarray | xr.DataArray):
    """Grams to petagrams."""
    return grams / G_PER_PG


def pg_to_g(petagrams: float | np.ndarray | xr.DataArray):
    """Petagrams to grams."""
    return petagrams * G_PER_PG


# --------------------------------------------------------------------------------------------
# Process-model conversions (CMIP6 chapter): land-area fluxes, land fractions, global totals
# --------------------------------------------------------------------------------------------


def land_fraction_from_sftlf(sftlf: xr.DataArray) -> xr.DataArray:
    """Land fraction 0..1 from a CMIP ``sftlf`` field (``units`` ``"%"``) or a fraction (``"1"``).

    Raises
    ------
    UnitsError
        Unknown units, or values outside the range the units allow.
    """
    units = str(sftlf.attrs.get("units", "")).strip()
    if units in ("%", "percent"):
        frac = sftlf / 100.0
    elif units in ("1", "", "fraction", "0-1"):
        frac = sftlf
        if units == "" and float(sftlf.max()) > 1.0 + 1e-6:
            raise UnitsError("land fraction without units has values > 1: set units='%' if percent")
    else:
        raise UnitsError(f"land fraction units {units!r} not understood (expected '%' or '1')")
    lo, hi = float(frac.min()), float(frac.max())
    if lo < -1e-6 or hi > 1.0 + 1e-6:
        raise UnitsError(f"land fraction outside 0..1 after conversion ({lo:g}..{hi:g})")
    out = frac.clip(0.0, 1.0)
    out.attrs = {"units": "1", "long_name": "land fraction"}
    return out


def flux_to_total_pg_c_yr(
    flux: xr.DataArray,
    area_m2: xr.DataArray,
    land_fraction: xr.DataArray | None = None,
    dims: tuple[str, ...] = ("lat", "lon"),
    days_per_year: float = DAYS_PER_YEAR,
) -> xr.DataArray:
    """Area-integrate a flux density in any flux units to a total in Pg C yr-1.

    ``total = sum(flux [g C m-2 yr-1] x area_m2 [m2] x land_fraction) / 1e15``; e.g. CMIP6
    ``rh`` in kg m-2 s-1 with ``areacella`` and ``sftlf / 100``. NaN cells contribute nothing.

    Parameters
    ----------
    flux
        Flux density with a parseable ``units`` attribute (``"kg m-2 s-1"``, ``"g C m-2 day-1"``...).
    area_m2
        Cell areas in m2 (CMIP ``areacella``), or land areas per cell when ``land_fraction`` is None.
    land_fraction
        Optional 0..1 land fraction of each cell.
    dims
        Dimensions summed over.
    days_per_year
        Year length for per-second and per-day rates.
    """
    if area_m2.attrs.get("units", "m2") not in ("m2", "m^2", "m**2"):
        raise UnitsError(f"area_m2 must be in m2, got units={area_m2.attrs.get('units')!r}")
    dens = convert_flux_density(flux, CANONICAL_FLUX, days_per_year=days_per_year)
    weight = area_m2 if land_fraction is None else area_m2 * land_fraction
    total = (dens * weight).sum(dims, skipna=True) / G_PER_PG
    total.attrs = {"units": "Pg C yr-1", "long_name": "area-integrated total"}
    return total


def total_to_pg_c_yr(values, units: str, days_per_year: float = DAYS_PER_YEAR):
    """Convert an area-integrated total (``"g C yr-1"``, ``"Tg C yr-1"``, ``"Pg/yr"``,
    ``"g C day-1"``...) to Pg C yr-1.

    Raises
    ------
    UnitsError
        If ``units`` is a flux density (has an area): integrate it first.
    """
    parsed = parse_flux_units(units)
    if not parsed.is_per_cell:
        raise UnitsError(f"{units!r} is a flux density, not a total: integrate over area first")
    if parsed.time == "month":
        seconds = days_per_year / 12.0 * SECONDS_PER_DAY
    elif parsed.time == "yr":
        seconds = days_per_year * SECONDS_PER_DAY
    else:
        seconds = seconds_per_time_unit(parsed.time)
    per_year = days_per_year * SECONDS_PER_DAY / seconds
    return values * parsed.grams_c * per_year / G_PER_PG
