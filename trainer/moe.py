"""Mixture-of-experts facts the trainer needs beyond the model itself.

Nemotron-H routing needs no change for packing (see trainer/hybrid.py); what MoE does change is how much of the
model one token uses. FLOP and MFU figures built on the total parameter count overstate an MoE model's work by the
ratio of total to active parameters (about 9x for Nemotron-3-Nano-30B-A3B: 128 routed experts, 6 used per token).
"""

from __future__ import annotations

from torch import nn


def active_body_params(causal_lm: nn.Module) -> int:
    """Parameters outside the embeddings and LM head that one token runs through.

    A routed-experts module (class name ending in "Experts", with `num_experts`, as transformers 5 stores experts
    as stacked tensors) counts `num_experts_per_tok / num_experts` of its parameters; everything else counts fully.
    """
    embeddings = {id(causal_lm.get_input_embeddings().weight), id(causal_lm.get_output_embeddings().weight)}
    experts_per_token = getattr(causal_lm.config, "num_experts_per_tok", None)
    total = 0.0
    for module in causal_lm.modules():
        share = 1.0
        if type(module).__name__.endswith("Experts") and hasattr(module, "num_experts") and experts_per_token:
            share = experts_per_token / module.num_experts
        total += share * sum(p.numel() for p in module.parameters(recurse=False) if id(p) not in embeddings)
    return round(total)
