"""Wall time of the synthetic chapter's sweep: in-process vs Dask with 1 and 2 workers.

    python benchmarks/sweep_scaling.py            # the `default` parameter set's sweep
    python benchmarks/sweep_scaling.py --quick    # a small sweep, for a first look

Each run starts from an empty cache, so every cell is computed. Prints wall time and
cells per second for each executor. A benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import jupytext
import yaml

from cchlib import sweep
from cchlib.experiments.synthetic import run_cell


def default_settings() -> tuple[list[dict], list[int], dict]:
    """Conditions, seeds and settings of the synthetic notebook's parameters cell."""
    notebook = jupytext.read("notebooks/synthetic.py")
    cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    values: dict = {}
    exec(cell.source, {}, values)  # the parameters cell is plain assignments
    settings = {k: values[k] for k in ("sigma13", "sigma23", "n_train", "n_test", "p", "hidden", "epochs",
                                       "lr", "batch_size", "mi_method", "mi_options")}
    settings["lams"] = sorted({values["lam_fig1"], *values["lams_fig4"]})
    conditions = [{"sigma12": float(s)} for s in values["sigma12_grid"]]
    return conditions, values["seeds"], settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 conditions, 2 seeds, 10 epochs, KSG")
    args = parser.parse_args()
    conditions, seeds, settings = default_settings()
    if args.quick:
        conditions, seeds = conditions[::3], seeds[:2]
        settings.update(epochs=10, mi_method="ksg")
    n_cells = len(conditions) * len(seeds)
    print(f"{n_cells} cells ({len(conditions)} conditions x {len(seeds)} seeds); settings: {yaml.safe_dump(settings, default_flow_style=True).strip()}")
    runs = [("local", {}, None), ("dask, 1 worker", {"workers": 1}, 1), ("dask, 2 workers", {"workers": 2}, 1)]
    for name, options, per_task in runs:
        with tempfile.TemporaryDirectory() as cache:
            start = time.perf_counter()
            sweep.run_sweep(run_cell, conditions, seeds, settings, cache=cache,
                            executor="local" if not options else "dask", executor_options=options,
                            seeds_per_task=per_task, progress=False)
            wall = time.perf_counter() - start
        print(f"{name:>16}: {wall:7.1f} s wall, {n_cells / wall:.3f} cells/s")


if __name__ == "__main__":
    main()
