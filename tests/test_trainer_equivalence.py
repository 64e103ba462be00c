"""Packed training computes exactly what training the documents one by one computes (loss and gradients)."""

from __future__ import annotations

import pytest
import torch

from trainer.config import ModelConfig, TinyModelSpec
from trainer.data import make_micro_batch
from trainer.loss import chunked_cross_entropy_sum, reference_cross_entropy_sum
from trainer.model import PackedCausalLM, build_causal_lm
from trainer.synthetic import synthetic_rows

# fp32 on CPU: only summation order differs between the packed and the per-document computation.
LOSS_RTOL = 1e-5
GRAD_ATOL = 1e-5


def _per_document_loss(causal_lm, row: dict) -> torch.Tensor:
    """Reference: HF forward (SDPA) on each document alone, full logits, summed CE / total supervised tokens."""
    causal_lm.set_attn_implementation("sdpa")
    total, count, start = 0.0, 0, 0
    for length in row["seq_lengths"]:
        ids = torch.tensor(row["input_ids"][start:start + length])
        labels = torch.tensor(row["labels"][start:start + length])
        labels[0] = -100
        logits = causal_lm(input_ids=ids[None]).logits[0]
        total = total + reference_cross_entropy_sum(logits, labels)
        count += int((labels[1:] != -100).sum())
        start += length
    causal_lm.set_attn_implementation("cascade_docs")
    return total / count


def _gradients(causal_lm) -> dict[str, torch.Tensor]:
    grads = {name: p.grad.clone() for name, p in causal_lm.named_parameters()}
    causal_lm.zero_grad(set_to_none=True)
    return grads


@pytest.mark.parametrize("arch", ["llama", "qwen3"])
def test_packed_row_equals_documents_one_by_one(arch: str) -> None:
    causal_lm = build_causal_lm(ModelConfig(tiny=TinyModelSpec(arch=arch, vocab_size=300)), seed=1)
    row = synthetic_rows(1, 160, (5, 60), vocab_size=300, seed=7)[0]
    assert len(row["seq_lengths"]) >= 3
    micro_batch = make_micro_batch([row])
    packed = PackedCausalLM(causal_lm, loss_chunk_tokens=17)
    packed_loss = packed(**micro_batch.model_inputs(torch.device("cpu"))) / micro_batch.num_supervised
    packed_loss.backward()
    packed_grads = _gradients(causal_lm)

    reference_loss = _per_document_loss(causal_lm, row)
    reference_loss.backward()
    reference_grads = _gradients(causal_lm)

    torch.testing.assert_close(packed_loss, reference_loss, rtol=LOSS_RTOL, atol=0)
    for name, grad in reference_grads.items():
        torch.testing.assert_close(packed_grads[name], grad, rtol=1e-4, atol=GRAD_ATOL, msg=name)


def test_dropping_document_boundaries_changes_the_loss() -> None:
    """Control: the same row attended as one sequence (position ids still restarting) differs, so the test above
    can fail. (transformers 5.24 itself infers packing from restarting position ids when no mask is passed; the
    trainer never relies on that and always passes cu_seq_lens.)"""
    causal_lm = build_causal_lm(ModelConfig(tiny=TinyModelSpec(arch="llama", vocab_size=300)), seed=1)
    row = synthetic_rows(1, 160, (5, 60), vocab_size=300, seed=7)[0]
    inputs = make_micro_batch([row]).model_inputs(torch.device("cpu"))
    packed = PackedCausalLM(causal_lm)
    with torch.no_grad():
        per_document = packed(**inputs)
        inputs["cu_seqlens_N"] = torch.tensor([0, inputs["input_ids_1L"].shape[1]], dtype=torch.int32)
        one_sequence = packed(**inputs)
    assert abs(float(per_document) - float(one_sequence)) > 1e-2


@pytest.mark.parametrize("chunk", [1, 7, 64, 10_000])
def test_chunked_loss_equals_full_cross_entropy(chunk: int) -> None:
    generator = torch.Generator().manual_seed(0)
    hidden = torch.randn(50, 16, generator=generator, requires_grad=True)
    weight = torch.randn(97, 16, generator=generator, requires_grad=True)
    target = torch.randint(0, 97, (50,), generator=generator)

    chunked = chunked_cross_entropy_sum(hidden, weight, target, chunk=chunk)
    (chunked * 0.5).backward()  # a non-unit upstream gradient must scale the stored gradients
    chunked_grads = hidden.grad.clone(), weight.grad.clone()
    hidden.grad, weight.grad = None, None

    full = torch.nn.functional.cross_entropy(hidden @ weight.T, target, reduction="sum")
    (full * 0.5).backward()
    torch.testing.assert_close(chunked, full, rtol=1e-6, atol=1e-5)
    torch.testing.assert_close(chunked_grads[0], hidden.grad, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(chunked_grads[1], weight.grad, rtol=1e-5, atol=1e-6)


def test_chunked_loss_without_supervised_tokens_is_zero_with_gradients() -> None:
    hidden = torch.randn(0, 8, requires_grad=True)
    weight = torch.randn(11, 8, requires_grad=True)
    loss = chunked_cross_entropy_sum(hidden, weight, torch.zeros(0, dtype=torch.long))
    loss.backward()
    assert float(loss.detach()) == 0.0
    assert weight.grad is not None and float(weight.grad.abs().sum()) == 0.0
