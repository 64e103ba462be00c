"""`cascade train`: one command from a curated mix (or a training config) to a running FSDP2 job."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add `cascade train` to the app."""
    app.command("train")(train_command)


def train_command(
    config: Annotated[Path, typer.Argument(help="training config YAML, or a recipe (its mix is built if needed)")],
    resume: Annotated[bool, typer.Option("--resume", help="continue from the latest checkpoint")] = False,
    max_steps: Annotated[int | None, typer.Option("--max-steps", help="override train.batch.max_steps")] = None,
    out: Annotated[str | None, typer.Option("--out", help="override train.output_dir")] = None,
    nproc_per_node: Annotated[int, typer.Option("--nproc-per-node", help="> 1: launch torchrun")] = 1,
    build_dir: Annotated[str | None, typer.Option("--build-dir", help="recipes: build folder (runs/NAME)")] = None,
) -> None:
    """Train on packed rows with the bundled FSDP2 SFT trainer (checkpoints, metrics.jsonl, HF export)."""
    from trainer.launch import load_train_config

    try:
        train_config = load_train_config(config, max_steps=max_steps, output_dir=out, build=True, build_dir=build_dir)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="CONFIG") from None
    if nproc_per_node > 1:
        # One node, rendezvous on a free local port; multi-node jobs call torchrun ... -m trainer.train directly.
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc_per_node}",
                   "-m", "trainer.train", str(config)]
        command += ["--resume"] if resume else []
        command += ["--max-steps", str(max_steps)] if max_steps is not None else []
        command += ["--out", train_config.output_dir]
        command += ["--build-dir", build_dir] if build_dir is not None else []
        raise typer.Exit(subprocess.run(command, env=os.environ.copy()).returncode)

    from trainer.train import train

    try:
        train(train_config, resume=resume)
    except ValueError as error:  # user-fixable: bad shards, an occupied output dir, changed data on resume
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
