"""Teacher selection for your own modalities: the whole CCH workflow on any paired data.

Given paired samples of several modalities and labels, which modality should teach a
student on another one? The Cross-modal Complementarity Hypothesis answers before any
distillation: distil from teacher T into student S when the *MI gap*
``I(H_T; H_S) - I(H_S; Y)`` of their learned representations is positive. This module
runs that check end to end and, optionally, the distillation that confirms or refutes it:

1. :func:`load_paired` reads a dataset from disk (:func:`load_npz`, :func:`load_csv_dir`)
   or :func:`from_arrays` wraps in-memory arrays, as a
   :class:`~cchlib.data.paired.PairedDataset`, and :func:`check_workflow_input` rejects
   data the workflow cannot use, saying why;
2. :func:`select_teachers` trains one network per modality and seed (it is the teacher
   of the other modalities and the baseline student of its own), takes the hidden layer
   on the test split as the representation H, estimates I(H_T; H_S), I(H_S; Y) and
   I(H_T; Y) with standard errors (:func:`cchlib.mi.estimate_with_se`), ranks each
   student's candidate teachers by MI gap and, with ``kd_check=True``, trains
   distilled students (Eq. 2, or Eq. 4 for regression) to measure the actual gain;
3. :func:`rank` gives each row a verdict from :func:`cchlib.stats.verdicts`: *distil*
   or *do not distil* when the gap's sign is resolved over seeds and the gap differs from
   the estimator's null (the gap recomputed on permuted pairs, :func:`cchlib.stats.null_mis`,
   tested as :func:`cchlib.stats.excess_over_null` describes), *undecided* otherwise (and
   always with fewer than 3 seeds): more seeds or more samples are how to get a decision.

The networks are chosen per modality by name (:data:`MODEL_KINDS`): ``"mlp"`` for
tabular vectors (:class:`cchlib.models.StackedMLP`), ``"image"`` for images (the MNIST
chapter's Table 11 network on flattened pixels) and ``"sequence"`` for (time, feature)
sequences (the MOSEI chapter's Table 14 network after temporal mean-pooling); or pass a
factory ``factory(input_shape, n_out) -> torch.nn.Module`` of your own
(:mod:`cchlib.models.kinds`). :func:`plot_selection` (from :mod:`cchlib.figures`) draws a
selection.

The on-disk formats (``.npz``, or a folder of CSV files) and their readers are in
:mod:`cchlib.data.files`; they are re-exported here.

The command ``python -m cchlib.select --data FILE`` runs the workflow and prints and
writes the ranking; ``python -m cchlib.select --help`` lists its options.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cchlib import __version__, kd, mi, report, stats
from cchlib.io import atomic_write_text
from cchlib.criteria import CANDIDATES, columns_of
from cchlib.data.files import (  # noqa: F401  (the readers are part of this module's API)
    LABEL_KEY, check_workflow_input, encode_labels, from_arrays, load_csv_dir, load_npz, load_paired,
    make_demo_npz,
)
from cchlib.data.mosei import temporal_mean_pool
from cchlib.data.paired import PairedDataset
from cchlib.figures import plot_selection  # noqa: F401  (part of this module's API)
from cchlib.models.kinds import DEFAULT_HIDDEN, MODEL_KINDS, infer_kind, make_model  # noqa: F401  (idem)

# The demo data set: its 3-D "sequence" array needs its kind named (3-D is ambiguous).
DEMO_KINDS = {"sequence": "sequence"}
# Training seeds of a selection: a verdict needs at least 3 (cchlib.stats.MIN_SEEDS); 5 give it power.
DEFAULT_SEEDS = (0, 1, 2, 3, 4)
DEFAULT_OUT = "cch_selection"


# ---------------------------------------------------------------------------
# Model inputs (the networks by kind are cchlib.models.kinds)
# ---------------------------------------------------------------------------


def prepare_inputs(array: np.ndarray, kind, train_idx: np.ndarray) -> np.ndarray:
    """Model inputs for one modality: pooled (sequences) or flattened, standardised.

    Sequences are mean-pooled over time (Table 14's first step); built-in kinds get
    one feature vector per sample; a user's factory gets the array's own shape.
    Every feature is standardised with the training split's mean and deviation.
    """
    x = np.asarray(array, dtype=np.float64)
    if kind == "sequence":
        if x.ndim != 3:
            raise ValueError(f"a 'sequence' modality must be (n, time, features); got shape {x.shape}")
        x = temporal_mean_pool(x)
    elif kind in MODEL_KINDS:
        x = x.reshape(len(x), -1)
    sd = x[train_idx].std(axis=0)
    return ((x - x[train_idx].mean(axis=0)) / np.where(sd > 0, sd, 1.0)).astype(np.float32)


# ---------------------------------------------------------------------------
# The workflow
# ---------------------------------------------------------------------------


@dataclass
class Settings:
    """Training and distillation settings shared by every network of a selection run.

    ``hidden`` (a list of widths) replaces each built-in kind's default; ``lam`` and
    ``temperature`` are the distillation weight and temperature of Eq. (2) (regression
    uses Eq. 4, which has no temperature).
    """

    epochs: int = 30
    lr: float = 1e-3
    batch_size: int = 128
    hidden: list | None = None
    lam: float = 0.5
    temperature: float = 4.0


@dataclass
class Selection:
    """What :func:`select_teachers` found.

    ``ranking``: one row per (student, teacher) with the MIs, the MI gap and its SE, the
    rank among the student's candidates, CCH's verdict and, after a KD check, the
    measured gain. ``per_seed``: the same per training seed. ``baselines``: each
    modality's test score per seed (accuracy, or negative MSE for regression).
    """

    ranking: pd.DataFrame
    per_seed: pd.DataFrame
    baselines: pd.DataFrame
    task: str
    data: str
    options: dict = field(default_factory=dict)

    @classmethod
    def from_per_seed(cls, per_seed: pd.DataFrame, baselines: pd.DataFrame, task: str, data: str,
                      options: dict) -> "Selection":
        """The selection that per-seed rows give (ranking: :func:`rank` of :func:`summarise`)."""
        return cls(rank(summarise(per_seed)), per_seed, baselines, task, data, options)

    def scorecard_conditions(self) -> pd.DataFrame:
        """Rows for :func:`cchlib.report.write_scorecard_rows` (needs a KD check).

        With the run's shapes in ``options["shapes"]`` (:func:`mi_shapes`), the rows also
        carry the MIs and the shape columns of the estimator's bias calibration
        (:meth:`cchlib.chapter.Chapter.bias_corrected`). The seeds share one split.
        """
        if "kd_gain" not in self.ranking:
            raise ValueError("scorecard rows need the measured KD gain: run select_teachers(..., kd_check=True)")
        table = self.ranking.assign(condition=self.ranking.teacher + " -> " + self.ranking.student,
                                    independent_data=False)
        columns = ["condition", "n_seeds", "mi_ts", "mi_sl", "mi_gap", "mi_gap_se", "mi_gap_null", "mi_gap_null_se",
                   "mi_gap_excess", "mi_gap_excess_se", "kd_gain", "kd_gain_se", "independent_data"]
        shapes = self.options.get("shapes")
        if shapes and all(shapes["widths"].get(m) for m in set(table.teacher) | set(table.student)):
            table = table.assign(mi_n=shapes["mi_n"], d_t=table.teacher.map(shapes["widths"]),
                                 d_s=table.student.map(shapes["widths"]), y_classes=shapes["y_classes"])
            columns += ["mi_n", "d_t", "d_s", "y_classes"]
        return table[[c for c in columns if c in table]]


def mi_shapes(ds: PairedDataset, kinds: dict, hidden) -> dict:
    """What the MI estimates of a selection see: test rows, each representation's width, classes.

    The width is the last hidden layer of a built-in kind (None for a user's factory,
    whose width is not known in advance); ``y_classes`` is 0 for regression.
    """
    widths = {m: (list(hidden or DEFAULT_HIDDEN[k])[-1] if isinstance(k, str) else None) for m, k in kinds.items()}
    classes = int(len(np.unique(ds.labels))) if ds.task == "classification" else 0
    return {"mi_n": int(len(ds.test_idx)), "widths": widths, "y_classes": classes}


def _net(kind, input_shape: tuple, role: str, hidden):
    """``net(seeds, d_in, n_out)`` for :func:`cchlib.kd.run_pairs`: :func:`make_model` of one modality."""
    return lambda seeds, d_in, n_out: make_model(kind, seeds, input_shape, n_out, role, hidden)


def _score(task: str, scores: dict) -> np.ndarray:
    """Per-copy test score, higher is better: accuracy, or minus the MSE."""
    return scores["acc"] if task == "classification" else -scores["mse"]


def resolve_modalities(ds, students, teachers, kinds) -> tuple[list, list, dict]:
    """The students, the candidate teachers and every used modality's model kind (checked against the data)."""
    names = list(ds.modalities)
    students, teachers = list(students or names), list(teachers or names)
    unknown = sorted((set(students) | set(teachers) | set(kinds or {})) - set(names))
    if unknown:
        raise ValueError(f"unknown modalities {unknown}; the data holds {names}")
    kinds = {m: (kinds or {}).get(m) or infer_kind(ds.modalities[m]) for m in dict.fromkeys(students + teachers)}
    if not any(t != s for s in students for t in teachers):
        raise ValueError("no (teacher, student) pair of different modalities to compare")
    return students, teachers, kinds


def select_teachers(
    ds: PairedDataset,
    *,
    students=None,
    teachers=None,
    kinds: dict | None = None,
    seeds=DEFAULT_SEEDS,
    settings: Settings | None = None,
    mi_method: str = mi.DEFAULT_METHOD,
    mi_repeats: int = 3,
    mi_options: dict | None = None,
    kd_check: bool = False,
    criteria: bool = False,
    progress: bool = True,
) -> Selection:
    """Rank candidate teachers for each student modality by MI gap; optionally check by KD.

    Args:
        ds: the paired data (e.g. from :func:`load_paired`).
        students, teachers: modality names (default: every modality in both roles).
        kinds: modality -> model kind or factory (default: :func:`infer_kind`).
        seeds: training seeds; each gives every modality its own network.
        settings: training and distillation :class:`Settings`.
        mi_method, mi_options: the estimator of :func:`cchlib.mi.estimate`.
        mi_repeats: estimates per MI and seed (different estimator seeds), >= 2, whose
            spread gives the SE when only one training seed is used.
        kd_check: also train, per student, one distilled student per teacher and seed,
            and report the measured gain next to CCH's prediction.
        criteria: also report CCH's rival criteria per pair (:mod:`cchlib.criteria`:
            linear CKA, a probe of the teacher's outputs from the student's
            representation, prediction agreement, the teacher's score, the KSG gap),
            as ``crit_*`` and ``gap_ksg`` columns; the book's criteria chapter compares
            them as predictors of the KD gain.

    Every SE and interval is taken across training seeds (it includes both training
    and estimator variability); a verdict needs at least 3 seeds (5 by default). Per
    seed, the MIs are also estimated on permuted pairs (the estimator's null, same
    estimator and repeats), which the verdict needs.
    """
    check_workflow_input(ds)
    settings = settings or Settings()
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("give at least one training seed")
    students, teachers, kinds = resolve_modalities(ds, students, teachers, kinds)
    inputs = {m: prepare_inputs(ds.modalities[m], k, ds.train_idx) for m, k in kinds.items()}
    result = kd.run_pairs(
        {m: kd.SeedData([], inputs[m], ds.labels, ds.train_idx, ds.test_idx) for m in sorted(kinds)},
        {m: _net(kinds[m], inputs[m].shape[1:], f"select:{m}", settings.hidden) for m in kinds}, seeds,
        pairs=[(t, s) for s in students for t in teachers if t != s],
        schedule=kd.Schedule(epochs=settings.epochs, lr=settings.lr, batch_size=settings.batch_size),
        mi_spec=kd.MISpec(mi_method, mi_options or {}, null=True, repeats=mi_repeats),
        distil=kd.Variant(lam=settings.lam, temperature=settings.temperature) if kd_check else None,
        task=ds.task, progress=progress, diagnostics=criteria,
    )
    baselines = [{"modality": m, "kind": getattr(kinds[m], "__name__", kinds[m]), "seed": s, "score": float(v)}
                 for m in kinds for s, v in zip(seeds, _score(ds.task, result.scores[m]))]
    per_seed = _per_seed(result.rows, ds.task, kd_check)
    options = run_options(ds, kinds, seeds, settings, mi_method, mi_repeats)
    return Selection.from_per_seed(per_seed, pd.DataFrame(baselines), ds.task, ds.name, options)


def run_options(ds: PairedDataset, kinds: dict, seeds, settings: Settings, mi_method: str, mi_repeats: int) -> dict:
    """What a selection ran with (:attr:`Selection.options`): seeds, estimator, training, MI shapes."""
    return dict(seeds=list(seeds), mi_method=mi_method, mi_repeats=mi_repeats, **vars(settings),
                shapes=mi_shapes(ds, kinds, settings.hidden))


def _per_seed(rows: dict, task: str, kd_check: bool) -> pd.DataFrame:
    """Per (teacher, student, seed): I_TS, I_SL, I_TL with their SEs over estimator repeats,
    the gap, the estimator's null MIs on permuted pairs (:func:`cchlib.stats.permuted_mi`:
    what it reports at this size and these dimensions when the true MI is 0) and, after a
    KD check, the distilled student's score against its baseline's (a paired difference:
    same initialisation and batch order)."""
    out = []
    for r in (r for seed_rows in rows.values() for r in seed_rows):
        row = {k: r[k] for k in ("teacher", "student", "seed", "mi_ts", "mi_ts_se", "mi_sl", "mi_sl_se", "mi_tl", "mi_tl_se")}
        row.update(mi_gap=r["mi_ts"] - r["mi_sl"], mi_gap_se=math.hypot(r["mi_ts_se"], r["mi_sl_se"]),
                   mi_ts_null=r["mi_ts_null"], mi_sl_null=r["mi_sl_null"])
        row.update(columns_of(r))  # the criteria's candidates, when asked for
        if kd_check:
            name, sign = ("acc", 1.0) if task == "classification" else ("mse", -1.0)
            row.update(score_kd=sign * r[f"{name}_kd"], score_nokd=sign * r[f"{name}_nokd"])
            row["kd_gain"] = row["score_kd"] - row["score_nokd"]
        out.append(row)
    return pd.DataFrame(out)


SUMMARY_COLUMNS = ["mi_ts", "mi_sl", "mi_tl", "mi_gap", "mi_ts_null", "mi_sl_null", "mi_gap_null", "mi_gap_excess",
                   "score_kd", "score_nokd", "kd_gain", *(c for c in CANDIDATES if c.startswith(("crit_", "gap_")))]


def summarise(per_seed: pd.DataFrame) -> pd.DataFrame:
    """Mean, SE over training seeds and ``n_seeds`` per (student, teacher).

    The gap beyond the estimator's null (``mi_gap_excess``) is formed per seed first
    (:func:`cchlib.stats.gap_columns`), so its SE is that of a paired difference.
    """
    table = stats.summarise_seeds(stats.gap_columns(per_seed), ["student", "teacher"], SUMMARY_COLUMNS)
    return table


def rank(summary: pd.DataFrame) -> pd.DataFrame:
    """Rank each student's teachers by MI gap (1 = largest) and add the verdicts.

    The rule is :func:`cchlib.stats.verdicts` over all rows of the run (one family,
    Benjamini-Hochberg adjusted): ``verdict`` is exactly *distil*, *do not distil* or
    *undecided*; ``resolved`` says whether the gap's sign is resolved; ``mi_gap_low``,
    ``mi_gap_high`` is its 95% t-interval over seeds. With a KD check, ``kd_helped``
    and ``agrees`` compare the signs of the point estimates, and ``kd_verdict`` is
    *agrees*, *disagrees* or *unresolved* (both the gap and the gain resolved, or not).
    Undecided rows are kept; ``why_undecided`` says what is missing.
    """
    table = stats.verdicts(summary)
    table["rank"] = table.groupby("student")["mi_gap"].rank(ascending=False, method="min").astype(int)
    table["resolved"] = table.gap_resolved
    if "kd_gain" in table:
        table["kd_verdict"] = table.pop("verdict")
        table["agrees"] = table.kd_helped == table.cch_predicts_gain
    table["verdict"] = table.pop("select_verdict")
    table["why_undecided"] = [stats.why_unresolved(r) for _, r in table.iterrows()]
    return table.sort_values(["student", "rank", "teacher"]).reset_index(drop=True)


def format_ranking(ranking: pd.DataFrame) -> str:
    """The ranking as a plain-text table: MIs, the gap with its 95% interval, null gap, verdict,
    and the conditional information I(Y;H_T|H_S) when the criteria were computed.

    Every row is shown, undecided ones too, with the number of seeds behind it.
    """
    show = pd.DataFrame({
        "student": ranking.student, "rank": ranking["rank"], "teacher": ranking.teacher,
        "I(H_T;H_S)": _pm(ranking.mi_ts, ranking.mi_ts_se), "I(H_S;Y)": _pm(ranking.mi_sl, ranking.mi_sl_se),
        "MI gap [95% CI]": _ci(ranking.mi_gap, ranking.mi_gap_low, ranking.mi_gap_high),
        "null gap": _pm(ranking.get("mi_gap_null", np.nan), ranking.get("mi_gap_null_se", np.nan)),
        "seeds": ranking.n_seeds, "CCH verdict": ranking.verdict,
    })
    if "crit_cmi" in ranking:  # what the teacher adds about Y beyond the student (cchlib.mi.conditional)
        show.insert(show.columns.get_loc("null gap") + 1, "I(Y;H_T|H_S)",
                    _pm(ranking.crit_cmi, ranking.get("crit_cmi_se", np.nan)))
    if "kd_gain" in ranking:
        show["KD gain [95% CI]"] = _ci(ranking.kd_gain, ranking.kd_gain_low, ranking.kd_gain_high)
        show["KD check"] = ranking.kd_verdict
    return show.to_string(index=False)


def _pm(mean, se) -> list[str]:
    mean, se = np.broadcast_arrays(np.asarray(mean, float), np.asarray(se, float))
    return [f"{m:+.3f} ± {s:.3f}" if np.isfinite(s) else f"{m:+.3f}" for m, s in zip(mean, se)]


def _ci(mean, low, high) -> list[str]:
    return [f"{m:+.3f} [{lo:+.3f}, {hi:+.3f}]" if np.isfinite(lo) else f"{m:+.3f} [n/a]"
            for m, lo, hi in zip(mean, low, high)]


# ---------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------


def _parse_kinds(items) -> dict:
    kinds = {}
    for item in items or []:
        name, sep, kind = item.partition("=")
        if not sep or kind not in MODEL_KINDS:
            raise ValueError(f"--kind takes NAME=KIND with KIND one of {list(MODEL_KINDS)}; got {item!r}")
        kinds[name] = kind
    return kinds


def _int_at_least(minimum: int, why: str):
    """An argparse type: an integer >= ``minimum`` (the error names the option and why)."""
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum} ({why}), got {value}")
        return value
    parse.__name__ = "integer"
    return parse


