"""Does bfloat16 training change the MNIST chapter's numbers? float32 against bfloat16 at ``default``.

Runs the MNIST chapter's main condition (Algorithm 1, every blur gamma and temperature
of the ``default`` set, the same seeds) twice through :func:`cchlib.experiments.mnist.run_cell`:
once with ``precision="float32"`` and once with ``"bfloat16"`` (autocast on the forward
pass, float32 weights; :func:`cchlib.train.fit`). For each column the chapter reports
(student accuracies with and without KD, the KD gain, the teacher's accuracy, the three
MIs and the MI gap) it compares, per (gamma, T), the mean over seeds of bf16 minus
float32 with the seed-to-seed standard error of the float32 run, and prints the share
of (gamma, T) cells where the move is smaller than that SE. Also times both runs.

Writes ``benchmarks/measured/precision_accuracy_<host>.csv`` (one row per column) and
``..._rows.csv`` (every row of both runs). Run it alone on an idle machine: about
ten minutes on 2 CPU cores.

    .venv/bin/python benchmarks/precision_accuracy.py
"""

from __future__ import annotations

import argparse
import ast
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import papermill

from cchlib.experiments import mnist

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(__file__).parent / "measured"
COLUMNS = ["acc_nokd", "acc_kd", "kd_gain", "teacher_acc", "mi_ts", "mi_sl", "mi_tl", "mi_gap"]


def default_parameters() -> dict:
    """The MNIST notebook's ``parameters`` cell (its ``default`` set)."""
    spec = papermill.inspect_notebook(str(ROOT / "notebooks" / "mnist.ipynb"))
    return {name: ast.literal_eval(p["default"]) for name, p in spec.items()}


def run(p: dict, precision: str) -> tuple[pd.DataFrame, float]:
    """The main condition's rows at ``precision``, and the wall seconds they took."""
    settings = mnist.Settings(
        gammas=p["gammas"], lam=p["lam"], batch_size=p["batch_size"], n_train=p["n_train"], n_test=p["n_test"],
        student_channels=p["student_channels"], recipe=p["recipe"], mnistm_seed=p["mnistm_seed"],
        threshold=p["threshold"], mi_method=p["mi_method"], mi_options=p["mi_options"], mi_samples=p["mi_samples"],
        precision=precision, mnist_path=p["mnist_path"], bsds_path=p["bsds_path"])
    s = p["schedule"]
    condition = {"alpha": p["alpha"], "schedule": s["name"], "optimiser": s["optimiser"], "lr": s["lr"],
                 "epochs": s["epochs"], "temperatures": p["temperatures"], "mi_alt": False}
    start = time.monotonic()
    cells = mnist.run_cell(condition, p["seeds"], settings.as_dict())
    seconds = time.monotonic() - start
    rows = pd.DataFrame([row for seed in p["seeds"] for row in cells[seed]])
    return rows.assign(kd_gain=rows.acc_kd - rows.acc_nokd, mi_gap=rows.mi_ts - rows.mi_sl,
                       precision=precision), seconds


def compare(rows: pd.DataFrame) -> pd.DataFrame:
    """Per column: how far bf16's seed mean moved from float32's, against float32's seed-to-seed SE."""
    keys = ["gamma", "T"]
    out = []
    for column in COLUMNS:
        wide = rows.pivot_table(index=keys + ["seed"], columns="precision", values=column)
        moved = (wide["bfloat16"] - wide["float32"]).groupby(level=keys).mean().abs()
        se = wide["float32"].groupby(level=keys).agg(lambda v: v.std(ddof=1) / np.sqrt(len(v)))
        out.append({"column": column, "cells": len(moved), "median |bf16 - fp32|": moved.median(),
                    "max |bf16 - fp32|": moved.max(), "median fp32 seed SE": se.median(),
                    "cells moved less than their SE": int((moved < se).sum())})
    return pd.DataFrame(out)


def main(argv=None) -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    p = default_parameters()
    parts, seconds = [], {}
    for precision in ("float32", "bfloat16"):
        rows, seconds[precision] = run(p, precision)
        parts.append(rows)
        print(f"{precision}: {seconds[precision]:.0f} s", flush=True)
    rows = pd.concat(parts, ignore_index=True)
    table = compare(rows).assign(fp32_seconds=round(seconds["float32"]), bf16_seconds=round(seconds["bfloat16"]),
                                 seeds=len(p["seeds"]), n_train=p["n_train"])
    OUT.mkdir(exist_ok=True)
    host = platform.node() or "host"
    rows.to_csv(OUT / f"precision_accuracy_{host}_rows.csv", index=False)
    table.to_csv(OUT / f"precision_accuracy_{host}.csv", index=False)
    print(table.round(4).to_string(index=False))


if __name__ == "__main__":
    main()
