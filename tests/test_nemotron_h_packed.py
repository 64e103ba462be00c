"""Packed training of a hybrid Mamba-2 + attention + MoE model (tiny Nemotron-H) must not leak across documents.

Reference everywhere: transformers' own torch path run on each document alone (no packing, nothing to leak).
Tolerances (fp32): losses within 1e-5 relative; each gradient within 1e-4 of its tensor's largest entry.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
import yaml
from safetensors.torch import load_file
from transformers import AttentionInterface, LlamaConfig, LlamaForCausalLM, NemotronHConfig, NemotronHForCausalLM
from transformers.models.nemotron_h import modeling_nemotron_h

from tests.test_trainer_training import PROJECT_ROOT, _logged_losses, _subprocess_env
from trainer.hybrid import mamba_mixers, prepare_for_packing
from trainer.mamba_segments import (
    SegmentAwareNemotronHMamba2Mixer,
    segment_causal_conv1d,
    segment_ssd_scan,
    seq_idx_from_cu_seqlens,
    seq_idx_from_position_ids,
)
from trainer.moe import active_body_params

DOC_LENGTHS = [5, 11, 3, 1, 6]  # with chunk_size 4: boundaries mid-chunk (5, 19) and on chunk edges (16, 20)
VOCAB = 64


def _per_document_attention(module, query_BHLD, key_BKLD, value_BKLD, attention_mask, scaling=None, dropout=0.0,
                            cu_seq_lens_q=None, **kwargs):
    """Causal SDPA inside each document of the packed row (a whole row is one document without cu_seq_lens_q)."""
    bounds = [0, query_BHLD.shape[2]] if cu_seq_lens_q is None else cu_seq_lens_q.tolist()
    outputs = [
        F.scaled_dot_product_attention(query_BHLD[:, :, start:end], key_BKLD[:, :, start:end],
                                       value_BKLD[:, :, start:end], is_causal=True, scale=scaling, enable_gqa=True)
        for start, end in zip(bounds[:-1], bounds[1:], strict=True)
    ]
    return torch.cat(outputs, dim=2).transpose(1, 2).contiguous(), None


AttentionInterface.register("test_nemotron_h_docs", _per_document_attention)


def tiny_nemotron_h(pattern: str = "M*EM-E", seed: int = 0) -> NemotronHForCausalLM:
    """Mamba (M), attention (*), MoE (E) and MLP (-) layers, small dims, fp32, several SSD chunks per document.

    Weights 15x the usual init scale so that a leak shows in the loss, not only in the gradients.
    """
    config = NemotronHConfig(
        vocab_size=VOCAB, hidden_size=32, hybrid_override_pattern=pattern, num_attention_heads=4,
        num_key_value_heads=2, head_dim=8, intermediate_size=48, ssm_state_size=8, mamba_num_heads=4,
        mamba_head_dim=8, n_groups=2, conv_kernel=4, chunk_size=4, n_routed_experts=4, num_experts_per_tok=2,
        moe_intermediate_size=16, moe_shared_expert_intermediate_size=16, initializer_range=0.3, use_cache=False,
        attn_implementation="test_nemotron_h_docs",
    )
    torch.manual_seed(seed)
    model = NemotronHForCausalLM(config).float().train()
    with torch.no_grad():  # steps of dt ≈ 1 with decays 0.2…0.95 per step: the SSM state matters and carries far
        for _, mixer in mamba_mixers(model):
            mixer.A_log.uniform_(-3.0, 0.5)
            mixer.dt_bias.uniform_(0.0, 1.0)
    return model


def packed_batch(seed: int = 1) -> tuple[list[torch.Tensor], dict[str, torch.Tensor | int]]:
    generator = torch.Generator().manual_seed(seed)
    docs = [torch.randint(0, VOCAB, (1, n), generator=generator) for n in DOC_LENGTHS]
    cu_seqlens_N = torch.tensor([0, *torch.tensor(DOC_LENGTHS).cumsum(0).tolist()], dtype=torch.int32)
    position_ids_1L = torch.cat([torch.arange(n) for n in DOC_LENGTHS])[None]
    kwargs = dict(input_ids=torch.cat(docs, dim=1), position_ids=position_ids_1L, cu_seq_lens_q=cu_seqlens_N,
                  cu_seq_lens_k=cu_seqlens_N, max_length_q=max(DOC_LENGTHS), max_length_k=max(DOC_LENGTHS))
    return docs, kwargs


def _next_token_loss_sum(logits_LV: torch.Tensor, ids_L: torch.Tensor, bounds: list[int]) -> torch.Tensor:
    return sum(F.cross_entropy(logits_LV[start:end - 1], ids_L[start + 1:end], reduction="sum")
               for start, end in zip(bounds[:-1], bounds[1:], strict=True))


def loss_and_grads(model: NemotronHForCausalLM, loss_fn) -> tuple[float, dict[str, torch.Tensor]]:
    model.zero_grad(set_to_none=True)
    loss = loss_fn()
    loss.backward()
    return loss.item(), {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}


def packed_loss(model, kwargs) -> torch.Tensor:
    logits_LV = model(**kwargs).logits[0]
    return _next_token_loss_sum(logits_LV, kwargs["input_ids"][0], kwargs["cu_seq_lens_q"].tolist())


def documents_loss(model, docs) -> torch.Tensor:
    return sum(_next_token_loss_sum(model(input_ids=doc).logits[0], doc[0], [0, doc.shape[1]]) for doc in docs)


def assert_grads_close(got: dict[str, torch.Tensor], want: dict[str, torch.Tensor]) -> None:
    assert got.keys() == want.keys()
    for name, grad in want.items():
        scale = max(grad.abs().max().item(), 1e-6)
        assert (got[name] - grad).abs().max().item() <= 1e-4 * scale, name


def max_relative_grad_gap(got: dict[str, torch.Tensor], want: dict[str, torch.Tensor]) -> float:
    return max((got[n] - g).abs().max().item() / max(g.abs().max().item(), 1e-6) for n, g in want.items())


# ---- the whole model: packed row ≡ documents one by one ----

def test_packed_row_matches_documents_run_one_by_one():
    model = tiny_nemotron_h()
    prepare_for_packing(model)
    docs, kwargs = packed_batch()
    got_loss, got_grads = loss_and_grads(model, lambda: packed_loss(model, kwargs))
    want_loss, want_grads = loss_and_grads(model, lambda: documents_loss(model, docs))
    assert got_loss == pytest.approx(want_loss, rel=1e-5)
    assert_grads_close(got_grads, want_grads)
    assert any("mixer.experts" in name for name in got_grads) and any("A_log" in name for name in got_grads)


def test_plain_transformers_path_leaks_across_documents():
    """Same weights and per-document attention, no patch: the Mamba layers carry state into the next document."""
    model = tiny_nemotron_h()
    docs, kwargs = packed_batch()
    got_loss, got_grads = loss_and_grads(model, lambda: packed_loss(model, kwargs))
    want_loss, want_grads = loss_and_grads(model, lambda: documents_loss(model, docs))
    assert abs(got_loss - want_loss) > 1e-3 * abs(want_loss)
    assert max_relative_grad_gap(got_grads, want_grads) > 1e-2


def test_packed_position_ids_alone_reset_mamba_state():
    """Without cu_seq_lens (HF padding-free convention) the documents come from position_ids restarting at 0."""
    model = tiny_nemotron_h(pattern="MEM")  # no attention layer: the test attention needs cu_seq_lens
    prepare_for_packing(model)
    docs, kwargs = packed_batch()
    bounds = kwargs["cu_seq_lens_q"].tolist()
    with torch.no_grad():
        logits_LV = model(input_ids=kwargs["input_ids"], position_ids=kwargs["position_ids"]).logits[0]
        for doc, start in zip(docs, bounds, strict=False):
            torch.testing.assert_close(logits_LV[start:start + doc.shape[1]], model(input_ids=doc).logits[0],
                                       rtol=1e-5, atol=1e-5)


def test_packed_forward_refuses_a_cache():
    model = tiny_nemotron_h()
    prepare_for_packing(model)
    _, kwargs = packed_batch()
    with pytest.raises(ValueError, match="cache"):
        model(**kwargs, use_cache=True)


def test_left_padded_generation_is_unchanged_by_the_patch():
    """Generation's position ids restart after left padding too; with a mask and a cache they are not documents."""
    plain, patched = tiny_nemotron_h(), tiny_nemotron_h()
    prepare_for_packing(patched)
    prompts = torch.randint(1, VOCAB, (2, 7), generator=torch.Generator().manual_seed(5))
    attention_mask = torch.ones_like(prompts)
    prompts[0, :3], attention_mask[0, :3] = 0, 0
    outputs = []
    for model in (plain, patched):
        model.eval().set_attn_implementation("sdpa")
        outputs.append(model.generate(input_ids=prompts, attention_mask=attention_mask, max_new_tokens=4,
                                      do_sample=False, use_cache=True, pad_token_id=0))
    torch.testing.assert_close(outputs[1], outputs[0], rtol=0, atol=0)


