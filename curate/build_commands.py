"""CLI commands for recipe builds (`cascade build`, `cascade report`)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the build commands to the app."""
