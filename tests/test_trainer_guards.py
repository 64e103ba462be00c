"""The trainer refuses models it would train wrongly on packed rows, and stays exact on the ones it admits.

Refused: architectures whose layers leak state across packed documents (Bamba, Qwen3-Next, LFM2, ...) or whose
attention / logits the packed path does not reproduce (Granite logit scaling, Gemma-2 softcapping, sliding windows).
Admitted beyond llama / qwen3 (tests/test_trainer_equivalence.py) and nemotron_h (tests/test_nemotron_h_packed.py):
qwen2 and mistral without a sliding window, proven here packed ≡ documents one by one.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import (
    AutoModelForCausalLM,
    BambaConfig,
    Gemma2Config,
    GraniteConfig,
    Lfm2Config,
    LlamaConfig,
    LlamaForCausalLM,
    MistralConfig,
    Qwen2Config,
    Qwen3Config,
    Qwen3NextConfig,
)

from trainer import attention
from trainer.config import ModelConfig, TinyModelSpec
from trainer.data import make_micro_batch
from trainer.hybrid import prepare_for_packing
from trainer.loss import reference_cross_entropy_sum
from trainer.mamba_segments import packed_seq_idx
from trainer.model import PackedCausalLM, build_causal_lm
from trainer.synthetic import synthetic_rows

SMALL = dict(vocab_size=128, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
             intermediate_size=64)
NEMOTRON_H_SPEC = dict(
    arch="nemotron_h", hidden=32, layers=3, heads=4, kv_heads=2, head_dim=8, intermediate=48, vocab_size=128,
    extra=dict(hybrid_override_pattern="M*-", ssm_state_size=8, mamba_num_heads=4, mamba_head_dim=8, n_groups=2,
               chunk_size=4),
)

REFUSED = {
    "bamba": (BambaConfig(**SMALL, attn_layer_indices=[1], mamba_n_heads=4, mamba_d_head=16, mamba_d_state=16,
                          mamba_chunk_size=8), "state would leak"),
    "qwen3_next": (Qwen3NextConfig(**SMALL, layer_types=["linear_attention", "full_attention"]),
                   "layer types linear_attention"),
    "lfm2": (Lfm2Config(**SMALL), "conv_L_cache"),
    "granite": (GraniteConfig(**SMALL, logits_scaling=8.0), "'granite'"),
    "gemma2": (Gemma2Config(**SMALL, head_dim=8, final_logit_softcapping=2.0), "final_logit_softcapping=2.0"),
}


@pytest.mark.parametrize("model_type", sorted(REFUSED))
def test_build_refuses_unsupported_architecture_before_loading_weights(model_type: str, tmp_path: Path) -> None:
    hf_config, reason = REFUSED[model_type]
    hf_config.save_pretrained(tmp_path)  # a config and no weights: the refusal must come first
    with pytest.raises(ValueError, match=f"model type '{model_type}'") as refusal:
        build_causal_lm(ModelConfig(name_or_path=str(tmp_path)), seed=0)
    assert reason in str(refusal.value)
    assert "PACKED_EXACT_MODEL_TYPES" in str(refusal.value)  # says what adding support takes


@pytest.mark.parametrize("model_type", ["bamba", "granite"])
def test_models_built_elsewhere_are_refused_by_the_trainer_entry_points(model_type: str) -> None:
    """The reviewer's repros: a BambaMixer passed prepare_for_packing, a Granite model got raw-head logits."""
    model = AutoModelForCausalLM.from_config(REFUSED[model_type][0], attn_implementation=attention.ATTENTION_NAME)
    with pytest.raises(ValueError, match=f"model type '{model_type}'"):
        prepare_for_packing(model)
    with pytest.raises(ValueError, match=f"model type '{model_type}'"):
        PackedCausalLM(model)


@pytest.mark.parametrize("hf_config", [
    MistralConfig(**SMALL),  # sliding_window defaults to 4096
    Qwen3Config(**SMALL, use_sliding_window=True, sliding_window=8, max_window_layers=1),
], ids=["mistral", "qwen3"])
def test_sliding_window_configurations_are_refused(hf_config, tmp_path: Path) -> None:
    hf_config.save_pretrained(tmp_path)
    with pytest.raises(ValueError, match=f"model type '{hf_config.model_type}' is configured with sliding-window"):
        build_causal_lm(ModelConfig(name_or_path=str(tmp_path)), seed=0)


