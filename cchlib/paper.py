"""The published numbers the book sets beside its own, transcribed from the papers' text.

One place for every value we did not compute, so that a reader can check each against
the PDF. The book shows them only in columns labelled ``paper:``
(:func:`cchlib.report.beside_paper`); no code path uses them to choose or tune anything.
Tables are named ``<chapter>_<what>``; the CCH paper is Xie, Xu and Sanguinetti (2025),
MFH is Xue et al. (2023).
"""

from __future__ import annotations

import pandas as pd


# ---------------------------------------------------------------------------
# MNIST -> MNIST-M (CCH paper Sec. 4.2, Fig. 2, Tables 1 and 13)
# ---------------------------------------------------------------------------

MNIST_TEACHER = {  # alpha -> teacher test accuracy (mean, SE or None) and I(H_teacher; Y) in nats
    0.2: {"teacher_acc": 0.981, "teacher_acc_se": None, "mi_tl": 2.0485},  # Fig. 2 caption
    0.18: {"teacher_acc": 0.9812, "teacher_acc_se": 0.0003, "mi_tl": 1.9095},  # Table 13 caption
}


def mnist_table1() -> pd.DataFrame:
    """Table 1 (alpha = 0.2): MI gap per gamma; student accuracy difference +- SE per (gamma, T)."""
    gaps = {0.0: 0.4399, 0.5: 0.2662, 1.5: 0.0199, 2.5: -0.0032, 3.5: -0.1590}
    diffs = {
        0.0: [(0.0010, 0.0040), (0.0146, 0.0035), (0.0318, 0.0040), (0.0350, 0.0046)],
        0.5: [(0.0069, 0.0054), (0.0152, 0.0055), (0.0296, 0.0031), (0.0353, 0.0028)],
        1.5: [(0.0002, 0.0089), (0.0149, 0.0034), (0.0156, 0.0042), (0.0091, 0.0051)],
        2.5: [(-0.1190, 0.0165), (-0.1627, 0.0101), (-0.1757, 0.0219), (-0.1516, 0.0154)],
        3.5: [(-0.2797, 0.0126), (-0.4597, 0.0041), (-0.4623, 0.0209), (-0.4364, 0.0137)],
    }
    return pd.DataFrame([
        {"gamma": g, "T": float(t), "MI gap": gaps[g], "acc diff": d, "acc diff SE": se}
        for g, pairs in diffs.items() for t, (d, se) in zip([1, 2, 3, 4], pairs)
    ])


def mnist_table13() -> pd.DataFrame:
    """Table 13 (alpha = 0.18, T = 3): MIs, accuracies with and without KD (+- SE), gap, difference."""
    values = [  # gamma, I_TS, I_SL, KD acc, SE, no-KD acc, SE, MI gap, acc diff, SE
        (0.0, 1.3956, 1.2685, 0.8484, 0.0019, 0.8338, 0.0034, 0.1271, 0.0146, 0.0052),
        (0.5, 1.2949, 1.2685, 0.8425, 0.0042, 0.8338, 0.0034, 0.0264, 0.0087, 0.0070),
        (1.5, 1.2533, 1.2685, 0.8296, 0.0017, 0.8338, 0.0034, -0.0152, -0.0042, 0.0034),
        (2.5, 0.9472, 1.2685, 0.6216, 0.0243, 0.8338, 0.0034, -0.3213, -0.2122, 0.0232),
        (3.5, 0.7817, 1.2685, 0.3325, 0.0179, 0.8338, 0.0034, -0.4868, -0.5013, 0.0190),
    ]
    columns = ["gamma", "I_TS", "I_SL", "KD acc", "KD acc SE", "no-KD acc", "no-KD acc SE",
               "MI gap", "acc diff", "acc diff SE"]
    return pd.DataFrame(values, columns=columns)


# ---------------------------------------------------------------------------
# CMU-MOSEI (CCH paper Sec. 4.3, Tables 2-4)
# ---------------------------------------------------------------------------

def mosei_table2() -> pd.DataFrame:
    """Table 2: mean and std over 50 runs; the paper's ``latentmi`` is our ``lmi``'s reference."""
    values = {
        "lmi": [(1.3543, 0.0052), (1.4160, 0.0038), (0.4681, 0.0090), (0.0816, 0.0084), (0.1054, 0.0088)],
        "mine": [(0.7955, 0.0019), (1.1817, 0.0023), (0.3202, 0.0055), (0.0409, 0.0026), (0.0631, 0.0026)],
        "ksg": [(0.3788, 0.0056), (0.6606, 0.0056), (0.1628, 0.0083), (0.0647, 0.0014), (0.0934, 0.0018)],
    }
    names = ["I(text;vision)", "I(text;audio)", "I(text;Y)", "I(vision;Y)", "I(audio;Y)"]
    rows = []
    for estimator, pairs in values.items():
        row = {"estimator": estimator}
        for name, (mean, std) in zip(names, pairs):
            row[name], row[f"{name} std"] = mean, std
        rows.append(row)
    return pd.DataFrame(rows)


def mosei_table3() -> pd.DataFrame:
    """Table 3: text teacher (acc 0.7190, F1 0.7189), latentmi MIs, students with/without KD."""
    return pd.DataFrame([
        {"teacher": "text", "student": "vision", "mi_ts": 1.3543, "mi_sl": 0.0816,
         "acc_nokd": 0.6233, "f1_nokd": 0.6204, "acc_kd": 0.6343, "f1_kd": 0.6315, "teacher_acc": 0.7190, "teacher_f1": 0.7189},
        {"teacher": "text", "student": "audio", "mi_ts": 1.4160, "mi_sl": 0.1054,
         "acc_nokd": 0.5937, "f1_nokd": 0.5931, "acc_kd": 0.6167, "f1_kd": 0.6161, "teacher_acc": 0.7190, "teacher_f1": 0.7189},
    ])


