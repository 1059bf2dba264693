"""A chapter's context: what its sweeps, tables, scorecard rows and provenance share.

Every chapter runs sweeps, writes tables, scorecard rows and a provenance record, all
under the same chapter name, parameter set, results folder, cache and executor. A
notebook makes one :class:`Chapter` from its parameters
(:meth:`Chapter.from_parameters`, which also writes the provenance record) and calls
its methods, instead of passing those five values to every call; it glues values into
its prose under the chapter's name (:meth:`Chapter.glue`) and closes with
:meth:`Chapter.conclude`, which writes the scorecard and criteria rows, the findings
box and the run time.

Each sweep takes its own typed settings (:class:`cchlib.settings.CellSettings`), so
changing one sweep's grid does not invalidate another's cached cells.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display
from matplotlib.figure import Figure
from myst_nb import glue

from cchlib import criteria, report, sweep
from cchlib.data.store import cache_dir
from cchlib.device import default_device
from cchlib.figures import BOOK_STYLE
from cchlib.findings import cch_finding
from cchlib.io import RUNNER_PARAMETERS, results_dir
from cchlib.mi import bias
from cchlib.provenance import chapter_record
from cchlib.resultstore import STORE_ENV, ResultStore, function_name
from cchlib.settings import CellSettings


@dataclass(frozen=True)
class Chapter:
    """What every call of a chapter shares: its name, parameter set, results, cache and executor.

    ``cache_root`` None means the chapter's own folder under the cchlib cache
    (``$CCH_CACHE_DIR/sweeps/<name>``); a given folder is used as it is.
    """

    name: str
    params_name: str
    results_root: str | Path
    cache_root: str | Path | None = None
    executor: str = "local"
    executor_options: dict = field(default_factory=dict)
    _store_use: dict = field(default_factory=dict, init=False, repr=False, compare=False)  # fn -> (stored, cells)
    _missing: list = field(default_factory=list, init=False, repr=False, compare=False)  # optional conditions not stored
    _run: dict = field(default_factory=lambda: {"started": time.monotonic(), "sweep_seconds": 0.0, "record": {},
                                                "n_seeds": 0},
                       init=False, repr=False, compare=False)

    @classmethod
    def from_parameters(cls, name: str, parameters: dict, *, device=None, **shown) -> Chapter:
        """The chapter of a notebook, from its parameters (its ``globals()``).

        Reads the runner's parameters (:data:`RUNNER_PARAMETERS`, their defaults where a
        notebook runs by hand), writes the provenance record of ``parameters["seeds"]``
        on ``device`` (default: this machine's), with ``shown`` as extra rows (the MI estimator is
        added when the notebook has a ``mi_method``), and sets the book's figure style.
        Every parameter that is a number, a string or a list of them is glued as
        ``<chapter>_<name>`` (a list as comma-separated text), so the prose can quote it.
        """
        runner = {key: parameters.get(key, default) for key, default in RUNNER_PARAMETERS.items()}
        chapter = cls(name, **runner)
        if "mi_method" in parameters:
            shown = {"MI estimator": parameters["mi_method"], **shown}
        chapter.provenance(parameters["seeds"], device or default_device(), **shown)
        plt.style.use(BOOK_STYLE)  # type legible at the page width
        chapter.glue(**{key: _as_text(value) for key, value in parameters.items()
                        if key not in IPYTHON_NAMES and not key.startswith("_") and key not in RUNNER_PARAMETERS
                        and _as_text(value) is not None})
        return chapter

    def sweep(self, fn, conditions: list[dict], seeds, settings: CellSettings, *, label: str | None = None,
              cache_name: str | None = None, seeds_per_task: int | None = None,
              required: bool = True, needs_gpu: bool = False) -> pd.DataFrame:
        """Run (or read) the cells of ``fn`` over conditions and seeds: :func:`cchlib.sweep.run_sweep`.

        ``cache_name`` shares another chapter's cache folder (for a sweep that chapter
        also runs with the same settings, so its cells are reused). ``seeds_per_task``
        trains that many seeds per batch (default: all of a condition's seeds at once);
        each finished batch is stored, so a long sweep killed midway resumes from it.

        ``required=False`` marks a sweep the chapter can be read without (a condition
        that needs a GPU, say). When the result store may not compute (the paper book)
        and lacks some of its cells, only the conditions it holds for every seed are
        returned (an empty frame if none), and the others are listed in
        :attr:`missing`, so the page shows what the store holds and says what it lacks,
        instead of the whole chapter falling back to a smaller parameter set.

        ``needs_gpu=True`` (implies ``required=False``) marks a sweep too long for a CPU
        (the paper's 100-epoch MNIST schedule): without a CUDA device it is never
        computed, even when the store may compute; what the store holds is shown and the
        rest is listed as missing.
        """
        if not isinstance(settings, CellSettings):
            raise TypeError(f"settings must be a CellSettings dataclass (e.g. the cell module's Settings), "
                            f"got {type(settings).__name__}")
        cache = self.cache_root if self.cache_root is not None else cache_dir("sweeps", cache_name or self.name)
        store = ResultStore.from_environment()  # one instance: the sweep reuses the cells read here
        held = [0] * len(conditions)
        if store is not None:
            held = self._note_store_use(store, fn, conditions, seeds, settings.as_dict())
        gpu_missing = needs_gpu and default_device().type != "cuda"
        if gpu_missing or (store is not None and store.only and not required):
            complete = [c for c, n in zip(conditions, held) if n == len(seeds)]
            self._missing.extend({"function": function_name(fn), "condition": c, "cells held": n, "cells": len(seeds),
                                  "needs GPU": needs_gpu} for c, n in zip(conditions, held) if n < len(seeds))
            self._write_store_use()
            if not complete:
                return pd.DataFrame()
            conditions = complete
        started = time.monotonic()
        rows = sweep.run_sweep(fn, conditions, seeds, settings.as_dict(), cache=cache, executor=self.executor,
                               executor_options=self.executor_options, label=label or self.name, store=store,
                               seeds_per_task=seeds_per_task)
        self._run["sweep_seconds"] += time.monotonic() - started
        return rows

    @property
    def missing(self) -> list[dict]:
        """The conditions of optional sweeps that the result store lacks (not computed in this run)."""
        return list(self._missing)

    def _note_store_use(self, store: ResultStore, fn, conditions, seeds, settings: dict) -> list[int]:
        """Count the sweep's cells the result store holds, for the page's banner; return them per condition."""
        name = function_name(fn)
        held = [sum(store.get(name, c, int(s), settings) is not None for s in seeds) for c in conditions]
        read, total = self._store_use.get(name, (0, 0))
        self._store_use[name] = (read + sum(held), total + len(conditions) * len(seeds))
        self._write_store_use()
        return held

    def _write_store_use(self) -> None:
        report.write_store_use(self._store_use, self.results_root, self.params_name, self.name, self._missing)

    def table(self, frame: pd.DataFrame, name: str) -> Path:
        """Write a result table as ``results/<params>/<chapter>/<name>.csv``."""
        return report.write_table(frame, self.results_root, self.params_name, self.name, name)

    def show(self, frame: pd.DataFrame, name: str, decimals: int = 4) -> None:
        """Write ``frame`` as table ``name`` (:meth:`table`) and display it, rounded to ``decimals``."""
        self.table(frame, name)
        display(frame.round(decimals).reset_index(drop=True))

    def glue(self, **values) -> None:
        """Glue values into the page's prose as ``<chapter>_<key>``; a figure is glued, then closed."""
        for key, value in values.items():
            glue(f"{self.name}_{key}", value, display=False)
            if isinstance(value, Figure):
                plt.close(value)

    def scorecard(self, conditions: pd.DataFrame, data: str | None = None, *, mi: tuple[str, dict] | None = None,
                  bias_repeats: int = 3) -> pd.DataFrame:
        """Compute, write and return the chapter's scorecard rows (:func:`cchlib.report.scorecard_rows`).

        ``mi = (method, options)``: the chapter's estimator. With it, and the shape columns
        ``mi_n, d_t, d_s, y_classes`` in ``conditions``, the gap is also corrected for the
        estimator's bias at those shapes (:meth:`bias_corrected`).
        """
        if mi is not None:
            conditions = self.bias_corrected(conditions, *mi, repeats=bias_repeats)
        return report.write_scorecard_rows(conditions, self.results_root, self.params_name, self.name, data)

    def bias_corrected(self, conditions: pd.DataFrame, method: str, options: dict, repeats: int = 3) -> pd.DataFrame:
        """Measure the estimator's bias at the conditions' shapes and add the corrected gap.

        The calibration is a sweep of :func:`cchlib.mi.bias.run_cell` (cached, and stored
        at ``paper``), one cell per (term, shape, dependence level), ``repeats`` samples
        each; its curves are written as ``bias_curves.csv``. See :mod:`cchlib.mi.bias`.
        """
        missing = set(bias.SHAPE_COLUMNS) - set(conditions.columns)
        if missing:
            raise ValueError(f"the bias correction needs the shape columns {list(bias.SHAPE_COLUMNS)}; "
                             f"missing {sorted(missing)}")
        shapes = conditions[list(bias.SHAPE_COLUMNS)].drop_duplicates().astype(int).itertuples(index=False)
        cells = list({str(c): c for shape in shapes for c in bias.term_conditions(*shape)}.values())
        rows = self.sweep(bias.run_cell, cells, list(range(repeats)), bias.Settings(method, dict(options)),
                          label=f"{self.name}: estimator bias", cache_name="mi_bias")
        curve_table = bias.curves(rows)
        self.table(curve_table, "bias_curves")
        return bias.corrected_gap(conditions, curve_table)

    def criteria(self, per_seed: pd.DataFrame, by, condition=None, estimator: str = "") -> pd.DataFrame:
        """Write and return the criteria chapter's rows (:func:`cchlib.criteria.write_criteria_rows`)."""
        return criteria.write_criteria_rows(per_seed, by, self.results_root, self.params_name, self.name,
                                            condition=condition, estimator=estimator)

    def conclude(self, conditions: pd.DataFrame, per_seed: pd.DataFrame | None, *, claim: str, what: str,
                 mi: tuple[str, dict], by=(), condition=None, data: str | None = None, **columns) -> pd.DataFrame:
        """Close the chapter: its scorecard and criteria rows, the findings box and the run time.

        Args:
            conditions: one row per condition, means and SEs over seeds
                (:func:`cchlib.stats.summarise_seeds` of :func:`cchlib.stats.outcomes`).
            per_seed: the per-seed rows behind the criteria rows (with ``kd_gain``); None
                for a chapter that writes none (its outcomes are not :mod:`cchlib.kd`'s).
            by: the columns naming a condition in ``per_seed``.
            condition: the label of a condition: a format string over its columns
                (``"sigma12={sigma12:g}"``) or a function of a row (a dict); it names
                the criteria rows, and the scorecard rows unless ``conditions`` has a
                ``condition`` column already (then it may be left out when
                ``per_seed`` is None).
            claim, what: the paper's claim, and what the conditions are, for the box
                (:func:`cchlib.findings.cch_finding`).
            mi: the chapter's estimator ``(method, options)``, for the bias correction.
            data: the dataset actually used (or a ``data`` column).
            columns: further scorecard columns: ``independent_data`` and the shapes
                ``mi_n, d_t, d_s, y_classes`` at which the estimator's bias is measured.

        Glues ``<chapter>_finding``, ``_agree_share``, ``_conditions``, ``_sweep_seconds``
        and ``_total_seconds``; returns the scorecard rows.
        """
        if condition is None and ("condition" not in conditions or per_seed is not None):
            raise ValueError("name the conditions: pass condition=... (a format string or a function of a row)")
        label = condition if callable(condition) or condition is None else (lambda row: condition.format(**row))
        if "condition" not in conditions:
            conditions = conditions.assign(condition=[label(row) for row in conditions.to_dict("records")])
        score = self.scorecard(conditions.assign(**columns), data, mi=mi)
        if per_seed is not None:
            self.criteria(per_seed, by, condition=lambda row: label(dict(row)), estimator=mi[0])
        self.glue(finding=Markdown(cch_finding(claim, score, self._run["n_seeds"], self.params_name, what)),
                  agree_share=float(score.agrees.mean()), conditions=len(score))
        self.glue_run_time()
        return score

    def glue_run_time(self) -> None:
        """Glue ``<chapter>_sweep_seconds`` (time in sweeps) and ``_total_seconds`` (since the chapter began)."""
        self.glue(sweep_seconds=self._run["sweep_seconds"], total_seconds=time.monotonic() - self._run["started"])

    def provenance(self, seeds, device, **extra) -> dict:
        """Write and return the chapter's provenance record (:func:`cchlib.provenance.chapter_record`)."""
        record = chapter_record(self.params_name, seeds, device, os.environ.get(STORE_ENV), **extra)
        report.write_provenance(record, self.results_root, self.params_name, self.name)
        self._run.update(record=record, n_seeds=len(seeds))
        return record

    def provenance_table(self) -> Markdown:
        """The provenance record as the page's table (:func:`cchlib.report.provenance_markdown`)."""
        return Markdown(report.provenance_markdown(self._run["record"]))

    @property
    def results_dir(self) -> Path:
        """The chapter's results folder for this parameter set."""
        return results_dir(self.results_root, self.params_name, self.name)


IPYTHON_NAMES = ("In", "Out")  # IPython's input and output history: in a kernel's globals, never parameters


def _as_text(value):
    """A parameter as the prose quotes it: a number or string as it is, a list as "a, b"; else None."""
    scalar = (int, float, str)
    if isinstance(value, scalar):
        return value
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, scalar) for v in value):
        return ", ".join(str(v) for v in value)
    return None
