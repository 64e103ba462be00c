"""CLI commands of this area (`cascade ingest`, `cascade inspect`); `register` adds them to the `cascade` app.

Heavy imports (datatrove, pyarrow, datasets) happen inside the commands so that `cascade --help` stays fast.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

TOP_REASONS = 3


def _fail(message: str) -> typer.Exit:
    Console(stderr=True).print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(1)


def _top_reasons(by_reason: dict[str, int]) -> str:
    ranked = sorted(by_reason.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_REASONS]
    return ", ".join(f"{reason} ×{n}" for reason, n in ranked)


def summary_table(ledger: dict[str, Any], out_dir: Path) -> Table:
    """Per file: records in / kept / rejected, samples written and the most common reject reasons."""
    labels = list(ledger["per_file"])
    common = os.path.commonpath(labels) if len(labels) > 1 and all(os.path.isabs(x) == os.path.isabs(labels[0])
                                                                    for x in labels) else ""
    caption = f"files under {common}/" if common else None
    table = Table(title=f"ingest → {out_dir} (domain {ledger['domain']})", title_justify="left", caption=caption,
                  caption_justify="left")
    table.add_column("file", overflow="fold", ratio=3)
    for column in ("in", "kept", "rejected", "samples"):
        table.add_column(column, justify="right", no_wrap=True)
    table.add_column("top reject reasons", overflow="fold", ratio=2)
    for label, tally in ledger["per_file"].items():
        shown = os.path.relpath(label, common) if common else label
        table.add_row(escape(shown), f"{tally['in']:,}", f"{tally['kept']:,}", f"{tally['rejected']:,}",
                      f"{tally['samples_out']:,}", escape(_top_reasons(tally["by_reason"])))
    table.add_section()
    table.add_row("[bold]total", f"{ledger['in']:,}", f"{ledger['kept']:,}", f"{ledger['rejected']:,}",
                  f"{ledger['samples_out']:,}", escape(_top_reasons(ledger["by_reason"])), style="bold")
    return table


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""

    @app.command("ingest")
    def ingest_command(
        sources: Annotated[list[str], typer.Argument(
            help="Files (.jsonl/.json/.traj/.parquet/.csv, also .gz/.zst), folders of them, save_to_disk folders, "
                 "or hub datasets as hf://ORG/NAME or hf://ORG/NAME/CONFIG:SPLIT (split defaults to train).")],
        domain: Annotated[str, typer.Option(help="Domain of every sample, e.g. code_reasoning, swe_agentic.")],
        out: Annotated[Path, typer.Option(help="Run folder: samples/, rejects/ and ledger.json go here.")],
        fmt: Annotated[str, typer.Option("--format", help="auto, or an adapter name to force one shape.")] = "auto",
        strict: Annotated[bool, typer.Option(help="Stop at the first reject, naming file, record and field.")] = False,
        max_record_mb: Annotated[float, typer.Option(help="Records larger than this are rejected.")] = 64.0,
        workers: Annotated[int, typer.Option(
            help="Parallel datatrove tasks; files, and ranges of big JSONL files, are split across them.")] = 1,
        columnar: Annotated[bool, typer.Option(
            help="Convert OpenAI-messages JSONL a block at a time in Arrow (same output, ~3x faster).")] = True,
    ) -> None:
        """Read raw records in any published shape into canonical samples; rejects keep a reason."""
        from curate.ingest import ingest

        try:
            ledger = ingest(sources, domain, out, fmt=fmt, strict=strict,
                            max_record_bytes=int(max_record_mb * (1 << 20)), workers=workers, columnar=columnar)
        except (FileNotFoundError, ValueError) as err:  # missing input, bad domain/format, --strict reject
            raise _fail(str(err)) from None
        Console().print(summary_table(ledger, out))

    @app.command("inspect")
    def inspect_command(
        path: Annotated[Path, typer.Argument(help="A run folder, a samples folder, or one samples/rejects .parquet.")],
        domain: Annotated[str | None, typer.Option(help="Only samples of this domain.")] = None,
        sample_id: Annotated[str | None, typer.Option("--id", help="Only the sample with this id (or prefix).")] = None,
        limit: Annotated[int, typer.Option(help="Show at most this many (0 = all).")] = 5,
        as_json: Annotated[bool, typer.Option("--json", help="Canonical JSON lines instead of a rendering.")] = False,
        rejects: Annotated[bool, typer.Option(help="Show a run folder's rejects instead of its samples.")] = False,
        full: Annotated[bool, typer.Option(help="Do not fold reasoning and long texts.")] = False,
    ) -> None:
        """Read samples like a conversation: roles, folded reasoning, tool calls with their arguments."""
        from curate.inspect_view import inspect

        if not path.exists():
            raise _fail(f"{path}: no such file or folder")
        try:
            shown = inspect(path, Console(), domain=domain, sample_id=sample_id, limit=limit, as_json=as_json,
                            rejects=rejects, full=full)
        except (FileNotFoundError, ValueError) as err:
            raise _fail(str(err)) from None
        if shown == 0 and not as_json:
            Console(stderr=True).print("no matching samples")
