"""Chunked LM head + cross-entropy: the L × vocab logits of a 256K-token row are never materialised.

Only positions that predict a supervised token reach the LM head at all (SFT trains assistant tokens only). Those
hidden states go through the head `chunk` rows at a time; each chunk's gradient with respect to its hidden states and
to the head weight is computed right away (softmax − one-hot), so the forward holds at most chunk × vocab logits and
the backward only rescales the stored gradients — no recomputation, the same matmul count as an unchunked head.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

IGNORE_INDEX = -100


class ChunkedLinearCrossEntropy(torch.autograd.Function):
    """Σ_i CE(hidden_i · Wᵀ, target_i) over the rows of hidden_NH, computed `chunk` rows at a time."""

    @staticmethod
    def forward(ctx, hidden_NH: torch.Tensor, weight_VH: torch.Tensor, target_N: torch.Tensor,
                chunk: int) -> torch.Tensor:
        needs_grad = ctx.needs_input_grad[0] or ctx.needs_input_grad[1]
        loss_sum = torch.zeros((), dtype=torch.float32, device=hidden_NH.device)
        grad_hidden_NH = torch.empty_like(hidden_NH) if needs_grad else None
        grad_weight_VH = torch.zeros_like(weight_VH, dtype=torch.float32) if needs_grad else None
        for start in range(0, hidden_NH.shape[0], chunk):
            hidden_CH = hidden_NH[start:start + chunk]
            target_C = target_N[start:start + chunk]
            logits_CV = (hidden_CH @ weight_VH.T).float()
            logsumexp_C = torch.logsumexp(logits_CV, dim=-1)
            loss_sum += (logsumexp_C - logits_CV.gather(1, target_C[:, None]).squeeze(1)).sum()
            if needs_grad:
                grad_logits_CV = torch.exp(logits_CV - logsumexp_C[:, None])  # softmax, in place of the logits
                grad_logits_CV[torch.arange(target_C.shape[0], device=target_C.device), target_C] -= 1.0
                grad_logits_CV = grad_logits_CV.to(hidden_NH.dtype)
                grad_hidden_NH[start:start + chunk] = grad_logits_CV @ weight_VH
                grad_weight_VH.addmm_(grad_logits_CV.T.float(), hidden_CH.float())
        ctx.save_for_backward(grad_hidden_NH, grad_weight_VH)
        ctx.weight_dtype = weight_VH.dtype
        return loss_sum

    @staticmethod
    def backward(ctx, grad_loss: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None, None, None]:
        grad_hidden_NH, grad_weight_VH = ctx.saved_tensors
        grad_hidden = grad_hidden_NH * grad_loss.to(grad_hidden_NH.dtype) if ctx.needs_input_grad[0] else None
        grad_weight = (grad_weight_VH * grad_loss).to(ctx.weight_dtype) if ctx.needs_input_grad[1] else None
        return grad_hidden, grad_weight, None, None


def chunked_cross_entropy_sum(hidden_NH: torch.Tensor, weight_VH: torch.Tensor, target_N: torch.Tensor,
                              chunk: int = 4096) -> torch.Tensor:
    """Summed (not averaged) token cross-entropy of the LM head over already-selected positions; fp32 scalar."""
    assert hidden_NH.shape[0] == target_N.shape[0], "one target per hidden state"
    if hidden_NH.shape[0] == 0:
        return (hidden_NH.sum() + weight_VH.sum()).float() * 0.0  # keeps the graph so FSDP sees every gradient
    return ChunkedLinearCrossEntropy.apply(hidden_NH, weight_VH, target_N, chunk)


def supervised_positions(labels_L: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(indices of the hidden states that predict a supervised token, those tokens) for unshifted HF labels.

    labels[t] is the token the model must predict from position t − 1; the first token of every document is
    IGNORE_INDEX, so no document's last position is trained on the next document's first token.
    """
    target_positions_S = torch.nonzero(labels_L[1:] != IGNORE_INDEX).squeeze(1) + 1
    return target_positions_S - 1, labels_L[target_positions_S]


def reference_cross_entropy_sum(logits_LV: torch.Tensor, labels_L: torch.Tensor) -> torch.Tensor:
    """The unchunked definition (full logits), for tests and comparisons."""
    return F.cross_entropy(logits_LV[:-1].float(), labels_L[1:], ignore_index=IGNORE_INDEX, reduction="sum")
