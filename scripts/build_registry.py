"""Build ``lib/globalrs/registry.csv`` from the offline mirror's ``MANIFEST.csv``.

The registry is the project's record of every file the book reads: its name (the path
relative to the mirror root), canonical URL, sha256, size, licence, a short description
and the citation (with its BibTeX key in ``book/references.bib``). It carries no data.
``registry.csv`` is generated: a row added by hand is lost at the next build.

Usage::

    python scripts/build_registry.py ../shared/data/MANIFEST.csv

Run it again when the mirror's manifest changes; the result is committed.

Adding a dataset (``tests/test_extension_points.py`` does exactly this with a toy file):

1. put the file in the mirror under a folder, ``<folder>/<file>``, and list it in the mirror's
   ``MANIFEST.csv``; ``python scripts/build_registry.py --manifest-row MIRROR FOLDER/FILE URL LICENCE``
   prints its row (size and sha256 computed from the bytes);
2. declare the folder once in :data:`SOURCES` (description, citation, BibTeX keys), or a single
   file whose description differs from its folder's in :data:`FILE_SOURCES`;
3. run the builder: ``registry.csv`` gets the rows, and ``globalrs.sources.data.fetch("<folder>/<file>")``
   returns the verified bytes.
"""

from __future__ import annotations

import csv
import hashlib
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple


class Source(NamedTuple):
    """What a folder (or a file) of the mirror holds and whom to cite."""

    description: str
    citation: str
    bibkeys: str


# What each folder holds and whom to cite, keyed by the folder name in the manifest.
SOURCES: dict[str, Source] = {
    # folder: (description, citation, bibtex keys)
    "berkeley-earth": Source(
        "Berkeley Earth global land (and land+ocean) monthly temperature anomaly, deg C vs 1951-1980",
        "Rohde & Hausfather (2020) Earth Syst. Sci. Data 12:3469",
        "rohde2020berkeley",
    ),
    "cmip6-cmipcarbon": Source(
        "CMIP6 historical annual global rh, gpp, npp 1980-2015 for 15 models (units column wrong; see the CMIP6 chapter)",
        "CMIP6 modelling groups; Eyring et al. (2016) Geosci. Model Dev. 9:1937",
        "eyring2016cmip6",
    ),
    "cmip6-hector": Source(
        "CMIP6 annual land heterotrophic respiration (Pg C yr-1) and land-mean air temperature (K)",
        "CMIP6 modelling groups; Eyring et al. (2016) Geosci. Model Dev. 9:1937",
        "eyring2016cmip6",
    ),
    "compilations": Source(
        "Published compilations of global respiration estimates (Jian et al. 2022; Bond-Lamberty et al. 2024 review)",
        "Jian et al. (2022) Nat. Commun. 13:1733; Bond-Lamberty et al. (2024) review compilation",
        "jian2022inconsistent",
    ),
    "gistemp": Source(
        "NASA GISTEMP station-based temperature index, global/NH/SH, deg C vs 1951-1980",
        "Lenssen et al. (2019) J. Geophys. Res. Atmos. 124:6307",
        "lenssen2019gistemp",
    ),
    "grids": Source(
        "0.5-degree and finer covariate grids: UDel climate, Koeppen-Geiger, IGBP/MODIS land cover, biomes, land fraction",
        "Kottek et al. (2006); Willmott & Matsuura (UDel); Friedl et al. (MODIS); Hijmans et al. (2005); Jung et al. (2020)",
        "kottek2006koeppen;willmott2001udel;friedl2010modis;hijmans2005worldclim;jung2020fluxcom",
    ),
    "isimip2a": Source(
        "ISIMIP2a annual global heterotrophic respiration and GPP, 8 process models, 1971-2010 (g C yr-1)",
        "Bond-Lamberty et al. (2018) Nature 560:80",
        "bondlamberty2018rh",
    ),
    "landmodels": Source(
        "Gridded 2000-2010 mean heterotrophic respiration of CASA-CNP, MIMICS and CORPSE (g C m-2 day-1)",
        "Jian et al. (2021) Glob. Change Biol. 27:5392; Wieder et al. (2013) Nat. Clim. Change 3:909",
        "jian2021landmodels;wieder2013microbial",
    ),
    "lei2021": Source(
        "Lei et al. 2021 annual global Rs and Rh 1987-2016 (Pg C yr-1) and UDel climate at SRDB sites",
        "Lei et al. (2021) Nat. Commun. 12:403",
        "lei2021temporal",
    ),
    "mgrsd": Source(
        "Monthly and daily global soil respiration databases (MGRsD, DGRsD) and UDel climate-zone series",
        "Jian et al. (2018) Earth's Future 6:1539; Jian et al. (2020) MGRsD/DGRsD",
        "jian2018future;jian2020mgrsd",
    ),
    "natural-earth": Source(
        "Natural Earth 110m/50m land and countries as GeoJSON (offline coastlines)",
        "Natural Earth (public domain), naturalearthdata.com",
        "naturalearth",
    ),
    "srdb": Source(
        "Global Soil Respiration Database (SRDB-V5 release 2020-05-11 and the 2022-10-09 update)",
        "Jian et al. (2021) Earth Syst. Sci. Data 13:255; Bond-Lamberty & Thomson (2010) Biogeosciences 7:1915",
        "jian2021srdbv5;bondlamberty2010database",
    ),
    "varney2020": Source(
        "CMIP6/CMIP5 historical rh (and tas) 1995-2005 means on native model grids without coordinates, "
        "CARDAMOM Rh 2001-2010 on 0.5 deg, as saved by Varney et al. (2020); kg C m-2 yr-1",
        "Varney et al. (2020) Nat. Commun. 11:5544; CMIP modelling groups (Eyring et al. 2016; Taylor et al. 2012); "
        "Bloom et al. (2016) PNAS 113:1285 (CARDAMOM)",
        "varney2020spatial;eyring2016cmip6;taylor2012cmip5;bloom2016cardamom",
    ),
    "jian2020-rc": Source(
        "Global 0.5-deg map of the root (autotrophic) contribution to soil respiration RC = Ra/Rs, with its SD",
        "Jian et al. (2022) Glob. Ecol. Biogeogr. 31:685",
        "jian2022roots",
    ),
    "worldclim10m": Source(
        "WorldClim 1.4 monthly mean temperature (deg C x 10) and precipitation (mm) at 10 arc-minutes, ESRI BIL",
        "Hijmans et al. (2005) Int. J. Climatol. 25:1965",
        "hijmans2005worldclim",
    ),
}