def output_paths(out: str) -> tuple[Path, Path]:
    """The ranking files of ``--out``: ``PREFIX.csv`` and ``PREFIX.json``.

    The suffix is appended, never substituted (``--out run.v1`` writes ``run.v1.csv``);
    a folder (``--out results/``, or an existing folder) gets ``cch_selection.csv`` and
    ``cch_selection.json`` inside it.
    """
    path = Path(out)
    if out.endswith(("/", "\\")) or path.is_dir():
        path = path / DEFAULT_OUT
    return path.with_name(f"{path.name}.csv"), path.with_name(f"{path.name}.json")


def check_writable(paths) -> None:
    """Fail now, not after training, when the output files cannot be written."""
    for folder in sorted({Path(p).parent for p in paths}):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".cch_write_check"):
                pass
        except OSError as error:
            raise ValueError(f"--out: cannot write the results in {folder} ({error.strerror or error}); "
                             "choose another --out") from error
    for path in paths:
        if Path(path).is_dir():
            raise ValueError(f"--out: {path} is a folder; choose another --out")


def parser() -> argparse.ArgumentParser:
    """The command-line interface of ``python -m cchlib.select``."""
    p = argparse.ArgumentParser(
        prog="cch-select",
        description="Rank candidate teacher modalities for each student modality by the CCH MI gap "
                    "I(H_T;H_S) - I(H_S;Y), optionally checking the prediction by distillation.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s (cchlib) {__version__}")
    p.add_argument("--data", help="a .npz (one array per modality + labels) or a folder of CSV files")
    p.add_argument("--write-demo", metavar="FILE", help="write a small generated demo .npz to FILE and exit")
    p.add_argument("--label-key", default=LABEL_KEY, help=f"name of the labels, the npz array or labels.csv column (default: {LABEL_KEY})")
    p.add_argument("--id-column", default="sample_id", help="sample-id column of CSV files (default: sample_id)")
    p.add_argument("--task", default="auto", choices=["auto", "classification", "regression"],
                   help="auto: integer, boolean or string labels are classes, floats a regression target (default: auto)")
    p.add_argument("--students", nargs="+", help="student modalities (default: all)")
    p.add_argument("--teachers", nargs="+", help="candidate teacher modalities (default: all)")
    p.add_argument("--kind", action="append", metavar="NAME=KIND", help=f"model kind of a modality, {list(MODEL_KINDS)}")
    p.add_argument("--seeds", nargs="+", type=_int_at_least(0, "seeds are non-negative"), default=list(DEFAULT_SEEDS),
                   help="training seeds; a decision needs at least 3 (default: 0 1 2 3 4)")
    p.add_argument("--test-frac", type=float, default=0.3,
                   help="share of samples held out; MI and scores are measured there (default: 0.3)")
    p.add_argument("--epochs", type=_int_at_least(1, "training needs an epoch"), default=Settings.epochs,
                   help=f"training epochs of every network (default: {Settings.epochs})")
    p.add_argument("--lr", type=float, default=Settings.lr, help=f"Adam's learning rate (default: {Settings.lr})")
    p.add_argument("--batch-size", type=_int_at_least(1, "a batch holds samples"), default=Settings.batch_size,
                   help=f"training batch size (default: {Settings.batch_size})")
    p.add_argument("--hidden", nargs="+", type=int, help="hidden widths (default: each kind's own)")
    p.add_argument("--mi-method", default=mi.DEFAULT_METHOD, choices=sorted(mi.METHODS),
                   help="the MI estimator (default: lmi, cchlib's latent MI)")
    p.add_argument("--mi-repeats", type=_int_at_least(2, "a standard error needs two estimates"), default=3,
                   help="estimates per MI and seed, with different estimator seeds (default: 3)")
    p.add_argument("--kd-check", action="store_true", help="also distil and measure the gain")
    p.add_argument("--criteria", action=argparse.BooleanOptionalAction, default=True,
                   help="also report, per pair, the conditional information I(Y;H_T|H_S) the teacher adds (printed "
                        "beside the gap) and CCH's other rival criteria (in the CSV; default: on)")
    p.add_argument("--lam", type=float, default=Settings.lam, help=f"distillation weight of Eq. (2) / Eq. (4) (default: {Settings.lam})")
    p.add_argument("--temperature", type=float, default=Settings.temperature,
                   help=f"distillation temperature, classification only (default: {Settings.temperature})")
    p.add_argument("--out", default=DEFAULT_OUT,
                   help="output prefix: writes PREFIX.csv and PREFIX.json (suffixes appended: run.v1 -> "
                        f"run.v1.csv); a folder (ending in /) gets {DEFAULT_OUT}.csv/.json inside it"
                        f" (default: {DEFAULT_OUT})")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def _inputs(args):
    """Check the arguments and read the data: any error here is the user's input (exit status 2)."""
    if not args.data:
        raise ValueError("give --data FILE (a .npz or a folder of CSV files), or --write-demo FILE")
    if len(set(args.seeds)) != len(args.seeds):
        raise ValueError(f"--seeds repeats a seed ({args.seeds}); give distinct seeds")
    csv_path, json_path = output_paths(args.out)
    check_writable([csv_path, json_path])
    ds = load_paired(args.data, label_key=args.label_key, id_column=args.id_column, task=args.task,
                     test_frac=args.test_frac)
    settings = Settings(args.epochs, args.lr, args.batch_size, args.hidden, args.lam, args.temperature)
    kinds = _parse_kinds(args.kind)
    resolve_modalities(ds, args.students, args.teachers, kinds)  # the modalities exist and each has a model kind
    return ds, settings, kinds, (csv_path, json_path)


