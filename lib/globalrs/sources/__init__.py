"""Sources: the registry, verified files, the result cache and one reader per source.

``data``        the data registry (``registry.csv``) and ``fetch``: verified bytes from the mirror or a download
``cache``       the on-disk result cache (``cached_build``: keyed, locked, atomic)
``readers``     one reader per observation or forcing grid (SRDB, MGRsD, WorldClim, UDel, Koeppen, ...)
``timeseries``  readers of the annual series of the temporal chapters
``literature``  the literature tables (the paper's Table 1, published global totals)
"""
