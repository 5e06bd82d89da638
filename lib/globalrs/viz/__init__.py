"""Viz: figure helpers any stage above may use (maps, method-family colours, labels).

``plots``       shared figure helpers; maps draw coastlines from the registered Natural Earth file
``pages``       page pieces that are neither figure nor claim (a table as a CSV download link)
"""
