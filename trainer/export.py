"""Export the trained weights as a HF model directory (config + safetensors) for `from_pretrained`.

The sharded FSDP state is gathered to rank 0 on CPU, the wrapper prefix is dropped, tied weights are written once,
and files are split at 5 GB with the usual `model.safetensors.index.json`.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save_file
from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict
from transformers import AutoTokenizer

from trainer.attention import ATTENTION_NAME
from trainer.model import PackedCausalLM
from trainer.parallel import DistributedContext

MAX_SHARD_BYTES = 5 * 1024**3
WRAPPER_PREFIX = "causal_lm."


def load_export_tokenizer(tokenizer_source: str | None, trust_remote_code: bool = False) -> Any:
    """The tokenizer to save beside the export (a hub id or local path), loaded before training starts: failing at
    export time would leave rank 0 raising while the other ranks wait at the final barrier."""
    if tokenizer_source is None:
        return None
    try:
        return AutoTokenizer.from_pretrained(tokenizer_source, trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as error:
        raise ValueError(f"train.model: cannot load tokenizer {tokenizer_source!r}: {error}") from error


def export_hf(model: PackedCausalLM, out_dir: Path, dtype_name: str, context: DistributedContext,
              tokenizer: Any = None) -> Path | None:
    """Collective: every rank must call it; rank 0 writes `out_dir` (with `tokenizer`, from `load_export_tokenizer`,
    when given) and returns it, the others return None."""
    full_state = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
    if not context.is_main:
        return None
    dtype = getattr(torch, dtype_name)
    config = copy.deepcopy(model.causal_lm.config)
    tensors = {name.removeprefix(WRAPPER_PREFIX): tensor.to(dtype).contiguous() for name, tensor in full_state.items()}
    if getattr(config, "tie_word_embeddings", False):
        for tied_name in _tied_keys(model.causal_lm):
            tensors.pop(tied_name, None)
    out_dir.mkdir(parents=True, exist_ok=True)
    _save_sharded(tensors, out_dir)
    config.dtype = dtype
    config.use_cache = True
    if config._attn_implementation == ATTENTION_NAME:
        config._attn_implementation = None  # the loader picks its default (sdpa); ours needs packed inputs
    config.save_pretrained(out_dir)
    generation_config = getattr(model.causal_lm, "generation_config", None)
    if generation_config is not None:
        generation_config.save_pretrained(out_dir)
    if tokenizer is not None:
        tokenizer.save_pretrained(out_dir)
    return out_dir


def _tied_keys(causal_lm: torch.nn.Module) -> list[str]:
    tied = getattr(causal_lm, "_tied_weights_keys", None) or {}
    return list(tied.keys()) if isinstance(tied, dict) else list(tied)


def _save_sharded(tensors: dict[str, torch.Tensor], out_dir: Path) -> None:
    shards: list[dict[str, torch.Tensor]] = [{}]
    shard_bytes = 0
    for name in sorted(tensors):
        size = tensors[name].numel() * tensors[name].element_size()
        if shards[-1] and shard_bytes + size > MAX_SHARD_BYTES:
            shards.append({})
            shard_bytes = 0
        shards[-1][name] = tensors[name]
        shard_bytes += size
    if len(shards) == 1:
        save_file(shards[0], out_dir / "model.safetensors", metadata={"format": "pt"})
        return
    weight_map = {}
    for i, shard in enumerate(shards, start=1):
        file_name = f"model-{i:05d}-of-{len(shards):05d}.safetensors"
        save_file(shard, out_dir / file_name, metadata={"format": "pt"})
        weight_map.update(dict.fromkeys(shard, file_name))
    total = sum(t.numel() * t.element_size() for t in tensors.values())
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    (out_dir / "model.safetensors.index.json").write_text(json.dumps(index, indent=2))