def _run(args, ds, settings, kinds, paths) -> None:
    """Rank the teachers and write the files: an error here is the computation's (exit status 1)."""
    csv_path, json_path = paths
    result = select_teachers(
        ds, students=args.students, teachers=args.teachers, kinds=kinds, seeds=args.seeds,
        settings=settings, mi_method=args.mi_method, mi_repeats=args.mi_repeats, kd_check=args.kd_check,
        criteria=args.criteria,
        progress=not args.quiet,
    )
    print(f"\n{ds.name}: {ds.n_samples} samples ({len(ds.test_idx)} test), {ds.task}, MI by {args.mi_method} (nats)\n")
    print(format_ranking(result.ranking))
    atomic_write_text(csv_path, result.ranking.to_csv(index=False))
    payload = {"data": ds.name, "task": ds.task, "options": result.options,
               "ranking": json.loads(result.ranking.to_json(orient="records"))}
    atomic_write_text(json_path, json.dumps(payload, indent=2))
    print(f"\nwrote {csv_path} and {json_path}")


def main(argv=None) -> int:
    """Run the command: exit status 2 with a one-line reason for bad input, 1 for a failed computation."""
    args = parser().parse_args(argv)
    if args.write_demo:
        print(f"wrote {make_demo_npz(args.write_demo)} (name the kind of its 3-D array: --kind sequence=sequence)")
        return 0
    try:
        inputs = _inputs(args)
    except (ValueError, OSError) as error:
        print(f"cch-select: error: {error}", file=sys.stderr)
        return 2
    try:
        _run(args, *inputs)
    except (ValueError, RuntimeError, OSError) as error:
        print(f"cch-select: the computation failed: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