def mosei_table4() -> pd.DataFrame:
    """Table 4 as printed (text teacher, vision student), columns under the paper's labels."""
    levels = [0.0, 0.2, 0.4, 0.6, 0.8]
    mi_ts = [1.3543, 0.0034, -0.0007, -0.0056, -0.0060]
    kd = [0.6204] * 5
    nokd = [0.6315, 0.6192, 0.6189, 0.6184, 0.6156]
    return pd.DataFrame({"noise": levels, "mi_ts": mi_ts, "mi_sl": [0.0816] * 5, "f1_kd": kd, "f1_nokd": nokd})


# ---------------------------------------------------------------------------
# TCGA (CCH paper Sec. 4.4, App. E, Tables 5-8, 16, 20)
# ---------------------------------------------------------------------------

_TCGA_LEVELS = [0.0, 0.2, 0.4, 0.6, 0.8]
_TCGA_NOISE = {  # cohort: (I_TS per level, I_SL, KD F1 per level, no-KD F1, teacher F1, I_TL)
    "BRCA": ([0.5005, 0.4554, 0.3687, 0.2147, 0.1325], 0.2757,
             [0.5038, 0.4917, 0.4953, 0.4276, 0.4343], 0.4561, 0.7459, 1.1081),
    "KIPAN": ([0.7898, 0.7198, 0.6771, 0.6209, 0.6389], 0.6994,
              [0.8826, 0.8721, 0.8517, 0.8477, 0.8544], 0.8667, 0.9516, 1.0458),
    "LIHC": ([0.0914, 0.0825, 0.0699, 0.0736, 0.0409], 0.0781,
             [0.5795, 0.5692, 0.5368, 0.5259, 0.5080], 0.5548, 0.9430, 0.9055),
}


def tcga_noise() -> pd.DataFrame:
    """Tables 5 (BRCA), 6 (KIPAN), 7 (LIHC): mRNA teacher, CNV student, means over five runs."""
    rows = []
    for cohort, (ts, sl, kd_f1, nokd, t_f1, tl) in _TCGA_NOISE.items():
        for level, i_ts, f1 in zip(_TCGA_LEVELS, ts, kd_f1):
            rows.append({"cohort": cohort, "teacher": "mrna", "noise": level, "mi_ts": i_ts, "mi_sl": sl,
                         "f1_kd": f1, "f1_nokd": nokd, "mi_gap": round(i_ts - sl, 4),
                         "kd_gain": round(f1 - nokd, 4), "teacher_f1": t_f1, "mi_tl": tl})
    return pd.DataFrame(rows)


def tcga_fusion() -> pd.DataFrame:
    """Tables 8 (KIPAN) and 20 (BRCA): MI of representations, fusion and Fusion+KD metrics."""
    columns = ["cohort", "teacher", "mi_tl", "mi_ts", "mi_sl",
               "fusion acc", "fusion auc", "fusion f1_macro", "fusion f1_weighted",
               "fusion_kd acc", "fusion_kd auc", "fusion_kd f1_macro", "fusion_kd f1_weighted"]
    rows = [
        ["KIPAN", "mrna", 1.0458, 0.7898, 0.6994, 0.9610, 0.9851, 0.9219, 0.9591, 0.9740, 0.9872, 0.9293, 0.9725],
        ["KIPAN", "rppa", 1.1609, 0.6893, 0.6994, 0.9740, 0.9995, 0.9333, 0.9721, 0.9610, 0.9971, 0.9225, 0.9595],
        ["BRCA", "mrna", 1.1081, 0.5057, 0.2757, 0.7711, 0.9157, 0.6432, 0.7563, 0.8434, 0.8610, 0.6533, 0.8225],
        ["BRCA", "rppa", 0.7328, 0.3367, 0.2757, 0.5663, 0.7844, 0.5604, 0.5715, 0.6024, 0.7929, 0.5897, 0.6103],
    ]
    return pd.DataFrame(rows, columns=columns)


def tcga_class_counts() -> pd.DataFrame:
    """Table 16 (the KIPAN column is empty in the paper's text)."""
    rows = [("BRCA", "Normal-like", 44), ("BRCA", "Basal-like", 129), ("BRCA", "HER2-enriched", 49),
            ("BRCA", "Luminal A", 338), ("BRCA", "Luminal B", 267),
            ("LIHC", "Blast-Like", 39), ("LIHC", "CHOL-Like", 18), ("LIHC", "Liver-Like", 113)]
    return pd.DataFrame(rows, columns=["cohort", "class", "n"])


# ---------------------------------------------------------------------------
# MFH's MVD experiment (MFH paper, Table 2)
# ---------------------------------------------------------------------------

def mfh_table2() -> pd.DataFrame:
    """MFH's Table 2 (MVD, accuracies in %): teachers' and students' test accuracy per gamma."""
    return pd.DataFrame({
        "gamma": [0.25, 0.5, 0.75],
        "regular teacher acc": [89.70, 89.62, 89.70],
        "general teacher acc": [64.84, 73.41, 79.41],
        "No-KD": [59.29, 67.64, 76.46],
        "Regular-KD": [59.46, 67.86, 76.53],
        "Modality-general-KD": [61.01, 70.25, 77.70],
    })


MFH_FIG2_GAIN = 2.1  # MFH's text on its Fig. 2: distillation gains 2.1 points of accuracy at gamma = 1
