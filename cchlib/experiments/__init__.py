"""One module per chapter: the unit of work (a sweep cell) each chapter's notebook runs.

A cell function has the signature ``run_cell(condition, seeds, settings)`` and returns
``{seed: [row, ...]}``; :mod:`cchlib.sweep` caches each (condition, seed) cell.
"""
