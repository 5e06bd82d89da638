"""Helper library of the executable companion to Hashimoto, Ito & Nishina (2023).

"Divergent data-driven estimates of global soil respiration": flat modules of small functions, one
job each, with data flowing one way (see ``ARCHITECTURE.md`` at the repository root).
"""

__version__ = "0.1.0"
