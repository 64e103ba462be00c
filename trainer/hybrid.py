"""Refuse models the packed trainer would train wrongly, and make hybrid (Mamba-2 + attention + MoE) ones safe.

Packed training is exact only where every layer keeps the documents of a row apart and the loss sees the logits
the model defines. Neither fails loudly when broken: a recurrent or conv mixer (Bamba, Falcon-H1, Granite hybrids,
gated-delta-net and short-conv layers) carries its state into the next document, and attention / head features the
packed path does not implement (sliding windows, attention softcapping and sinks, Granite / Cohere logit scaling,
Gemma final-logit softcapping) would be skipped. So `check_packed_training_support` admits only the model types in
`PACKED_EXACT_MODEL_TYPES`, each proven by a packed-row ≡ documents-one-by-one test, in transformers' own
implementation (remote code may differ in any of the above), and raises ValueError for anything else.

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
from transformers import PreTrainedConfig
from transformers.models.nemotron_h.modeling_nemotron_h import NemotronHMamba2Mixer

from trainer.mamba_segments import SegmentAwareNemotronHMamba2Mixer, seq_idx_from_position_ids

PackingBackend = Literal["auto", "torch", "fused"]
_HOOK_FLAG = "_cascade_packing_hook"

# model_type → why its packed forward equals the per-document one (tests/test_trainer_equivalence.py,
# tests/test_trainer_guards.py, tests/test_nemotron_h_packed.py prove each). All use the raw LM head for logits.
PACKED_EXACT_MODEL_TYPES: dict[str, str] = {
    "llama": "plain causal attention",
    "qwen2": "plain causal attention (refused when a layer uses the sliding window)",
    "qwen3": "plain causal attention with q/k norms (refused when a layer uses the sliding window)",
    "mistral": "plain causal attention (refused when sliding_window is set)",
    "nemotron_h": "plain causal attention, Mamba-2 mixers made segment-aware below, per-token MoE routing",
}


def check_packed_training_support(hf_config: PreTrainedConfig) -> None:
    """Raise ValueError unless packed training of this architecture computes what per-document training computes.

    Config-level, so `build_causal_lm` can refuse before loading any weights.
    """
    model_type = getattr(hf_config, "model_type", None)
    if model_type not in PACKED_EXACT_MODEL_TYPES:
        found = _packing_hazards(hf_config)
        raise ValueError(
            f"model type {model_type!r} ({type(hf_config).__name__}) is not supported by the packed trainer, which "
            f"is proven exact only for {', '.join(sorted(PACKED_EXACT_MODEL_TYPES))}. "
            + (f"This config has {'; '.join(found)}. " if found else "")
            + "On other architectures it could train wrongly without an error: recurrent or conv mixers (Mamba "
            "variants, gated delta nets, short convs) leak state across the documents of a packed row, and attention "
            "or LM-head features it does not implement (sliding windows, attention softcapping or sinks, logit "
            "scaling or softcapping) would be skipped. Support needs a per-document path for such layers, an entry in "
            "trainer.hybrid.PACKED_EXACT_MODEL_TYPES and a packed-row vs documents-one-by-one equivalence test."
        )
    layer_types = getattr(hf_config, "layer_types", None) or ()
    sliding = "sliding_attention" in layer_types or (
        model_type == "mistral" and getattr(hf_config, "sliding_window", None) is not None
    )
    if sliding:
        raise ValueError(
            f"model type {model_type!r} is configured with sliding-window attention (sliding_window="
            f"{getattr(hf_config, 'sliding_window', None)}), which the packed trainer's per-document attention does "
            "not implement; use the full-attention configuration (Mistral: sliding_window=None; Qwen: "
            "use_sliding_window=False) or a model without it"
        )


_PLAIN_LAYER_TYPES = {"full_attention", "attention", "mlp", "moe"}
_LOGIT_TRANSFORMS = {"logits_scaling": 1.0, "logit_scale": 1.0, "final_logit_softcapping": None,
                     "attn_logit_softcapping": None}  # attribute → the value that means "no transform"


def _packing_hazards(hf_config: PreTrainedConfig) -> list[str]:
    """What in a config is known to break packed training, to say why a model type is refused."""
    settings = hf_config.to_dict()
    hazards = []
    layer_kinds = set(settings.get("layer_types") or ()) | set(settings.get("layers_block_type") or ())
    mixer_settings = sorted(key for key in settings if key.startswith(("mamba_", "linear_", "ssm_", "conv_L")))
    if layer_kinds - _PLAIN_LAYER_TYPES - {"sliding_attention"} or mixer_settings:
        kinds = sorted(layer_kinds - _PLAIN_LAYER_TYPES - {"sliding_attention"})
        evidence = f"layer types {', '.join(kinds)}" if kinds else f"settings {', '.join(mixer_settings[:3])}, …"
        hazards.append(f"recurrent or conv mixer layers ({evidence}) whose state would leak across documents")
    if "sliding_attention" in layer_kinds or (not layer_kinds and settings.get("sliding_window") is not None):
        hazards.append(f"sliding-window attention (sliding_window={settings.get('sliding_window')})")
    hazards += [f"logit transform {name}={settings[name]}" for name, identity in _LOGIT_TRANSFORMS.items()
                if settings.get(name, identity) != identity]
    return hazards


def _require_builtin_implementation(model: nn.Module) -> None:
    """The allow-list vouches for transformers' own modeling code, not for remote code under the same model type."""
    module_name = type(model).__module__
    if not module_name.startswith("transformers.models."):
        raise ValueError(
            f"{type(model).__name__} comes from {module_name}, not from transformers' built-in "
            f"{getattr(model.config, 'model_type', '?')!r} implementation, so packed training is not known to be "
            "exact for it (state leakage, skipped attention features); load it with trust_remote_code=False"
        )


def mamba_mixers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Every Mamba mixer in the model, by qualified name."""
    return [(name, module) for name, module in model.named_modules() if _is_mamba_mixer(module)]


def _is_mamba_mixer(module: nn.Module) -> bool:
    """Name-based, so it finds Mamba-2 mixers only: safety comes from the model-type allow-list, not from this."""
    class_name = type(module).__name__
    return "Mamba" in class_name and class_name.endswith("Mixer")


def prepare_for_packing(model: nn.Module, backend: PackingBackend = "auto") -> None:
    """Patch the model in place so no conv or SSM state crosses a document boundary of a packed row.

    backend: "auto" uses the fused mamba_ssm / causal_conv1d kernels (with seq_idx) on CUDA when installed and the
    segment-aware torch path otherwise; "torch" or "fused" forces one. Idempotent; call before FSDP wrapping.
    Raises ValueError for a model the packed trainer is not known to train exactly (`check_packed_training_support`).
    """
    check_packed_training_support(model.config)
    _require_builtin_implementation(model)
    mixers = mamba_mixers(model)
    if not mixers:
        return
    assert all(isinstance(mixer, NemotronHMamba2Mixer) for _, mixer in mixers), "allow-list admitted a foreign mixer"
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
