# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Template: should modality A teach modality B in *your* data?
#
# This notebook runs the whole Cross-modal Complementarity Hypothesis workflow
# {cite}`xie2025cch` on a paired multimodal dataset of your own, with no code edits:
# give it a `.npz` file (one array per modality plus the labels `y`) or a folder of CSV
# files, and it
#
# 1. trains one network per modality and seed on the labels (each is the *baseline
#    student* of its own modality and a *candidate teacher* for the others);
# 2. takes each network's last hidden layer on the test split as the representation $H$;
# 3. estimates $I(H_T;H_S)$, $I(H_S;Y)$ and $I(H_T;Y)$ with standard errors;
# 4. ranks every student's candidate teachers by the MI gap $I(H_T;H_S) - I(H_S;Y)$,
#    which CCH says must be positive for distillation to help;
# 5. optionally distils every teacher into every student and measures whether it did.
#
# Run it for your data with papermill, e.g.
#
# ```
# papermill notebooks/template_new_modality.ipynb my_run.ipynb \
#     -p data_path /path/to/my_data.npz -p params_name mine -p mi_method ksg
# ```
#
# or add a parameter set (see *Adapt this book to your modalities*). Without a
# `data_path` it runs on a small **generated demo** dataset so that the book builds
# everywhere; the demo's numbers say nothing about real data.

# %% [markdown]
# :::{admonition} What we found
# :class: tip
# ```{glue:md} template_new_modality_finding
# :format: myst
# ```
# :::

# %% tags=["parameters", "remove-cell"]
params_name = "default"  # name of the parameter set; results go to results/<params_name>/<chapter>/
results_root = "../results"  # folder of result tables (the notebook runs in notebooks/)
chapter = "template_new_modality"  # results sub-folder; give each of your datasets its own
data_path = None  # your .npz file or folder of CSVs (relative to notebooks/); None: generated demo
demo_samples = 1200  # size of the generated demo (used only when data_path is None)
label_key = "y"  # name of the labels: the npz array or the labels.csv column
id_column = "sample_id"  # sample-id column of CSV files
task = "auto"  # "auto", "classification" or "regression"
modalities = None  # list of modality names to use; None: all in the file
students = None  # student modalities; None: all used modalities
teachers = None  # candidate teachers; None: all used modalities
model_kinds = {}  # modality -> "mlp" | "image" | "sequence"; 2-D arrays default to mlp, 4-D to image
hidden = None  # hidden widths for every network (list); None: each kind's default
seeds = [0, 1, 2]  # training seeds
test_frac = 0.3  # share of samples held out (MI and accuracy are measured there)
epochs = 30
lr = 1e-3
batch_size = 128
mi_method = "lmi"  # "lmi", "ksg", "mine" or "latentmi"
mi_repeats = 3  # estimates per MI and seed (estimator seeds)
mi_options = {}
kd_check = True  # also distil and measure the gain
lam = 0.5  # distillation weight (Eq. 2 / Eq. 4)
temperature = 4.0  # distillation temperature (classification)

# %% tags=["hide-cell"]
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display
from myst_nb import glue

from cchlib import report
from cchlib import select as cch
from cchlib.chapter import Chapter
from cchlib.experiments import template
from cchlib.train import default_device
from cchlib.figures import BOOK_STYLE

plt.style.use(BOOK_STYLE)  # type legible at the page width

GLUE = "template_new_modality"  # prefix of the numbers quoted in the text below
context = Chapter(chapter, params_name, results_root)  # where this page's tables and provenance go
demo = data_path is None
if demo:
    data_path = cch.make_demo_npz(context.results_dir / "demo.npz", n=demo_samples)
    model_kinds = {**cch.DEMO_KINDS, **model_kinds}
ds = cch.load_paired(data_path, label_key=label_key, id_column=id_column, task=task, test_frac=test_frac)
data_name = "generated demo data (not a real dataset)" if demo else f"{ds.name} ({Path(data_path).name})"
used = list(modalities or ds.modalities)
settings = template.Settings(  # checked here, before anything trains
    label_key=label_key, id_column=id_column, task=task, test_frac=test_frac, students=list(students or used),
    teachers=list(teachers or used), kinds=dict(model_kinds), epochs=epochs, lr=lr, batch_size=batch_size,
    hidden=hidden, lam=lam, temperature=temperature, mi_method=mi_method, mi_repeats=mi_repeats,
    mi_options=dict(mi_options), kd_check=kd_check,
)
record = context.provenance(
    seeds, default_device(),
    **{"data": data_name, "samples (test)": f"{ds.n_samples} ({len(ds.test_idx)})", "MI estimator": mi_method,
       "epochs": epochs},
)

# %% [markdown]
# ## Provenance
# Every number on this page was computed by the run described here.

# %% tags=["remove-input"]
display(Markdown(report.provenance_markdown(record)))