def test_prepare_for_packing_keeps_weights_and_is_idempotent():
    model = tiny_nemotron_h()
    state_before = {k: v.clone() for k, v in model.state_dict().items()}
    prepare_for_packing(model)
    prepare_for_packing(model)
    mixers = mamba_mixers(model)
    assert len(mixers) == 2 and all(type(m) is SegmentAwareNemotronHMamba2Mixer for _, m in mixers)
    state_after = model.state_dict()
    assert state_after.keys() == state_before.keys()
    assert all(torch.equal(state_after[k], v) for k, v in state_before.items())
    assert len(model.base_model._forward_pre_hooks) == 1


def test_models_without_mamba_are_untouched():
    model = LlamaForCausalLM(LlamaConfig(vocab_size=VOCAB, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                         num_key_value_heads=1, intermediate_size=32))
    classes_before = [type(m) for m in model.modules()]
    prepare_for_packing(model)
    assert [type(m) for m in model.modules()] == classes_before
    assert not model.base_model._forward_pre_hooks


def test_fused_backend_needs_cuda_kernels():
    model = tiny_nemotron_h()
    prepare_for_packing(model, backend="fused")
    _, kwargs = packed_batch()
    with pytest.raises(ValueError, match="fused"):
        model(**kwargs)


# ---- the layer: segment-aware conv and scan ≡ transformers' torch path on each document in isolation ----

