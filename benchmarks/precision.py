"""Training throughput of the MNIST chapter's networks on this CPU: float32 against bfloat16.

One training step (forward, backward, Adam) of the Table 11 network (input -> 1024 ->
256 -> 10, LeakyReLU; the student reads 3 x 28 x 28 = 2352 inputs, the teacher 784) for a
stack of ``M`` copies (the MNIST chapter trains 1 baseline and 20 distilled students per
seed as one stack), in four layouts:

* ``stack``: :class:`cchlib.models.StackedMLP`, one ``baddbmm`` per layer for all copies;
* ``stack-bf16``: the same under ``torch.autocast(dtype=torch.bfloat16)`` (float32
  master weights, products in bfloat16 where the CPU has AVX-512 BF16 / AMX);
* ``per-copy`` and ``per-copy-bf16``: :class:`cchlib.models.PerCopyMLP` (what
  :func:`cchlib.models.image_mlp` builds), each copy's layer its own parameter and its
  own ``addmm``, in float32 and under the same autocast;
* ``per-copy-fused`` and ``per-copy-fused-bf16``: the same with Adam's fused kernel
  (``fused=True``: one pass over each parameter per step; the per-tensor Adam was half
  of a full-data MNIST step).

Prints and writes ``benchmarks/measured/precision_<host>.csv``: images per second per
network (copies x batch rows / step time), median of ``--steps`` timed steps after
``--warmup``. Run it on an idle machine; torch uses all cores unless ``--threads``.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from cchlib.models.mlp import IMAGE_HIDDEN, PerCopyMLP, StackedMLP

OUT = Path(__file__).parent / "measured"


def step_time(layout: str, copies: int, d_in: int, batch: int, steps: int, warmup: int) -> float:
    """Median seconds of one training step of ``copies`` networks on one mini-batch each."""
    torch.manual_seed(0)
    x = torch.randn(copies, batch, d_in)
    y = torch.randint(0, 10, (copies, batch))
    kind = PerCopyMLP if layout.startswith("per-copy") else StackedMLP
    model = kind(range(copies), d_in, IMAGE_HIDDEN, 10, role="s", activation="leaky_relu")
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3, **({"fused": True} if "fused" in layout else {}))
    bf16 = layout.endswith("bf16")

    times = []
    for i in range(warmup + steps):
        start = time.perf_counter()
        optimiser.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = model(x)
        loss = F.cross_entropy(out.float().reshape(-1, 10), y.reshape(-1))
        loss.backward()
        optimiser.step()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return float(np.median(times))


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--copies", type=int, default=21, help="networks per stack (MNIST: 1 baseline + 20 distilled)")
    p.add_argument("--batch", type=int, default=64, help="mini-batch rows per copy (the paper set's 64)")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--threads", type=int, help="torch threads (default: torch's own)")
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = []
    for d_in, who in ((2352, "student"), (784, "teacher")):
        for layout in ("stack", "stack-bf16", "per-copy", "per-copy-bf16", "per-copy-fused", "per-copy-fused-bf16"):
            seconds = step_time(layout, args.copies, d_in, args.batch, args.steps, args.warmup)
            rows.append({"network": who, "d_in": d_in, "layout": layout, "copies": args.copies, "batch": args.batch,
                         "step_s": seconds, "images_per_s_per_network": args.batch / seconds,
                         "threads": torch.get_num_threads(), "torch": torch.__version__})
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    OUT.mkdir(exist_ok=True)
    path = OUT / f"precision_{platform.node() or 'host'}.csv"
    table.to_csv(path, index=False)
    print(table.round(2).to_string(index=False))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
