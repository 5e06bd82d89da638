"""Gridding: any product onto the book's 0.5-degree grid, and regions on that grid.

``harmonize``   any NetCDF/GeoTIFF map (any grid, any units) -> 0.5 degrees in g C m-2 yr-1
``regions``     region sets as tables (the paper's 14 regions, AR6, ...), regional totals and CV
"""
