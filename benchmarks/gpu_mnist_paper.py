"""The prepared GPU run (issue 21): the smoke book on CUDA, then MNIST -> MNIST-M at the paper's scale.

    python benchmarks/gpu_mnist_paper.py --dry-run          # any machine: the plan and a cost estimate
    python benchmarks/gpu_mnist_paper.py --out OUT          # a CUDA machine: run it, keep the cells

What a real run does, in order, each stage timed:

1. ``smoke``: the whole book's ``smoke`` set with ``CCH_DEVICE=cuda``, so every
   network and every neural MI estimator must run on CUDA (the device helper raises
   when CUDA was asked for and is missing) and each stage's device is appended to
   ``OUT/devices.jsonl`` (``CCH_DEVICE_LOG``): no silent CPU fallback.
2. ``mnist-paper``: the MNIST chapter with the ``paper`` parameter set (all 60,000 /
   10,000 images, five seeds). Its main schedule (Adam, 5 epochs, T = 1..4) is computed
   on a CPU and committed to the store; what needs the GPU is the second schedule, the
   paper's plain SGD at 0.002 for 100 epochs (``alt_needs_gpu``). Its sweep cells
   written under ``OUT/cells`` (``CCH_CACHE_DIR``) so they can be committed to the
   result store, and packed into ``OUT/mnist_paper_cells.tar.gz``.
3. ``OUT/run.json``: device name, library versions, code version and the wall time of
   each stage; ``OUT/log.txt`` the runner's output.

``--dry-run`` prints the plan and times the MNIST chapter on this machine with the
``paper`` settings scaled down (one epoch, one seed, ``--dry-images`` and four times as
many training images), then extrapolates the marginal cost per image x epoch x seed, the
terms that dominate the training cost. It is an order of magnitude for planning a GPU
lease, not a prediction of GPU speed.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import papermill
import yaml

ROOT = Path(__file__).resolve().parents[1]
MNIST_TRAIN, MNIST_TEST = 60_000, 10_000


NOTEBOOK = ROOT / "notebooks" / "mnist.ipynb"


def paper_settings() -> dict:
    """The MNIST chapter's ``paper`` values over the defaults of the notebook's ``parameters`` cell."""
    defaults = {}
    for name, spec in papermill.inspect_notebook(str(NOTEBOOK)).items():
        try:
            defaults[name] = ast.literal_eval(spec["default"])
        except (ValueError, SyntaxError):
            continue  # an expression, not a literal: not needed for the plan
    return {**defaults, **yaml.safe_load((ROOT / "notebooks/params/paper/mnist.yml").read_text())}


def training_scale(settings: dict) -> float:
    """images x epochs x seeds of a run with these settings (the training cost's main terms).

    Both schedules count: on a GPU machine whose store lacks the main schedule's cells,
    the run trains them too.
    """
    images = settings["n_train"] or MNIST_TRAIN
    epochs = settings["schedule"]["epochs"] + settings["alt_schedule"]["epochs"]
    return float(images) * epochs * len(settings["seeds"])


def run_stage(name: str, command: list[str], env: dict, log) -> float:
    """Run one stage, stream its output into ``log``, return its wall time; stop on failure."""
    print(f"== {name}: {' '.join(command)}", flush=True)
    start = time.monotonic()
    completed = subprocess.run(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    seconds = time.monotonic() - start
    print(f"   {name}: exit {completed.returncode} after {seconds:.0f} s", flush=True)
    if completed.returncode != 0:
        sys.exit(f"stage {name} failed (exit {completed.returncode}); see the log")
    return seconds


def book_command(params: str, *extra: str, results: Path) -> list[str]:
    return [sys.executable, "-m", "cchlib.book", "--params", params, "--no-build",
            "--results-root", str(results), *extra]


def time_scaled(out: Path, settings: dict, images: int) -> tuple[float, float]:
    """Wall seconds of the MNIST chapter at the paper's settings cut to ``images`` images, 1 epoch, 1 seed."""
    scaled = dict(seeds=[0], n_train=images, n_test=1000, mi_samples=300, mi_samples_alt=300,
                  schedule={**settings["schedule"], "epochs": 1},
                  alt_schedule={**settings["alt_schedule"], "epochs": 1})
    paper_yaml = yaml.safe_load((ROOT / "notebooks/params/paper/mnist.yml").read_text())
    parameters = {**paper_yaml, **scaled, "params_name": "dryrun", "results_root": str(out / "dry_results"),
                  "cache_root": str(out / f"dry_cache_{images}")}
    print(f"timing the chapter with {scaled} ...", flush=True)
    start = time.monotonic()
    papermill.execute_notebook(str(NOTEBOOK), str(out / f"mnist_dry_{images}.ipynb"), parameters=parameters,
                               cwd=str(NOTEBOOK.parent), progress_bar=False, kernel_name="python3")
    return time.monotonic() - start, training_scale({**settings, **scaled})


def dry_run(out: Path, images: int) -> None:
    """Print the plan and extrapolate the MNIST paper run's cost from two short timed runs here.

    The two runs differ only in their number of training images, so the difference of their
    times is the marginal cost of training (per image, epoch and seed); the fixed costs (start-up,
    data, MI on a fixed sample) cancel. The paper run is then the small run plus that marginal
    cost times the rest of its images x epochs x seeds.
    """
    settings = paper_settings()
    print("plan: 1) smoke book on CUDA with device checks; 2) MNIST paper set; 3) pack cells")
    print(f"MNIST paper set: seeds {settings['seeds']}, temperatures {settings['temperatures']}, "
          f"blur levels {settings['gammas']}, {settings['schedule']['name']}, "
          f"{settings['n_train'] or MNIST_TRAIN} training images, MI by {settings['mi_method']} "
          f"on {settings['mi_samples'] or MNIST_TEST} test images")
    (t_small, s_small), (t_large, s_large) = (time_scaled(out, settings, n) for n in (images, 4 * images))
    per_unit = max(t_large - t_small, 0.0) / (s_large - s_small)
    hours = (t_small + per_unit * (training_scale(settings) - s_small)) / 3600
    print(f"timed on {platform.processor() or platform.machine()}: {t_small:.0f} s with {images} images, "
          f"{t_large:.0f} s with {4 * images} (1 epoch, 1 seed); marginal {per_unit * 1e3:.3f} ms per "
          f"image x epoch x seed -> about {hours:,.1f} CPU-hours for the paper set on this machine "
          "(MI on the whole test set and the second schedule are not scaled: a lower bound for them)")


def real_run(out: Path) -> None:
    import torch

    if not torch.cuda.is_available():
        sys.exit("no CUDA device: this script's real run is for a GPU machine (use --dry-run here)")
    cells = out / "cells"
    env = {**os.environ, "CCH_DEVICE": "cuda", "CCH_DEVICE_LOG": str(out / "devices.jsonl"),
           "PYTHONUNBUFFERED": "1"}
    times = {}
    with open(out / "log.txt", "w") as log:
        times["smoke"] = run_stage("smoke", book_command("smoke", results=out / "smoke_results"),
                                   {**env, "CCH_CACHE_DIR": str(out / "smoke_cache")}, log)
        times["mnist-paper"] = run_stage("mnist-paper", book_command("paper", "--only", "mnist", results=out / "results"),
                                         {**env, "CCH_CACHE_DIR": str(cells)}, log)
    with tarfile.open(out / "mnist_paper_cells.tar.gz", "w:gz") as tar:
        tar.add(cells, arcname="cells")
    from cchlib.provenance import run_record

    record = {**run_record(torch.device("cuda")), "stage_seconds": times}
    (out / "run.json").write_text(json.dumps(record, indent=2, default=str))
    print(json.dumps(times))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="print the plan and a CPU cost estimate; train nothing big")
    parser.add_argument("--dry-images", type=int, default=1000, help="training images of the timed dry run")
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "gpu_run")), help="output folder")
    args = parser.parse_args(argv)
    args.out = args.out.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    dry_run(args.out, args.dry_images) if args.dry_run else real_run(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
