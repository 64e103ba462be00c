"""Load a HF causal LM (hub id / local path) or build a tiny one from a config, and wrap it for packed training.

`PackedCausalLM` is the module FSDP shards as its root: its forward runs the base model on one flattened packed row
with document boundaries, then the chunked LM head + cross-entropy over the supervised positions only. Putting the
head inside the root's forward lets FSDP unshard `lm_head` there (the HF `forward` would materialise all logits).
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import AutoConfig, AutoModelForCausalLM, PreTrainedModel

from trainer import attention
from trainer.config import ModelConfig, TinyModelSpec
from trainer.hybrid import check_packed_training_support, prepare_for_packing
from trainer.loss import chunked_cross_entropy_sum


def tiny_model_config(spec: TinyModelSpec):
    """The transformers config of a small model of the given architecture."""
    common = dict(
        hidden_size=spec.hidden, num_hidden_layers=spec.layers, num_attention_heads=spec.heads,
        num_key_value_heads=spec.kv_heads, intermediate_size=spec.intermediate, vocab_size=spec.vocab_size,
        max_position_embeddings=spec.max_position, tie_word_embeddings=spec.tie_embeddings,
    )
    if spec.head_dim is not None:
        common["head_dim"] = spec.head_dim
    if spec.arch == "llama":
        from transformers import LlamaConfig

        return LlamaConfig(**common, rope_parameters={"rope_type": "default", "rope_theta": spec.rope_theta},
                           **spec.extra)
    if spec.arch == "qwen3":
        from transformers import Qwen3Config

        return Qwen3Config(**common, rope_parameters={"rope_type": "default", "rope_theta": spec.rope_theta},
                           **spec.extra)
    from transformers import NemotronHConfig

    return NemotronHConfig(**common, **spec.extra)


def build_causal_lm(config: ModelConfig, seed: int, on_meta: bool = False) -> PreTrainedModel:
    """fp32 master weights, per-document attention, and hybrid layers made packing-safe.

    Raises ValueError (before reading weights) for an architecture packed training is not known to be exact for:
    see `trainer.hybrid.check_packed_training_support`.

    `on_meta` builds the same architecture without memory or weights (ranks other than 0 in a multi-process job,
    which receive rank 0's weights after sharding): one full CPU copy per node instead of one per rank.
    """
    hf_config = tiny_model_config(config.tiny) if config.tiny is not None else AutoConfig.from_pretrained(
        config.name_or_path, trust_remote_code=config.trust_remote_code)
    check_packed_training_support(hf_config)  # before any weights are read
    if on_meta:
        with torch.device("meta"):
            model = AutoModelForCausalLM.from_config(hf_config, dtype=torch.float32,
                                                     attn_implementation=attention.ATTENTION_NAME,
                                                     trust_remote_code=config.trust_remote_code)
    elif config.tiny is not None:
        torch.manual_seed(seed)  # the same initial weights in every run
        model = AutoModelForCausalLM.from_config(hf_config, dtype=torch.float32,
                                                 attn_implementation=attention.ATTENTION_NAME)
    else:
        model = AutoModelForCausalLM.from_pretrained(
            config.name_or_path, config=hf_config, dtype=torch.float32, attn_implementation=attention.ATTENTION_NAME,
            trust_remote_code=config.trust_remote_code,
        )
    model.config.use_cache = False
    prepare_for_packing(model)
    return model


def decoder_blocks(model: PreTrainedModel) -> list[nn.Module]:
    """The repeated transformer blocks (HF's `_no_split_modules` classes): the FSDP and checkpointing units."""
    block_classes = set(model._no_split_modules or ())
    blocks = [module for module in model.modules() if type(module).__name__ in block_classes]
    assert blocks, f"{type(model).__name__} declares no decoder block class in _no_split_modules"
    return blocks


class PackedCausalLM(nn.Module):
    """Causal LM + chunked loss on one packed row (batch 1): returns the summed loss of its supervised tokens.

    Logits are the raw LM head's (`hidden @ W.T`), which is what the allow-listed architectures compute; models that
    scale or softcap their logits (Granite, Cohere, Gemma-2/3) are refused here rather than trained on other logits.
    """

    def __init__(self, causal_lm: PreTrainedModel, loss_chunk_tokens: int = 4096) -> None:
        check_packed_training_support(causal_lm.config)
        super().__init__()
        self.causal_lm = causal_lm
        self.loss_chunk_tokens = loss_chunk_tokens

    def forward(self, input_ids_1L: torch.Tensor, position_ids_1L: torch.Tensor, cu_seqlens_N: torch.Tensor,
                max_seqlen: int, predictor_index_S: torch.Tensor, target_S: torch.Tensor) -> torch.Tensor:
        hidden_1LH = self.causal_lm.base_model(
            input_ids=input_ids_1L, position_ids=position_ids_1L, use_cache=False,
            cu_seq_lens_q=cu_seqlens_N, cu_seq_lens_k=cu_seqlens_N, max_length_q=max_seqlen, max_length_k=max_seqlen,
        ).last_hidden_state
        head_weight_VH = self.causal_lm.get_output_embeddings().weight
        return chunked_cross_entropy_sum(hidden_1LH[0, predictor_index_S], head_weight_VH, target_S,
                                         self.loss_chunk_tokens)
