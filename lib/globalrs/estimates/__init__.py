"""Estimates: the data-driven Rs and Rh estimates, their inputs, evaluation and diagnostics.

``members``       the member registry: one declaration per member (family, fit, prediction, covariates, colour)
``models``        the member formulas on arrays
``inputs``        climate forcing, static grids and the land mask, observations with covariates
``filters``       which SRDB / MGRsD records count, step by step
``ensemble``      the standardized members: fit, predict, cache, totals
``evaluate``      spatially blocked cross-validation and the site bootstrap
``forcing``       year-by-year forcing and runs of the members
``mgrsd``         the optional monthly random forest trained on MGRsD
``aoa``           the area of applicability on arrays (Meyer & Pebesma 2021)
``applicability`` each member's area of applicability on the land mask
``plausibility``  members' predictions beside the records, class by class
``productivity``  members refitted with FLUXCOM GPP as a data choice
``divergence``    per-cell CV and the method / data / forcing split
``published``     the published maps (Zenodo) harmonized into an ensemble
``gridded``       the book-wide switch between ensembles, member summaries
``rh``            data-driven heterotrophic respiration by several routes
"""