class _RemoteCodeLlama(LlamaForCausalLM):
    """Stands in for trust_remote_code modeling code registered under an allow-listed model type."""


def test_modeling_code_outside_transformers_is_refused() -> None:
    model = _RemoteCodeLlama(LlamaConfig(**SMALL))
    with pytest.raises(ValueError, match="trust_remote_code=False"):
        prepare_for_packing(model)


@pytest.mark.parametrize("spec", [dict(arch="llama"), dict(arch="qwen3"), NEMOTRON_H_SPEC],
                         ids=["llama", "qwen3", "nemotron_h"])
def test_allow_listed_architectures_still_build(spec: dict) -> None:
    causal_lm = build_causal_lm(ModelConfig(tiny=TinyModelSpec(**{"vocab_size": 128, **spec})), seed=0)
    PackedCausalLM(causal_lm)
    assert causal_lm.config.model_type == spec["arch"]


@pytest.mark.parametrize("hf_config", [Qwen2Config(**SMALL), MistralConfig(**SMALL, sliding_window=None)],
                         ids=["qwen2", "mistral"])
def test_admitted_relatives_train_packed_rows_exactly(hf_config, tmp_path: Path) -> None:
    """The allow-list entries beyond llama/qwen3: packed loss and gradients ≡ each document alone (HF SDPA)."""
    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(hf_config).save_pretrained(tmp_path)
    causal_lm = build_causal_lm(ModelConfig(name_or_path=str(tmp_path)), seed=0)
    row = synthetic_rows(1, 120, (5, 50), vocab_size=128, seed=3)[0]
    assert len(row["seq_lengths"]) >= 3
    micro_batch = make_micro_batch([row])
    packed_loss = PackedCausalLM(causal_lm)(**micro_batch.model_inputs(torch.device("cpu")))
    packed_loss.backward()
    packed_grads = {name: p.grad.clone() for name, p in causal_lm.named_parameters()}
    causal_lm.zero_grad(set_to_none=True)

    causal_lm.set_attn_implementation("sdpa")
    reference_loss, start = 0.0, 0
    for length in row["seq_lengths"]:
        ids = torch.tensor(row["input_ids"][start:start + length])
        labels = torch.tensor(row["labels"][start:start + length])
        labels[0] = -100
        reference_loss = reference_loss + reference_cross_entropy_sum(causal_lm(input_ids=ids[None]).logits[0], labels)
        start += length
    reference_loss.backward()

    torch.testing.assert_close(packed_loss, reference_loss, rtol=1e-5, atol=0)
    for name, param in causal_lm.named_parameters():
        torch.testing.assert_close(packed_grads[name], param.grad, rtol=1e-4, atol=1e-5, msg=name)


@pytest.mark.parametrize("feature", [dict(sliding_window=4), dict(softcap=30.0), dict(s_aux=torch.zeros(4))],
                         ids=["sliding_window", "softcap", "s_aux"])
@pytest.mark.parametrize("packed", [True, False], ids=["packed", "unpacked"])
def test_document_attention_refuses_features_it_would_drop(feature: dict, packed: bool) -> None:
    query, key, value = torch.randn(1, 4, 6, 8), torch.randn(1, 2, 6, 8), torch.randn(1, 2, 6, 8)
    boundaries = dict(cu_seq_lens_q=torch.tensor([0, 2, 6], dtype=torch.int32), max_length_q=4) if packed else {}
    layer = torch.nn.Linear(1, 1)
    out, _ = attention.document_attention_forward(layer, query, key, value, None, sliding_window=None, softcap=None,
                                                  s_aux=None, **boundaries)  # control: unset features are fine
    assert out.shape == (1, 6, 4, 8)
    with pytest.raises(ValueError, match=next(iter(feature))):
        attention.document_attention_forward(layer, query, key, value, None, **boundaries, **feature)


def test_seq_idx_must_be_non_decreasing() -> None:
    """The segment-aware scan compares only the ids at a span's two ends, so 0, 1, 0 would join documents 0 and 2."""
    hidden_BTE = torch.zeros(1, 5, 8)
    ordered = packed_seq_idx(hidden_BTE, {"seq_idx": torch.tensor([[0, 0, 1, 1, 2]])})
    assert ordered.tolist() == [[0, 0, 1, 1, 2]]
    with pytest.raises(ValueError, match="non-decreasing"):
        packed_seq_idx(hidden_BTE, {"seq_idx": torch.tensor([[0, 0, 1, 1, 0]])})
