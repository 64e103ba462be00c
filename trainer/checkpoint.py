"""Resumable checkpoints: torch.distributed.checkpoint for sharded model + optimizer, JSON for the rest.

Layout of `OUTPUT/checkpoints/step-00000012/`: DCP files (model and AdamW state, resharding-capable), one
`rng-rank{r}.pt` per rank (tensors only, loaded with weights_only=True), and `trainer_state.json` (step, the
data fingerprint, the batch and schedule settings) written last by rank 0 — its presence marks the checkpoint
complete, so a job killed mid-save resumes from the previous one.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp
from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict

from trainer.config import TrainConfig
from trainer.parallel import DistributedContext

STATE_FILE = "trainer_state.json"


def checkpoint_dir(output_dir: Path, step: int) -> Path:
    return output_dir / "checkpoints" / f"step-{step:08d}"


def latest_checkpoint(output_dir: Path) -> Path | None:
    """The newest complete checkpoint under OUTPUT/checkpoints, if any."""
    complete = sorted(p.parent for p in (output_dir / "checkpoints").glob(f"step-*/{STATE_FILE}"))
    return complete[-1] if complete else None


def run_settings(config: TrainConfig, total_steps: int) -> dict[str, Any]:
    """The settings a resumed run must share with the checkpoint: the step → rows map (global_rows), the
    accumulation split (micro_rows) and the optimiser and its schedule (total_steps sets the cosine horizon)."""
    return {"global_rows": config.batch.global_rows, "micro_rows": config.batch.micro_rows,
            "total_steps": total_steps, "optim": dataclasses.asdict(config.optim)}


def check_resume_settings(checkpoint: Path, saved: dict[str, Any], current: dict[str, Any]) -> None:
    """ValueError naming every setting that differs from the checkpoint's (rows would be skipped or repeated, or
    the learning-rate schedule would change under the run)."""
    differences = [f"{name} was {saved_value!r}, now {current_value!r}"
                   for name, saved_value, current_value in _flat_pairs(saved, current)
                   if saved_value != current_value]
    if differences:
        raise ValueError(f"cannot resume from {checkpoint}: " + "; ".join(differences)
                         + " (restore those settings, or start a new run in another output directory)")


def _flat_pairs(saved: dict[str, Any], current: dict[str, Any], prefix: str = "") -> list[tuple[str, Any, Any]]:
    pairs = []
    for key, value in current.items():
        saved_value = saved.get(key) if isinstance(saved, dict) else None
        if isinstance(value, dict):
            pairs += _flat_pairs(saved_value or {}, value, f"{prefix}{key}.")
        else:
            pairs.append((f"{prefix}{key}", saved_value, value))
    return pairs


def save_checkpoint(path: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    trainer_state: dict[str, Any], context: DistributedContext) -> None:
    model_state, optim_state = get_state_dict(model, optimizer)
    dcp.save({"model": model_state, "optim": optim_state}, checkpoint_id=path)
    torch.save(_rng_state(), path / f"rng-rank{context.rank}.pt")
    dist.barrier()
    if context.is_main:
        partial = path / f"{STATE_FILE}.tmp"
        partial.write_text(json.dumps(trainer_state, indent=2))
        partial.rename(path / STATE_FILE)
    dist.barrier()


def load_checkpoint(path: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    context: DistributedContext) -> dict[str, Any]:
    """Restore model, optimizer and this rank's RNG in place; return the trainer state saved with them."""
    state_file = path / STATE_FILE
    if not state_file.is_file():
        raise ValueError(f"{path}: not a complete checkpoint (no {STATE_FILE})")
    model_state, optim_state = get_state_dict(model, optimizer)
    state = {"model": model_state, "optim": optim_state}
    dcp.load(state, checkpoint_id=path)
    set_state_dict(model, optimizer, model_state_dict=state["model"], optim_state_dict=state["optim"])
    rng_file = path / f"rng-rank{context.rank}.pt"
    if rng_file.is_file():  # absent when resuming on more ranks than were saved
        _set_rng_state(torch.load(rng_file, weights_only=True))
    return json.loads(state_file.read_text())


def _rng_state() -> dict[str, torch.Tensor]:
    state = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state()
    return state


def _set_rng_state(state: dict[str, torch.Tensor]) -> None:
    torch.set_rng_state(state["cpu"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"])
