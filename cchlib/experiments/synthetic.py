"""Sec. 4.1 / App. B: teacher on X1, students on X2, with and without distillation.

For one value of sigma12 and a batch of seeds, :func:`run_cell` draws each seed's data,
trains the teachers (one per seed) and, as one stack, the baseline student (lambda = 0)
and the distilled students (one per lambda) of every seed, then estimates
I(H1; H2), I(H2; Y) and I(H1; Y) on the held-out split.

The student representation H2 is the *baseline* (non-distilled) student's hidden layer:
CCH is meant as an a-priori criterion, to be checked before deciding to distil, and
the distilled student's representation would already carry the teacher's influence.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from cchlib import criteria, kd
from cchlib.mi import CheckedMI
from cchlib.data.synthetic import make_synthetic
from cchlib.models import synthetic_mlp


@dataclass(frozen=True)
class Settings(CheckedMI):
    """The settings of :func:`run_cell` (App. B's data, Table 9's networks, the training, the MI)."""

    sigma13: float  # teacher-label correlation
    sigma23: float  # student-label correlation
    n_train: int
    n_test: int  # held-out samples: test error and MI are measured on them
    p: int  # dimension of each modality
    hidden: int  # hidden units of teacher and student
    lams: list[float]  # distillation weights, one distilled student each (0 is the baseline, always trained)
    epochs: int
    lr: float
    batch_size: int
    mi_method: str
    mi_options: dict


def _net(role: str, p: int, hidden: int):
    """Table 9 for :func:`cchlib.kd.run`: ``net(seeds, d_in, n_out)``."""
    return lambda seeds, d_in, n_out: synthetic_mlp(seeds, role, p, hidden)


def run_cell(condition: dict, seeds: list[int], settings: dict) -> dict[int, list[dict]]:
    """Train and evaluate one sigma12 condition for a batch of seeds (:func:`cchlib.kd.run`).

    ``condition`` holds ``sigma12``; ``settings`` is a :class:`Settings` as a dict.
    Returns, per seed, one row per lambda.
    """
    s = Settings.from_dict(settings)
    make = partial(make_synthetic, condition["sigma12"], s.sigma13, s.sigma23, s.n_train, s.n_test, s.p)
    lams = [float(lam) for lam in s.lams]
    results = kd.run(
        [kd.seed_data(make(seed), "x1", "x2") for seed in seeds], seeds,
        teacher_net=_net("teacher", s.p, s.hidden), student_net=_net("student", s.p, s.hidden),
        variants=[kd.Variant(lam=lam) for lam in lams],
        schedule=kd.Schedule(epochs=s.epochs, lr=s.lr, batch_size=s.batch_size),
        mi_spec=kd.MISpec(s.mi_method, s.mi_options, null=True), task="regression",
    )
    columns = ["mse_kd", "mse_nokd", "teacher_mse", "mi_ts", "mi_sl", "mi_tl", *kd.NULL_COLUMNS]
    return {
        seed: [{"sigma12": condition["sigma12"], "lam": lams[r["variant"]], "seed": seed, **{c: r[c] for c in columns},
                **criteria.columns_of(r)}
               for r in rows]
        for seed, rows in results.items()
    }
