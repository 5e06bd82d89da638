"""Reproduction: the paper's claims, the rules that judge them, and each chapter's record.

``paper``   the one home of the paper's quantitative claims (values, quotes, tolerances, the book's choices)
``scorecard``  each claim beside the book's record, judged by stated rules, as a table, HTML and CSV
``record``  ``record(name, value, fmt=..., claim=...)``: glue a chapter's value and write it for the scorecard
``modelspread``  Fig. 5: the models' regional spread against the data's, the paper's three claims judged
"""
