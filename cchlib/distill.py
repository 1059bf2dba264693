"""Knowledge-distillation objectives, as plain functions.

Both work on a leading stack of independent models: outputs have shape
(..., n, k) and the loss is averaged over the n samples only, so a stack of M models
gets M losses (one per model) and ``lam`` may differ per model (shape (...,)).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def regression_kd_loss(
    student: torch.Tensor, target: torch.Tensor, teacher: torch.Tensor, lam
) -> torch.Tensor:
    """Eq. (4) in mean form: MSE(y, student) + lam * MSE(student, teacher).

    ``student``, ``target`` and ``teacher`` have the same shape (..., n) or (..., n, 1);
    ``lam = 0`` gives the plain regression loss of a student without a teacher.
    """
    if not (student.shape == target.shape == teacher.shape):
        raise ValueError(
            f"student {tuple(student.shape)}, target {tuple(target.shape)} and teacher "
            f"{tuple(teacher.shape)} outputs must have the same shape"
        )
    if student.dim() >= 2 and student.shape[-1] == 1:
        student, target, teacher = student[..., 0], target[..., 0], teacher[..., 0]
    lam = torch.as_tensor(lam, dtype=student.dtype, device=student.device)
    return ((target - student) ** 2).mean(-1) + lam * ((student - teacher) ** 2).mean(-1)


def cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the n samples: logits (..., n, K), integer labels (..., n).

    The label term of Eq. (2), and the loss of a teacher or a student without one.
    """
    log_p = F.log_softmax(logits, dim=-1)
    return -log_p.gather(-1, labels.long().unsqueeze(-1)).squeeze(-1).mean(-1)


def classification_kd_loss(
    student_logits: torch.Tensor,
    labels: torch.Tensor,
    teacher_logits: torch.Tensor,
    lam,
    temperature: float,
) -> torch.Tensor:
    """Eq. (2): (1 - lam) CE(y, softmax(z_s)) + lam T^2 KL(softmax(z_t/T) || softmax(z_s/T)).

    Logits have shape (..., n, K) and labels (..., n) (integer classes). The T^2 factor
    keeps the distillation gradient's scale independent of the temperature (Hinton et
    al., 2015).
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    lam = torch.as_tensor(lam, dtype=student_logits.dtype, device=student_logits.device)
    ce = cross_entropy(student_logits, labels)
    log_ps_t = F.log_softmax(student_logits / temperature, dim=-1)
    log_pt_t = F.log_softmax(teacher_logits / temperature, dim=-1)
    kl = (log_pt_t.exp() * (log_pt_t - log_ps_t)).sum(-1).mean(-1)
    return (1 - lam) * ce + lam * temperature**2 * kl


def fusion_kd_loss(outputs: torch.Tensor, labels: torch.Tensor, lam, temperature: float) -> torch.Tensor:
    """Fusion+KD in one network (the paper's Table 18): CE(joint) + CE(head 1) + Eq. (2) on head 2.

    ``outputs`` (..., n, 3K) are [joint logits, modality-1 head, modality-2 head]. The
    modality-2 (student) head is distilled from the modality-1 (teacher) head's detached
    soft targets; ``lam = 0`` (direct fusion) leaves three plain cross-entropy terms.
    """
    k = outputs.shape[-1] // 3
    joint, head1, head2 = outputs[..., :k], outputs[..., k : 2 * k], outputs[..., 2 * k :]
    return (cross_entropy(joint, labels) + cross_entropy(head1, labels)
            + classification_kd_loss(head2, labels, head1.detach(), lam, temperature))