# %% [markdown]
# ```{admonition} Notes on the paper
# :class: note
# - **Which representations.** The paper estimates MI between learned representations
#   but does not fix one recipe for new data. Here $H$ is the last hidden layer of each
#   modality's network trained on the labels alone, on the test split; the student's
#   $H_S$ is its *baseline* network, because CCH is meant to be checked before
#   distilling. Hidden units constant on the test split are dropped.
# - **Uncertainty.** With several training seeds the standard error is taken across
#   seeds (training and estimator variability together); with one seed it is the
#   spread of `mi_repeats` estimator seeds only. The "unresolved" flag (|gap| < 2 SE) is
#   this book's addition; the paper uses the sign of the gap alone.
# - **Distillation.** Classification uses Eq. (2) with weight `lam` and temperature
#   `temperature`; regression uses Eq. (4). A distilled student starts from its
#   baseline's initialisation and sees the same batches, so each KD gain is paired.
# ```

# %% [markdown]
# ## The data

# %%
shapes = {m: str(ds.modalities[m].shape[1:]) for m in used}
overview = pd.DataFrame({"modality": used, "shape per sample": [shapes[m] for m in used]})
_ = context.table(overview, "modalities")
display(overview)
glue(f"{GLUE}_n", ds.n_samples, display=False)
glue(f"{GLUE}_task", ds.task, display=False)

# %% [markdown]
# {glue:text}`template_new_modality_n` samples, a {glue:text}`template_new_modality_task`
# task.

# %% [markdown]
# ## Ranking candidate teachers by the MI gap

# %%
rows = context.sweep(template.run_cell, [template.data_condition(None if demo else data_path, demo_samples)], seeds,
                     settings, label=f"{chapter}: teacher selection")  # cached; at paper, stored
result = template.selection(rows, ds, settings)
ranking = result.ranking
_ = context.table(ranking, "ranking")
_ = context.table(result.per_seed, "per_seed")
_ = context.table(result.baselines, "baselines")
print(cch.format_ranking(ranking))

# %% [markdown]
# Baseline test score of each modality's own network (accuracy, or minus the MSE for
# regression), mean over seeds:

# %%
display(result.baselines.groupby(["modality", "kind"], as_index=False)["score"].mean().round(3))

# %% [markdown]
# ## Figure: the CCH criterion and, where measured, the distillation gain
# {numref}`fig-template-selection` sets each pair's MI gap beside its measured gain.

# %% tags=["hide-input"]
fig = cch.plot_selection(ranking, ds.task, title=data_name)
glue(f"{GLUE}_fig_selection", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} template_new_modality_fig_selection
# :name: "fig-template-selection"
#
# (a) The MI gap $I(H_T;H_S) - I(H_S;Y)$ in nats for every teacher → student pair
# (rows), with its 95% interval over seeds, coloured by verdict (green: distil, blue: do
# not distil, grey: undecided); hollow red markers: the estimator's gap on permuted pairs
# (its null). (b) With a KD check, the measured KD gain (test accuracy, or reduction of test
# MSE for regression; distilled minus baseline, 95% interval) against the MI gap, a point
# in a shaded quadrant having the sign CCH predicted; without one, $I(H_T;H_S)$ against
# $I(H_S;Y)$ (nats), points above the diagonal having a positive gap. Look at whether the
# pairs CCH favours in (a) are the ones that gained in (b).
# ```

# %% [markdown]
# ## Does the MI gap predict the KD gain?

# %% tags=["hide-input"]
best = ranking[ranking["rank"] == 1]
glue(f"{GLUE}_pairs", len(ranking), display=False)
if kd_check:
    conditions = result.scorecard_conditions()
    if "mi_n" in conditions:  # built-in model kinds: the estimator's bias at these shapes, beside the gap
        conditions = context.bias_corrected(conditions, mi_method, mi_options)
    score = report.scorecard_rows(chapter, conditions, data=data_name)
    if not demo:  # demo data never enters the book's scorecard
        _ = context.scorecard(conditions, data_name)
    display(score.round(4))
    glue(f"{GLUE}_agree", int(score.agrees.sum()), display=False)
    best_measured = ranking.loc[ranking.groupby("student").kd_gain.idxmax(), ["student", "teacher"]]
    same = best.merge(best_measured, on=["student", "teacher"])
    glue(f"{GLUE}_same_first", len(same), display=False)
else:
    glue(f"{GLUE}_agree", "not measured (kd_check is off)", display=False)
    glue(f"{GLUE}_same_first", "not measured", display=False)
glue(f"{GLUE}_students", len(best), display=False)

# %% tags=["remove-cell"]
from cchlib.findings import cch_finding, finding

claim = ("(a template, beyond the paper) a teacher modality helps a student modality when "
         "$I(H_T;H_S) > I(H_S;Y)$; here checked on " + data_name + ".")
if kd_check:
    box = cch_finding(claim, score, len(seeds), params_name, "(teacher, student) pairs")
else:
    box = finding(claim, f"{len(ranking)} (teacher, student) pairs ranked by the MI gap.", "undecided",
                  "`kd_check` is off, so no distillation gain was measured to test the prediction.")
glue(f"{GLUE}_finding", Markdown(box), display=False)

# %% [markdown]
# The sign of the MI gap matched the sign of the measured KD gain for
# {glue:text}`template_new_modality_agree` of {glue:text}`template_new_modality_pairs`
# (teacher, student) pairs, and the teacher ranked first by the gap was also the best
# measured teacher for {glue:text}`template_new_modality_same_first` of
# {glue:text}`template_new_modality_students` students. Gains whose standard error is as
# large as the gain are not resolved by this many seeds; read the counts with the
# error bars of the figure.
