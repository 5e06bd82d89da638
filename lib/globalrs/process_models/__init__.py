"""Process models: CMIP and land-model rh, and their scores against the data-driven benchmark.

``cmip6``        annual CMIP6 and land-model series offline, their statistics and model maps
``cmipmaps``     CMIP6/CMIP5 rh maps on rebuilt native grids, regridded to 0.5 degrees
``pangeo``       CMIP6 gridded rh online (the Pangeo intake-esm catalogue)
``regional``     regional totals and inter-model CV of model rh maps
``benchmark``    the CF export of the data-driven Rs/Rh benchmark, the Rh routes' skill, ilamb3 scoring against it
``ilambcache``   ilamb3's grid work done once per grid (same scores, less CPU)
``rhscores``     the tables of the Rh chapter: routes side by side, the reference's files, scores by region
"""