# Files whose description and citation differ from their folder's, keyed by path.
FILE_SOURCES: dict[str, Source] = {
    "landmodels/CMIP6_percent_of_global_RH.csv": Source(
        "Share of global CMIP6 rh per 5-degree latitude band for CESM2, CESM2-WACCM, CNRM-CM6-1, "
        "CNRM-ESM2-1 and IPSL-CM6A-LR (percent)",
        "CMIP6 modelling groups; Eyring et al. (2016) Geosci. Model Dev. 9:1937",
        "eyring2016cmip6",
    ),
    "landmodels/hashimoto2015_rh.txt": Source(
        "Global annual heterotrophic respiration 1990-2012 DIGITISED from a figure of Hashimoto et al. "
        "(2015) (Pg C yr-1; a digitised curve, not the product)",
        "Hashimoto et al. (2015) Biogeosciences 12:4121",
        "hashimoto2015",
    ),
    "landmodels/tang2020_rh.txt": Source(
        "Global annual heterotrophic respiration 1980-2016 DIGITISED from a figure of Tang et al. (2020) "
        "(Pg C yr-1; a digitised curve, not the product)",
        "Tang et al. (2020) Earth Syst. Sci. Data 12:1037",
        "tang2020rh",
    ),
}

FIELDS = ["name", "url", "sha256", "bytes", "license", "description", "citation", "bibkeys"]

#: Columns of the mirror's MANIFEST.csv the builder reads (the mirror's manifest has more).
MANIFEST_FIELDS = ["file", "bytes", "sha256", "url", "license"]


def sha256_of(path: Path, chunk_bytes: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_row(mirror: Path, name: str, url: str, license: str) -> dict[str, str]:
    """The manifest row of the file ``mirror / name``: its size and sha256 computed from the bytes.

    Parameters
    ----------
    mirror
        The mirror's root directory.
    name
        The file's path relative to the root, ``<folder>/<file>``.
    url
        Its canonical download address.
    license
        Its licence, as the source states it.
    """
    path = mirror / name
    if "/" not in name:
        raise ValueError(f"{name!r}: a mirror file lives in a folder, <folder>/<file>")
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: put the file in the mirror first")
    return {"file": name, "bytes": str(path.stat().st_size), "sha256": sha256_of(path), "url": url, "license": license}


def build_registry(
    manifest: Path,
    out: Path,
    sources: Mapping[str, Source] = SOURCES,
    file_sources: Mapping[str, Source] = FILE_SOURCES,
) -> int:
    """Write the registry CSV for every row of ``manifest``; return the row count.

    Parameters
    ----------
    manifest
        The mirror's ``MANIFEST.csv`` (columns :data:`MANIFEST_FIELDS` at least).
    out
        The registry CSV to write (the packaged ``lib/globalrs/registry.csv``, or a registry of
        your own named by ``GLOBALRS_REGISTRY``).
    sources, file_sources
        The declarations (default: :data:`SOURCES`, :data:`FILE_SOURCES`).

    Raises
    ------
    KeyError
        A manifest row whose folder is declared nowhere.
    """
    rows = []
    with manifest.open(newline="") as fh:
        for rec in csv.DictReader(fh):
            folder = rec["file"].split("/", 1)[0]
            if rec["file"] not in file_sources and folder not in sources:
                raise KeyError(f"no description/citation for folder {folder!r}: add it to SOURCES")
            description, citation, keys = file_sources.get(rec["file"]) or sources[folder]
            rows.append(
                {
                    "name": rec["file"],
                    "url": rec["url"],
                    "sha256": rec["sha256"],
                    "bytes": rec["bytes"],
                    "license": rec["license"],
                    "description": description,
                    "citation": citation,
                    "bibkeys": keys,
                }
            )
    rows.sort(key=lambda r: r["name"])
    with out.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


def main(argv: list[str]) -> None:
    """Build the packaged registry, or print one manifest row (``--manifest-row``)."""
    if argv[:1] == ["--manifest-row"]:
        if len(argv) != 5:
            raise SystemExit("usage: build_registry.py --manifest-row MIRROR FOLDER/FILE URL LICENCE")
        row = manifest_row(Path(argv[1]), argv[2], argv[3], argv[4])
        writer = csv.DictWriter(sys.stdout, fieldnames=MANIFEST_FIELDS)
        writer.writerow(row)
        return
    manifest = Path(argv[0] if argv else "../shared/data/MANIFEST.csv")
    out = Path(__file__).resolve().parents[1] / "lib" / "globalrs" / "registry.csv"
    n = build_registry(manifest, out)
    print(f"wrote {n} entries to {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
