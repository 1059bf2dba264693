"""The digit pairs of Sec. 4.2: MNIST images for the teacher, MNIST-M for the student.

Used by the MNIST chapter and by the unpaired chapter (the same images, paired or not).
"""

from __future__ import annotations

import numpy as np

from cchlib.data.mnist import load_backgrounds, load_mnist, load_mnist_m
from cchlib.data.paired import PairedDataset

TEACHER, STUDENT = "mnist", "mnistm"  # the modalities' names


def load_data(alpha: float, settings: dict) -> PairedDataset:
    """MNIST and MNIST-M of the experiment as a :class:`PairedDataset`, float32 in [0, 1].

    Modality ``mnist`` holds the teacher's images (N, 28, 28), so that they can be
    blurred; ``mnistm`` the student's flattened images (N, 784 x channels). The training
    rows come first, then the test rows (``train_idx`` and ``test_idx`` say which).

    ``settings`` may hold ``mnist_path`` and ``bsds_path`` (explicit data folders),
    ``n_train`` / ``n_test`` (the first images of each split; ``None`` = all),
    ``mnistm_seed``, ``recipe``, ``threshold`` and ``student_channels`` (3 as in App.
    C; 1 feeds only one of the three identical channels of the paper recipe).
    """
    mnist = load_mnist(settings.get("mnist_path"))
    backgrounds = load_backgrounds(settings.get("bsds_path"))
    n_train, n_test = settings.get("n_train"), settings.get("n_test")
    m_train, m_test = load_mnist_m(
        mnist, backgrounds, alpha, settings.get("mnistm_seed", 0), settings.get("recipe", "paper"),
        settings.get("threshold", 0.5), n_train, n_test,
    )
    channels = settings.get("student_channels", 3)
    if channels not in (1, 3):
        raise ValueError(f"student_channels must be 1 or 3, got {channels}")
    if channels == 1 and settings.get("recipe", "paper") != "paper":
        raise ValueError("student_channels = 1 is only valid for the paper recipe (three equal channels)")
    as_student = lambda m: (m[..., :channels].reshape(len(m), -1) / 255.0).astype(np.float32)  # noqa: E731
    teacher = np.concatenate([mnist.x_train[:n_train], mnist.x_test[:n_test]]).astype(np.float32) / 255.0
    labels = np.concatenate([mnist.y_train[:n_train], mnist.y_test[:n_test]])
    n = len(mnist.y_train[:n_train])
    return PairedDataset(
        {TEACHER: teacher, STUDENT: np.concatenate([as_student(m_train), as_student(m_test)])}, labels,
        np.arange(n), np.arange(n, len(labels)), name=f"MNIST -> MNIST-M (alpha={alpha:g}, backgrounds: {backgrounds.name})",
    )
