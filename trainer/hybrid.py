"""Make hybrid (Mamba-2 + attention + MoE) models safe to train on packed rows.

The trainer calls `prepare_for_packing(model)` on every model it builds. Models without Mamba layers are left alone.
For Nemotron-H every `NemotronHMamba2Mixer` becomes a `SegmentAwareNemotronHMamba2Mixer` (trainer/mamba_segments.py;
same parameters and state-dict keys), so its conv and SSM state restart at each document of a packed row.

What the patch relies on: `NemotronHBlock` hands its `**kwargs` to the Mamba mixer, so the `cu_seq_lens_q` the
trainer passes for packed attention (or an explicit `seq_idx`) reaches every mixer. A forward pre-hook on the base
model (`model.base_model`, which the causal-LM wrapper calls too) covers the other packed convention, `position_ids`
restarting at 0 with no `cu_seq_lens_q` (and no attention mask or cache, i.e. not generation): it adds the derived
`seq_idx`. Packed forwards never build a generation cache (the hook sets `use_cache=False`).

MoE layers need nothing: the Nemotron-H router scores each token on its own (sigmoid + top-k, aux-loss-free
balancing through a fixed `e_score_correction_bias` buffer; transformers computes no auxiliary loss for it), with
no capacity limit or token dropping, so routing is unaffected by what else is packed in the row.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from torch import nn
from transformers.models.nemotron_h.modeling_nemotron_h import NemotronHMamba2Mixer

from trainer.mamba_segments import SegmentAwareNemotronHMamba2Mixer, seq_idx_from_position_ids

PackingBackend = Literal["auto", "torch", "fused"]
_HOOK_FLAG = "_cascade_packing_hook"


def mamba_mixers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Every Mamba mixer in the model, by qualified name."""
    return [(name, module) for name, module in model.named_modules() if _is_mamba_mixer(module)]


def _is_mamba_mixer(module: nn.Module) -> bool:
    class_name = type(module).__name__
    return "Mamba" in class_name and class_name.endswith("Mixer")


def prepare_for_packing(model: nn.Module, backend: PackingBackend = "auto") -> None:
    """Patch the model in place so no conv or SSM state crosses a document boundary of a packed row.

    backend: "auto" uses the fused mamba_ssm / causal_conv1d kernels (with seq_idx) on CUDA when installed and the
    segment-aware torch path otherwise; "torch" or "fused" forces one. Idempotent; call before FSDP wrapping.
    """
    mixers = mamba_mixers(model)
    if not mixers:
        return
    supported = {NemotronHMamba2Mixer.__name__, SegmentAwareNemotronHMamba2Mixer.__name__}
    unsupported = sorted({type(mixer).__name__ for _, mixer in mixers} - supported)
    if unsupported:
        raise NotImplementedError(
            f"packed training is only implemented for Nemotron-H Mamba-2 mixers; {type(model).__name__} has "
            f"{', '.join(unsupported)}, whose state would leak across packed documents"
        )
    for _, mixer in mixers:
        mixer.__class__ = SegmentAwareNemotronHMamba2Mixer
        mixer.packing_backend = backend
    base_model = getattr(model, "base_model", model)  # the trainer calls the base model directly
    if not getattr(base_model, _HOOK_FLAG, False):
        base_model.register_forward_pre_hook(_packed_forward_kwargs, with_kwargs=True)
        setattr(base_model, _HOOK_FLAG, True)


def _packed_forward_kwargs(
    module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Give the mixers document boundaries from packed position_ids, and keep packed forwards cache-free.

    Position ids count as packed only in a padding-free training call: no attention mask and no cache requested
    (generation with left padding also has position ids that restart, and must stay untouched).
    """
    wants_cache = bool(kwargs.get("use_cache")) or any(
        kwargs.get(name) is not None for name in ("cache", "past_key_values")
    )
    if kwargs.get("seq_idx") is None and kwargs.get("cu_seq_lens_q") is None:
        position_ids = kwargs.get("position_ids")
        padding_free = kwargs.get("attention_mask") is None and not wants_cache
        if not (padding_free and isinstance(position_ids, torch.Tensor) and position_ids.dim() == 2):
            return args, kwargs
        seq_idx_BT = seq_idx_from_position_ids(position_ids)
        if seq_idx_BT is None:
            return args, kwargs
        kwargs = kwargs | {"seq_idx": seq_idx_BT}
    if wants_cache:
        raise ValueError("a packed forward (cu_seq_lens_q or seq_idx given) cannot use a generation cache")
    return args, kwargs | {"use_cache": False}
