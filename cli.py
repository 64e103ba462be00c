"""`cascade`: one command line over curation, packing and training.

Each area registers its own commands (`register(app)`), and heavy imports (torch, transformers, datatrove)
happen inside the commands so that `cascade --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from curate import build_commands
from curate import commands as curate_commands
from packers import commands as packer_commands
from trainer import commands as trainer_commands

app = typer.Typer(
    name="cascade",
    help="Curate SFT data, pack it into 256K-token rows, and train on it (Nemotron-Cascade-2 data path).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)

curate_commands.register(app)
build_commands.register(app)
packer_commands.register(app)
trainer_commands.register(app)

DEMO_RECIPE = Path(__file__).resolve().parent / "recipes" / "demo.yaml"


@app.command("demo")
def demo(
    out: Annotated[Path, typer.Option(help="Build folder; training writes to OUT/train.")] = Path("runs/demo"),
    recipe: Annotated[Path, typer.Option(help="The recipe to run.")] = DEMO_RECIPE,
    steps: Annotated[int | None, typer.Option(help="Training steps (default: the recipe's).")] = None,
) -> None:
    """The main job on the embedded default, offline: build the demo mix, pack it, print stats, train briefly."""
    import shutil

    from rich.console import Console

    from curate.build import run_build
    from curate.build_commands import print_ledger
    from packers.stats import compute_stats, render_stats
    from trainer.launch import load_train_config
    from trainer.train import train

    console = Console()
    console.rule(f"1/3  cascade build {recipe} --out {out}")
    packed = run_build(recipe, out, progress=lambda stage, message: console.print(f"  {stage}: {message}"))
    print_ledger(out, console)
    console.rule(f"2/3  cascade stats {out}")
    render_stats(compute_stats(packed.parent), console)
    console.rule(f"3/3  cascade train {recipe}")
    train_dir = out / "train"
    shutil.rmtree(train_dir, ignore_errors=True)  # the demo always starts a fresh run
    config = load_train_config(recipe, max_steps=steps, output_dir=str(train_dir), build_dir=str(out))
    result = train(config)
    first, last = result.losses[min(result.losses)], result.losses[max(result.losses)]
    verdict = "[green]went down[/]" if last < first else "[red]did NOT go down[/]"
    console.print(f"loss {first:.3f} -> {last:.3f} over {len(result.losses)} steps: {verdict}")
    console.print(f"HF export: {result.export_dir}   metrics: {train_dir / 'metrics.jsonl'}")
    if last >= first:
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
