"""CMU-MOSEI: both real loaders on tiny fixtures in their formats, the stand-in, the
Table 14 network and the chapter's cells."""

import pickle
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from cchlib.data import mosei
from cchlib.experiments import mosei as exp
from cchlib.distill import cross_entropy
from cchlib.train import fit

DIMS = mosei.DIMS


# ---------------------------------------------------------------------------
# MultiBench mosei_raw.pkl
# ---------------------------------------------------------------------------


def _multibench_split(lengths, sentiments, seed, t=50):
    """A split in MultiBench's layout: left zero-padded sequences of the given lengths.

    Step j of sample i has text value (i + 1) * 100 + j in every feature, so order and
    alignment can be checked exactly; vision and audio follow the text's padding.
    """
    rng = np.random.default_rng(seed)
    n = len(lengths)
    split = {m: np.zeros((n, t, DIMS[m]), dtype=np.float32) for m in mosei.MODALITIES}
    for i, length in enumerate(lengths):
        if length == 0:
            continue
        steps = np.arange(length)
        split["text"][i, t - length :] = ((i + 1) * 100 + steps)[:, None]
        split["vision"][i, t - length :] = rng.standard_normal((length, DIMS["vision"]))
        split["audio"][i, t - length :] = rng.standard_normal((length, DIMS["audio"]))
    labels = np.zeros((n, 1, 7), dtype=np.float32)
    labels[:, 0, 0] = sentiments
    labels[:, 0, 1:] = rng.random((n, 6))  # emotions, unused
    split["labels"] = labels
    split["id"] = np.array([f"vid{seed}[{i}]" for i in range(n)])
    return split


@pytest.fixture
def multibench_file(tmp_path):
    raw = {
        "train": _multibench_split([5, 0, 50, 12], [1.0, 2.0, -0.667, 0.0], seed=1),
        "valid": _multibench_split([3, 7], [0.333, -1.0], seed=2),
        "test": _multibench_split([9, 4, 0], [-3.0, 3.0, 1.0], seed=3),
    }
    raw["train"]["audio"][0, -2, 5] = -np.inf  # COVAREP's -inf
    path = tmp_path / "mosei_raw.pkl"
    path.write_bytes(pickle.dumps(raw))
    return path, raw


def test_multibench_loader_applies_algorithm_2(multibench_file):
    path, raw = multibench_file
    seqs = mosei.load_multibench(path)
    assert seqs.source == "real" and seqs.name == "CMU-MOSEI"
    assert seqs.sizes() == {"train": 3, "valid": 2, "test": 2}
    assert seqs.dropped == {"train": 1, "valid": 0, "test": 1}
    train = seqs.splits["train"]
    for m in mosei.MODALITIES:
        assert train[m].shape == (3, 50, DIMS[m]) and train[m].dtype == np.float32
    # Sample 0 (5 steps, left-padded) now starts at step 0 and is right-padded.
    assert np.array_equal(train["text"][0, :5, 0], 100 + np.arange(5))
    assert np.abs(train["text"][0, 5:]).sum() == 0
    assert np.array_equal(train["vision"][0, :5], raw["train"]["vision"][0, -5:])
    assert np.abs(train["vision"][0, 5:]).sum() == 0
    # The -inf audio value became 0, the rest of the audio is kept.
    assert np.isfinite(train["audio"]).all() and train["audio"][0, 3, 5] == 0
    assert train["audio"][0, 3, 4] == raw["train"]["audio"][0, -2, 4]
    # The full-length sample is unchanged; ids and labels follow the dropped row.
    assert np.array_equal(train["text"][1], raw["train"]["text"][2])
    assert list(train["id"]) == ["vid1[0]", "vid1[2]", "vid1[3]"]
    assert list(seqs.labels("train")) == [1, 0, 0]  # sentiment > 0; 0.0 is negative
    assert list(seqs.labels("test")) == [0, 1]


def test_multibench_loader_rejects_bad_layout(tmp_path):
    path = tmp_path / "bad.pkl"
    path.write_bytes(pickle.dumps({"train": {}, "test": {}}))
    with pytest.raises(ValueError, match="lacks splits"):
        mosei.load_multibench(path)


