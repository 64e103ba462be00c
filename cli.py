"""`cascade`: one command line over curation, packing and training.

Each area registers its own commands (`register(app)`), and heavy imports (torch, transformers, datatrove)
happen inside the commands so that `cascade --help` stays fast.
"""

from __future__ import annotations

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


if __name__ == "__main__":
    app()