def _segments(seq_idx_T: torch.Tensor) -> list[tuple[int, int]]:
    change_points = (torch.nonzero(seq_idx_T[1:] != seq_idx_T[:-1]).flatten() + 1).tolist()
    bounds = [0, *change_points, seq_idx_T.numel()]
    return list(zip(bounds[:-1], bounds[1:], strict=True))


ROW_SEQ_IDX = torch.tensor([[0] * 5 + [1] * 11 + [2] * 3 + [3] + [4] * 6, [7] * 26], dtype=torch.int32)


def test_segment_conv_matches_conv_of_each_document():
    generator = torch.Generator().manual_seed(0)
    x_BTD = torch.randn(2, 26, 6, generator=generator)
    weight_DW, bias_D = torch.randn(6, 4, generator=generator), torch.randn(6, generator=generator)
    y_BTD = segment_causal_conv1d(x_BTD, weight_DW, bias_D, ROW_SEQ_IDX)
    for row in range(2):
        for start, end in _segments(ROW_SEQ_IDX[row]):
            want_DT = modeling_nemotron_h.causal_conv1d_fn(x_BTD[row:row + 1, start:end].transpose(1, 2), weight_DW,
                                                           bias_D)
            torch.testing.assert_close(y_BTD[row, start:end], want_DT[0].T, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("chunk_size", [4, 8, 64])
def test_segment_scan_matches_scan_of_each_document(chunk_size: int):
    generator = torch.Generator().manual_seed(chunk_size)
    batch, seq_len, heads, head_dim, groups, state = 2, 26, 4, 3, 2, 5
    x_BTHP = torch.randn(batch, seq_len, heads, head_dim, generator=generator)
    dt_BTH = torch.rand(batch, seq_len, heads, generator=generator) * 0.5
    A_H = -torch.rand(heads, generator=generator) - 0.05
    B_BTGN = torch.randn(batch, seq_len, groups, state, generator=generator)
    C_BTGN = torch.randn(batch, seq_len, groups, state, generator=generator)
    y_BTHP = segment_ssd_scan(x_BTHP, dt_BTH, A_H, B_BTGN, C_BTGN, ROW_SEQ_IDX, chunk_size)
    for row in range(batch):
        for start, end in _segments(ROW_SEQ_IDX[row]):
            piece = slice(start, end)
            want_1THP = modeling_nemotron_h.mamba2_chunk_scan(
                x_BTHP[row:row + 1, piece], dt_BTH[row:row + 1, piece], A_H, B_BTGN[row:row + 1, piece],
                C_BTGN[row:row + 1, piece], chunk_size=chunk_size,
            )
            torch.testing.assert_close(y_BTHP[row, piece], want_1THP[0], rtol=1e-5, atol=1e-5)


def test_segment_scan_output_does_not_depend_on_earlier_documents():
    generator = torch.Generator().manual_seed(3)
    x_BTHP = torch.randn(1, 26, 2, 3, generator=generator, requires_grad=True)
    dt_BTH = (torch.rand(1, 26, 2, generator=generator) * 0.5).requires_grad_()
    B_BTGN = torch.randn(1, 26, 1, 4, generator=generator, requires_grad=True)
    y_BTHP = segment_ssd_scan(x_BTHP, dt_BTH, -torch.ones(2), B_BTGN, torch.randn(1, 26, 1, 4, generator=generator),
                              ROW_SEQ_IDX[:1], chunk_size=4)
    y_BTHP[:, 16:].sum().backward()  # documents 2..4 only
    for grad in (x_BTHP.grad, dt_BTH.grad, B_BTGN.grad):
        assert torch.count_nonzero(grad[:, :16]) == 0
        assert torch.count_nonzero(grad[:, 16:]) > 0


def test_seq_idx_from_boundaries():
    torch.testing.assert_close(seq_idx_from_cu_seqlens(torch.tensor([0, 2, 5]), 1, 5),
                               torch.tensor([[0, 0, 1, 1, 1]], dtype=torch.int32))
    assert seq_idx_from_position_ids(torch.arange(5)[None]) is None
    torch.testing.assert_close(seq_idx_from_position_ids(torch.tensor([[0, 1, 0, 1, 2]])),
                               torch.tensor([[1, 1, 2, 2, 2]], dtype=torch.int32))
    with pytest.raises(ValueError, match="cu_seqlens"):
        seq_idx_from_cu_seqlens(torch.tensor([0, 2, 4]), 1, 5)


# ---- MoE: routing is per token, so packing cannot change it ----

def test_moe_layer_output_per_token_is_independent_of_packing():
    model = tiny_nemotron_h()
    moe = next(block.mixer for block in model.model.layers if block.block_type == "moe")
    with torch.no_grad():
        moe.gate.weight.normal_()  # decisive routing
        hidden_1LE = torch.randn(1, sum(DOC_LENGTHS), 32)
        packed_1LE = moe(hidden_1LE)
        bounds = [0, *torch.tensor(DOC_LENGTHS).cumsum(0).tolist()]
        alone_1LE = torch.cat([moe(hidden_1LE[:, s:e]) for s, e in zip(bounds[:-1], bounds[1:], strict=True)], dim=1)
    torch.testing.assert_close(packed_1LE, alone_1LE, rtol=1e-6, atol=1e-6)



def test_active_params_count_only_the_routed_experts_a_token_uses():
    model = tiny_nemotron_h()  # 2 MoE layers, 4 experts of up 16x32 and down 32x16, top 2
    config = model.config
    body = sum(p.numel() for n, p in model.named_parameters() if n not in ("model.embeddings.weight", "lm_head.weight"))
    routed_per_layer = config.n_routed_experts * 2 * config.moe_intermediate_size * config.hidden_size
    unused = 2 * routed_per_layer * (1 - config.num_experts_per_tok / config.n_routed_experts)
    assert active_body_params(model) == body - unused
    llama = LlamaForCausalLM(LlamaConfig(vocab_size=VOCAB, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                         num_key_value_heads=1, intermediate_size=32))
    llama_body = sum(p.numel() for n, p in llama.named_parameters() if "embed" not in n and "lm_head" not in n)
    assert active_body_params(llama) == llama_body

# ---- through the trainer: build_causal_lm patches Nemotron-H, and FSDP2 training on packed rows resumes exactly ----

TINY_SPEC = dict(
    arch="nemotron_h", hidden=32, layers=6, heads=4, kv_heads=2, head_dim=8, intermediate=48, vocab_size=VOCAB,
    extra=dict(hybrid_override_pattern="M*EM-E", ssm_state_size=8, mamba_num_heads=4, mamba_head_dim=8, n_groups=2,
               chunk_size=4, n_routed_experts=4, num_experts_per_tok=2, moe_intermediate_size=16,
               moe_shared_expert_intermediate_size=16, initializer_range=0.3),
)


def test_trainer_packed_loss_equals_documents_one_by_one():
    from trainer.config import ModelConfig, TinyModelSpec
    from trainer.data import make_micro_batch
    from trainer.model import PackedCausalLM, build_causal_lm
    from trainer.synthetic import synthetic_rows

    causal_lm = build_causal_lm(ModelConfig(tiny=TinyModelSpec(**TINY_SPEC)), seed=0)
    assert all(type(m) is SegmentAwareNemotronHMamba2Mixer for _, m in mamba_mixers(causal_lm))
    row = synthetic_rows(1, 60, (3, 20), vocab_size=VOCAB, seed=2)[0]
    assert len(row["seq_lengths"]) >= 3
    micro_batch = make_micro_batch([row])
    inputs = micro_batch.model_inputs(torch.device("cpu"))
    packed = PackedCausalLM(causal_lm, loss_chunk_tokens=16)

    def documents_loss_sum() -> torch.Tensor:  # the same supervised positions, each document run alone
        bounds = micro_batch.cu_seqlens_N.tolist()
        total = torch.zeros(())
        for start, end in zip(bounds[:-1], bounds[1:], strict=True):
            in_doc = (inputs["predictor_index_S"] >= start) & (inputs["predictor_index_S"] < end)
            logits_LV = causal_lm(input_ids=inputs["input_ids_1L"][:, start:end]).logits[0]
            total = total + F.cross_entropy(logits_LV[inputs["predictor_index_S"][in_doc] - start],
                                            inputs["target_S"][in_doc], reduction="sum")
        return total

    got_loss, got_grads = loss_and_grads(causal_lm, lambda: packed(**inputs))
    want_loss, want_grads = loss_and_grads(causal_lm, documents_loss_sum)
    assert got_loss == pytest.approx(want_loss, rel=1e-5)
    assert_grads_close(got_grads, want_grads)


def _torchrun_train(config_path: Path, out_dir: Path, *flags: str) -> None:
    """2 ranks on gloo; --standalone picks a free rendezvous port (other test runs may share the machine)."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
               "-m", "trainer.train", str(config_path), "--out", str(out_dir), *flags]
    done = subprocess.run(command, env=_subprocess_env(), capture_output=True, text=True, timeout=300,
                          cwd=PROJECT_ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@pytest.mark.slow
def test_two_process_fsdp_training_resumes_exactly(tmp_path: Path):
    """torchrun, 2 ranks on gloo: 4 steps straight vs 2 steps' checkpoint + resume for 2 → same losses and weights."""
    from trainer.synthetic import synthetic_rows, write_packed_dir

    write_packed_dir(tmp_path / "data", synthetic_rows(16, 48, (3, 20), vocab_size=VOCAB, seed=0))
    config = {
        "model": {"tiny": TINY_SPEC}, "data": {"packed_dir": str(tmp_path / "data")},
        "optim": {"lr": 1e-3, "min_lr": 1e-4, "warmup_steps": 1},
        "batch": {"global_rows": 4, "micro_rows": 1, "max_steps": 4},
        "parallel": {"activation_checkpointing": True},
        "checkpoint": {"interval": 2, "export": True, "export_dtype": "float32"},
    }
    config_path = tmp_path / "train.yaml"
    config_path.write_text(yaml.safe_dump(config))

    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    _torchrun_train(config_path, straight)
    shutil.copytree(straight / "checkpoints" / "step-00000002", resumed / "checkpoints" / "step-00000002")
    _torchrun_train(config_path, resumed, "--resume")

    straight_losses, resumed_losses = _logged_losses(straight), _logged_losses(resumed)
    assert sorted(straight_losses) == [1, 2, 3, 4] and sorted(resumed_losses) == [3, 4]
    assert all(math.isfinite(loss) for loss in straight_losses.values())
    assert {step: straight_losses[step] for step in (3, 4)} == resumed_losses
    want = load_file(straight / "export" / "model.safetensors")
    got = load_file(resumed / "export" / "model.safetensors")
    assert want.keys() == got.keys() and any(".mixer.A_log" in key for key in want)
    assert all(torch.equal(got[key], tensor) for key, tensor in want.items())