def test_align_and_pad_truncates_and_slices_other_modalities():
    text = np.zeros((1, 70, 2), dtype=np.float32)
    text[0, 10:] = np.arange(60)[:, None] + 1
    audio = np.ones((1, 70, 3), dtype=np.float32)  # non-zero before the text starts
    out = mosei.align_and_pad({"text": text, "audio": audio}, seq_len=50)
    assert out["text"].shape == (1, 50, 2) and out["audio"].shape == (1, 50, 3)
    assert np.array_equal(out["text"][0, :, 0], np.arange(50) + 1)  # truncated after 50 steps
    assert np.all(out["audio"] == 1)


def test_pooled_features_from_sequences(multibench_file):
    path, _ = multibench_file
    seqs = mosei.load_multibench(path)
    features = mosei.pool_sequences(seqs)
    ds = features.dataset
    assert ds.n_samples == 7 and len(ds.train_idx) == 3 and len(features.valid_idx) == 2
    # Table 14's mean-pool averages over all L = 50 steps, padding included.
    assert np.isclose(ds.modalities["text"][0, 0], (100 + np.arange(5)).sum() / 50)
    assert features.step_std["text"].shape == (300,) and (features.step_std["text"] > 0).all()


# ---------------------------------------------------------------------------
# CMU-MultimodalSDK .csd
# ---------------------------------------------------------------------------


def _write_csd(h5py, path, root, videos):
    with h5py.File(path, "w") as f:
        data = f.create_group(root).create_group("data")
        for vid, (features, intervals) in videos.items():
            g = data.create_group(vid)
            g.create_dataset("features", data=features)
            g.create_dataset("intervals", data=intervals)
        meta = f[root].create_group("metadata")
        meta.create_dataset("root name", (1,), dtype=h5py.special_dtype(vlen=str))
        meta["root name"][0] = f'"{root}"'


@pytest.fixture
def csd_folder(tmp_path):
    h5py = pytest.importorskip("h5py")
    words = {}  # video -> (vectors, intervals): one word per 0.5 s
    audio, vision, labels = {}, {}, {}
    for k, vid in enumerate(["vidA", "vidB", "vidC"]):
        n_words = 8
        starts = np.arange(n_words) * 0.5
        vectors = np.tile((k + 1) * 10 + np.arange(n_words, dtype=float)[:, None], (1, 300))
        vectors[0] = 0  # a padding-like zero word at the start of each video
        words[vid] = (vectors, np.stack([starts, starts + 0.5], 1))
        frames = np.arange(0, 4, 0.25)
        a = np.tile(frames[:, None], (1, 74))
        a[3, 0] = -np.inf
        audio[vid] = (a, np.stack([frames, frames + 0.25], 1))
        vision[vid] = (np.tile(frames[:, None] * 2, (1, 713)), np.stack([frames, frames + 0.25], 1))
        labels[vid] = (np.array([[1.0] + [0] * 6, [-0.5] + [0] * 6]), np.array([[0.0, 2.0], [2.0, 4.0]]))
    _write_csd(h5py, tmp_path / mosei.CSD_FILES["text"], "glove_vectors", words)
    _write_csd(h5py, tmp_path / mosei.CSD_FILES["audio"], "COVAREP", audio)
    _write_csd(h5py, tmp_path / mosei.CSD_FILES["vision"], "OpenFace_2", vision)
    _write_csd(h5py, tmp_path / mosei.CSD_FILES["labels"], "All Labels", labels)
    (tmp_path / mosei.FOLDS_FILE).write_text(
        "standard_train_fold=['vidA', 'vidX']\nstandard_valid_fold=['vidB']\nstandard_test_fold=['vidC']\n"
    )
    return tmp_path


