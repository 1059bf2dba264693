"""Speed and accuracy of cchlib's own LMI against the reference latentmi package.

Part 1 (speed): cchlib ``method="lmi"`` and reference ``method="latentmi"``,
both at their defaults, on identical data:

* 64-d vs 64-d jointly Gaussian, four shared factors (canonical correlation
  0.8) embedded with orthonormal rows plus ambient noise (exact MI known);
* 64-d vs 10 class labels, a 10-cluster Gaussian mixture in 4 of the 64
  coordinates (MI known by Monte Carlo over the exact posterior).

It prints wall time and process CPU time of each, their ratio, both
estimates and the truth.  The machine may be shared: CPU time is less
sensitive to other load than wall time, and both are printed.

Part 1b (implementation only): the same comparison at identical architecture
(1024/512/256 hidden widths) and training settings (lr 1e-4, batch 512), for a
fixed number of epochs without early stopping, so that only the
implementation differs (tensor indexing and stacked weights vs a DataLoader
over per-sample tuples).

Part 2 (known-MI suite): bias and seed spread of the chosen methods on cases
with known MI, including one with many unshared noise dimensions (4 shared
factors at 0.8 plus 28 noise factors per 32-d side: 2.04 nats).

Usage:  python benchmarks/mi_speed.py [--quick] [--suite-methods lmi,ksg,mine,latentmi]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from cchlib import mi
from cchlib.mi import known


def speed_cases(n: int) -> dict[str, known.KnownMI]:
    """The two speed-comparison data sets of n samples."""
    return {
        "gauss 64d vs 64d, 4 factors": known.gaussian_pair(n, rho=[0.8] * 4, dim=64, ambient_noise=0.1, seed=0),
        "64d vs 10 classes": known.gaussian_mixture_labels(n, n_classes=10, signal_dims=4, dim=64,
                                                           separation=1.5, seed=0),
    }


def suite_cases(n: int) -> dict[str, known.KnownMI]:
    """Known-MI cases for the bias / spread suite."""
    return {
        "1d vs 1d, rho 0.8": known.gaussian_pair(n, rho=[0.8], seed=1),
        "64d vs 64d, 2 factors rho 0.9": known.gaussian_pair(n, rho=[0.9] * 2, dim=64, ambient_noise=0.1, seed=2),
        "32d vs 32d, 4 factors + 28 noise": known.gaussian_pair(n, rho=[0.8] * 4, dim=32, noise_dims=28, seed=3),
        "2-cluster 1d vs labels": known.gaussian_mixture_labels(n, 2, 1, separation=4.0, seed=4),
        "64d vs 10 classes": known.gaussian_mixture_labels(n, 10, 4, dim=64, separation=1.5, seed=5),
    }


def timed(x, y, method: str, seed: int = 0, **options) -> tuple[float, float, float]:
    """(estimate, wall seconds, process CPU seconds) of one estimate (default options unless given)."""
    wall, cpu = time.perf_counter(), time.process_time()
    value = mi.estimate(x, y, method=method, seed=seed, **options)
    return value, time.perf_counter() - wall, time.process_time() - cpu


def run_speed(n: int) -> None:
    """Part 1: cchlib lmi vs reference latentmi at defaults, on identical data."""
    print(f"\n== speed at defaults, n={n} (torch threads: {torch.get_num_threads()}) ==")
    print(f"{'case':32s} {'truth':>6s} | {'lmi':>6s} {'wall s':>7s} {'cpu s':>7s} | "
          f"{'latentmi':>8s} {'wall s':>7s} {'cpu s':>7s} | {'wall x':>6s} {'cpu x':>6s}")
    for name, data in speed_cases(n).items():
        ours = timed(data.x, data.y, "lmi")
        ref = timed(data.x, data.y, "latentmi")
        print(f"{name:32s} {data.mi:6.3f} | {ours[0]:6.3f} {ours[1]:7.1f} {ours[2]:7.1f} | "
              f"{ref[0]:8.3f} {ref[1]:7.1f} {ref[2]:7.1f} | {ref[1] / ours[1]:6.1f} {ref[2] / ours[2]:6.1f}",
              flush=True)


def run_same_settings(n: int, epochs: int) -> None:
    """Part 1b: identical architecture and training settings, ``epochs`` epochs each, no early stopping."""
    print(f"\n== identical settings (1024/512/256, lr 1e-4, batch 512), {epochs} epochs, n={n} ==")
    print(f"{'case':32s} | {'lmi wall s':>10s} {'cpu s':>7s} | {'latentmi wall s':>15s} {'cpu s':>7s} | {'wall x':>6s}")
    same = dict(lr=1e-4, batch_size=512, epochs=epochs, patience=epochs + 1)
    for name, data in speed_cases(n).items():
        ours = timed(data.x, data.y, "lmi", hidden=(1024, 512, 256), min_delta=0.0, **same)
        ref = timed(data.x, data.y, "latentmi", **same)
        print(f"{name:32s} | {ours[1]:10.1f} {ours[2]:7.1f} | {ref[1]:15.1f} {ref[2]:7.1f} | {ref[1] / ours[1]:6.2f}",
              flush=True)


def run_suite(n: int, seeds: int, methods: list[str]) -> None:
    """Part 2: mean, bias, seed SD and mean wall time per method and known-MI case."""
    print(f"\n== known-MI suite, n={n}, seeds 0..{seeds - 1} ==")
    print(f"{'case':34s} {'method':9s} {'truth':>6s} {'mean':>6s} {'bias':>7s} {'seed sd':>7s} {'wall s':>7s}")
    for name, data in suite_cases(n).items():
        for method in methods:
            runs = [timed(data.x, data.y, method, seed) for seed in range(seeds)]
            values = np.array([r[0] for r in runs])
            print(f"{name:34s} {method:9s} {data.mi:6.3f} {values.mean():6.3f} {values.mean() - data.mi:+7.3f} "
                  f"{values.std(ddof=1) if seeds > 1 else float('nan'):7.3f} {np.mean([r[1] for r in runs]):7.1f}",
                  flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="n=2000 and 2 seeds instead of 10,000 / 5,000 and 3")
    parser.add_argument("--suite-methods", default="lmi,latentmi", help="comma-separated methods for part 2")
    parser.add_argument("--skip-speed", action="store_true", help="run only the known-MI suite")
    parser.add_argument("--skip-suite", action="store_true", help="run only the speed comparison")
    parser.add_argument("--same-epochs", type=int, default=5, help="epochs of the identical-settings run (0: skip)")
    args = parser.parse_args()
    speed_n, suite_n, seeds = (2000, 2000, 2) if args.quick else (10_000, 5000, 3)
    if not args.skip_speed:
        run_speed(speed_n)
        if args.same_epochs:
            run_same_settings(speed_n, args.same_epochs)
    if not args.skip_suite:
        run_suite(suite_n, seeds, args.suite_methods.split(","))


if __name__ == "__main__":
    main()