def test_csd_loader_aligns_words_and_uses_official_folds(csd_folder):
    seqs = mosei.load_csd(csd_folder)
    assert seqs.sizes() == {"train": 2, "valid": 2, "test": 2}
    train = seqs.splits["train"]
    assert list(train["id"]) == ["vidA[0]", "vidA[1]"]
    assert list(seqs.labels("train")) == [1, 0]
    # Segment [0, 2] holds words 0-3; word 0 is all zero, so Algorithm 2 starts at word 1.
    assert np.array_equal(train["text"][0, :3, 0], [11.0, 12.0, 13.0])
    assert np.abs(train["text"][0, 3:]).sum() == 0
    # Vision averaged over each word's interval: word 1 is [0.5, 1.0] -> frames 0.5, 0.75.
    assert np.isclose(train["vision"][0, 0, 0], (0.5 + 0.75) / 2 * 2)
    # Word 1 holds the -inf audio frame (0.75), which counts as 0.
    assert np.isfinite(train["audio"]).all()
    assert np.isclose(train["audio"][0, 0, 0], (0.5 + 0.0) / 2) and np.isclose(train["audio"][0, 0, 1], 0.625)
    # Segment [2, 4] holds words 4-7.
    assert np.array_equal(train["text"][1, :4, 0], [14.0, 15.0, 16.0, 17.0])
    assert list(seqs.splits["test"]["id"]) == ["vidC[0]", "vidC[1]"]


def test_csd_loader_is_found_through_the_data_root(csd_folder, tmp_path_factory, monkeypatch):
    root = tmp_path_factory.mktemp("root")
    (root / "mosei").symlink_to(csd_folder, target_is_directory=True)
    monkeypatch.delenv(mosei.PATH_ENV, raising=False)
    monkeypatch.setenv("CCH_DATA_ROOT", str(root))
    assert mosei.find_mosei() == root / "mosei"
    assert mosei.load_mosei().sizes()["test"] == 2


def test_csd_loader_without_h5py_says_what_to_install(csd_folder, monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(ImportError, match="pip install h5py"):
        mosei.load_csd(csd_folder)


def test_csd_loader_without_folds_says_where_to_get_them(csd_folder, monkeypatch):
    (csd_folder / mosei.FOLDS_FILE).unlink()
    monkeypatch.setitem(sys.modules, "mmsdk", None)
    with pytest.raises(mosei.MoseiFileMissing, match="cmu_mosei_std_folds.py"):
        mosei.load_csd(csd_folder)


# ---------------------------------------------------------------------------
# Finding the file; the paper set refuses the stand-in
# ---------------------------------------------------------------------------


def test_find_mosei_order(tmp_path, monkeypatch, multibench_file):
    path, _ = multibench_file
    monkeypatch.delenv(mosei.PATH_ENV, raising=False)
    monkeypatch.delenv("CCH_DATA_ROOT", raising=False)
    assert mosei.find_mosei() is None
    with pytest.raises(mosei.MoseiFileMissing, match="does not exist"):
        mosei.find_mosei(tmp_path / "nowhere.pkl")
    monkeypatch.setenv(mosei.PATH_ENV, str(path))
    assert mosei.find_mosei() == path
    assert mosei.find_mosei(path.parent) == path.parent  # explicit beats the environment
    assert mosei.load_mosei(path.parent).sizes()["valid"] == 2


def test_paper_set_refuses_the_stand_in(monkeypatch):
    monkeypatch.delenv(mosei.PATH_ENV, raising=False)
    monkeypatch.delenv("CCH_DATA_ROOT", raising=False)
    with pytest.raises(mosei.MoseiFileMissing, match="(?s)mosei_raw.pkl.*CCH_MOSEI_PATH"):
        mosei.data_spec(require_real=True, standin_sizes={"train": 10, "valid": 5, "test": 5})
    spec = mosei.data_spec(standin_sizes={"train": 10, "valid": 5, "test": 5})
    assert spec["source"] == "stand-in"


# ---------------------------------------------------------------------------
# The stand-in
# ---------------------------------------------------------------------------


def test_standin_has_mosei_layout_and_is_deterministic():
    a = mosei.make_standin({"train": 300, "valid": 5, "test": 7}, seed=3)
    for m in mosei.MODALITIES:
        assert a["train"][m].shape == (300, 50, DIMS[m])
    assert a["train"]["labels"].shape == (300, 1, 7) and a["test"]["text"].shape == (7, 50, 300)
    # A sample's draw does not depend on how many are drawn; another seed differs.
    b = np.concatenate([c["text"] for c in mosei.standin_chunks("train", 260, seed=3)])
    c = next(mosei.standin_chunks("train", 10, seed=4))["text"]
    assert np.array_equal(a["train"]["text"][:260], b)
    assert not np.array_equal(a["train"]["text"][:10], c)
    # Left zero-padding shared by all modalities; sentiment in thirds in [-3, 3].
    real = np.abs(a["train"]["text"]).sum(-1) > 0
    assert not real[:, 0].all() and real[:, -1].all()
    assert np.array_equal(real, np.abs(a["train"]["audio"]).sum(-1) > 0)
    s = a["train"]["labels"][:, 0, 0]
    assert s.min() >= -3 and s.max() <= 3 and np.allclose(np.round(s * 3), s * 3, atol=1e-5)


def _linear_accuracy(features, modality):
    from sklearn.linear_model import LogisticRegression

    ds = features.dataset
    x = ds.modalities[modality]
    clf = LogisticRegression(C=0.05, max_iter=500).fit(x[ds.train_idx], ds.labels[ds.train_idx])
    return clf.score(x[ds.test_idx], ds.labels[ds.test_idx])


def _linear_r2(features, source, target):
    from sklearn.linear_model import Ridge

    ds = features.dataset
    model = Ridge(alpha=10.0).fit(ds.modalities[source][ds.train_idx], ds.modalities[target][ds.train_idx])
    return model.score(ds.modalities[source][ds.test_idx], ds.modalities[target][ds.test_idx])


def test_standin_text_is_most_informative_and_overlap_is_controllable():
    features = mosei.standin_features({"train": 1000, "valid": 1, "test": 500}, seed=0)
    assert features.source == "stand-in" and "stand-in" in features.name
    acc = {m: _linear_accuracy(features, m) for m in mosei.MODALITIES}
    assert acc["text"] > acc["vision"] + 0.05 and acc["text"] > acc["audio"] + 0.05
    assert min(acc.values()) > 0.52
    config = mosei.StandInConfig(overlap_tv=0.0, overlap_all=0.0)
    apart = mosei.standin_features({"train": 500, "valid": 1, "test": 250}, seed=0, config=config)
    assert _linear_r2(features, "text", "vision") > _linear_r2(apart, "text", "vision") + 0.05


def test_standin_config_rejects_bad_values():
    with pytest.raises(ValueError, match="step_noise"):
        mosei.StandInConfig(step_noise=-1)


# ---------------------------------------------------------------------------
# Table 14 network, Table 15 training, noise, selection helpers, one cell
# ---------------------------------------------------------------------------


def _train(seeds, x, y, epochs=3):
    net = exp.StackedMoseiNet(seeds, x.shape[-1], "mosei-test", hidden=(16, 8), dropout=0.3)
    fit(net, x, {"y": y}, lambda o, b: cross_entropy(o, b["y"]), epochs=epochs, lr=5e-3, batch_size=7,
        optimiser="adamw", weight_decay=0.01, schedule="cosine")
    return net


@torch.no_grad()
def _evaluate(model, inputs):
    """(logits, representations) of every copy in evaluation mode."""
    model.eval()
    h = model.features(inputs)
    return model.out(h), h


def test_stacked_net_copy_trains_as_it_would_alone():
    rng = np.random.default_rng(0)
    x = torch.as_tensor(rng.standard_normal((1, 30, 5)), dtype=torch.float32)
    y = torch.as_tensor(rng.integers(0, 2, (1, 30)))
    alone = _train([4], x, y)
    stacked = _train([9, 4], torch.cat([x * 2, x]), torch.cat([1 - y, y]))
    out_alone, h_alone = _evaluate(alone, x)
    out_stack, h_stack = _evaluate(stacked, torch.cat([x, x]))
    assert h_alone.shape == (1, 30, 8)
    assert torch.allclose(out_alone[0], out_stack[1], atol=1e-5)
    assert not torch.allclose(out_stack[0], out_stack[1], atol=1e-3)
    net = exp.StackedMoseiNet([0], 5, "t", hidden=(4,))
    curve = fit(net, x, {"y": y}, lambda o, b: cross_entropy(o, b["y"]), epochs=2, lr=1e-3, batch_size=10,
                optimiser="adamw", schedule="cosine")
    assert len(curve) == 2 and not net.training


def test_teacher_noise_is_fixed_per_seed_and_scaled():
    features = mosei.standin_features({"train": 200, "valid": 5, "test": 50}, seed=0)
    clean = exp.modality_inputs(features, "text", 0.0, 0, standardise=False)
    noisy = exp.modality_inputs(features, "text", 0.8, 0, standardise=False)
    again = exp.modality_inputs(features, "text", 0.8, 0, standardise=False)
    other = exp.modality_inputs(features, "text", 0.8, 1, standardise=False)
    assert np.array_equal(noisy, again) and not np.array_equal(noisy, other)
    ratio = (noisy - clean).std(axis=0) / clean[features.dataset.train_idx].std(axis=0)
    assert abs(np.median(ratio) - 0.8) < 0.1
    steps = exp.modality_inputs(features, "text", 0.8, 0, standardise=False, relative_to="steps")
    expected = 0.8 * features.step_std["text"] / np.sqrt(50)
    assert abs(np.median((steps - clean).std(axis=0) / expected) - 1) < 0.1
    with pytest.raises(ValueError, match="relative to"):
        exp.modality_inputs(features, "text", 0.5, 0, standardise=False, relative_to="bogus")


def test_rank_candidates_and_ordering_test():
    selection = pd.DataFrame({"teacher": ["text", "audio"], "student": ["vision", "vision"],
                              "mi_gap": [0.9, 0.2], "mi_gap_se": [0.01, 0.01]})
    gains = pd.DataFrame({"teacher": ["text", "audio"], "student": ["vision", "vision"],
                          "kd_gain": [-0.01, 0.02], "kd_gain_se": [0.005, 0.005]})
    ranked = exp.rank_candidates(selection, gains)
    assert list(ranked.teacher) == ["text", "audio"] and list(ranked.rank_by_gain) == [2, 1]
    assert not ranked.same_first.any() and not ranked.same_order.any()
    table2 = pd.DataFrame({"estimator": ["ksg", "lmi"], "I(text;Y)": [0.3, 0.5],
                           "I(vision;Y)": [0.1, 0.6], "I(audio;Y)": [0.2, 0.1]})
    order = exp.ordering_test(table2)
    assert list(order["teacher picked"]) == ["text", "vision"] and not order.same_teacher.any()


TINY = dict(  # what every cell reads, on a tiny stand-in
    data=mosei.data_spec(standin_sizes={"train": 80, "valid": 5, "test": 60}), hidden=[16, 8], dropout=0.3,
    epochs=2, lr=5e-4, weight_decay=0.01, batch_size=32, standardise=True, mi_options={}, mi_samples=None,
)


def test_pairs_and_noise_cells_on_a_tiny_stand_in():
    pairs = exp.run_pairs_cell({}, [0], dict(TINY, temperature=4.5, lam=0.5, estimators=["ksg"]))[0]
    assert len(pairs) == 6 and {(r["teacher"], r["student"]) for r in pairs} == {
        (t, s) for t in mosei.MODALITIES for s in mosei.MODALITIES if t != s}
    assert all(r["data"] == "stand-in" and 0 <= r["acc_kd"] <= 1 for r in pairs)
    settings = dict(TINY, temperature=4.5, lam=0.5, mi_method="ksg", noise_levels=[0.0, 1.0],
                    noise_relative_to="pooled")
    noise = exp.run_noise_cell({"teacher": "text", "student": "vision"}, [0], settings)[0]
    # The noise-free teacher and baseline are the very networks of the pairs cell.
    tv = next(r for r in pairs if r["teacher"] == "text" and r["student"] == "vision")
    assert noise[0]["teacher_f1"] == tv["teacher_f1"] and noise[0]["f1_nokd"] == tv["f1_nokd"]
    assert noise[0]["f1_kd"] == tv["f1_kd"] and np.isclose(noise[0]["mi_ts"], tv["mi_ts"])


@pytest.mark.parametrize("cls, own, wrong", [
    (exp.PairsSettings, dict(temperature=4.5, lam=0.5, estimators=["ksg"]), {"estimators": "ksg"}),
    (exp.NoiseSettings, dict(temperature=4.5, lam=0.5, mi_method="ksg", noise_levels=[0.0], noise_relative_to="pooled"),
     {"noise_levels": 0.5}),
    (exp.SelectionSettings, dict(mi_method="ksg", selection_repeats=2), {"selection_repeats": 2.5}),
])
def test_each_cells_settings_name_a_mistyped_setting(cls, own, wrong):
    assert cls.from_dict({**TINY, **own}).as_dict() == {**TINY, **own}
    with pytest.raises(ValueError, match=f"'{next(iter(wrong))}'"):
        cls.from_dict({**TINY, **own, **wrong})
