"""CLI commands of this area; `register` adds them to the `cascade` app."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""
    _register_pack(app)
    _register_stats(app)


def _register_pack(app: typer.Typer) -> None:
    @app.command("pack")
    def pack(
        tokens_dir: Annotated[
            Path, typer.Argument(help="Token shards: a folder of *.parquet, or a run dir with tokens/.")
        ],
        out: Annotated[Path, typer.Option(help="Output folder: packed/*.parquet, manifest.json, pack_stats.json.")],
        seq_len: Annotated[int, typer.Option(help="Tokens per packed row (its capacity).")] = 262144,
        seed: Annotated[int, typer.Option(help="Seed of the row shuffle.")] = 0,
        oversize: Annotated[str, typer.Option(help="Samples longer than seq-len: drop | truncate | error.")] = "drop",
        rows_per_shard: Annotated[int, typer.Option(help="Packed rows per output Parquet shard.")] = 32,
    ) -> None:
        """Pack token shards into rows of ≤ seq-len tokens (best-fit-decreasing over the whole mix)."""
        from rich.console import Console

        from packers.pack import pack_tokens
        from packers.stats import render_stats

        console = Console()
        try:
            stats = pack_tokens(
                tokens_dir, out, seq_len=seq_len, seed=seed, oversize=oversize, rows_per_shard=rows_per_shard
            )
        except (ValueError, FileNotFoundError) as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(1) from e
        render_stats(stats, console)
        console.print(f"wrote {stats['shards']} shards to {out / 'packed'} (manifest: {out / 'manifest.json'})")


def _register_stats(app: typer.Typer) -> None:
    @app.command("stats")
    def stats(
        packed_dir: Annotated[Path, typer.Argument(help="The --out folder of `cascade pack`.")],
        plots: Annotated[Path | None, typer.Option(help="Write PNG histograms to this folder.")] = None,
        as_json: Annotated[
            bool, typer.Option("--json", help="Print the statistics (or --sql result) as JSON.")
        ] = False,
        sql: Annotated[str | None, typer.Option(help="Run a duckdb query; the shards are the view `rows`.")] = None,
    ) -> None:
        """Statistics of packed shards: fill, documents and attention cost per row, domain mix, oversize counts."""
        import json

        from rich.console import Console

        from packers.stats import compute_stats, render_sql, render_stats, run_sql, write_plots

        console = Console()
        try:
            if sql is not None:
                columns, result = run_sql(packed_dir, sql)
                if as_json:
                    print(json.dumps([dict(zip(columns, row, strict=True)) for row in result], default=str))
                else:
                    render_sql(columns, result, console)
                return
            numbers = compute_stats(packed_dir)
            if plots is not None:
                for path in write_plots(packed_dir, plots):
                    console.print(f"wrote {path}")
        except (ValueError, FileNotFoundError) as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(1) from e
        if as_json:
            print(json.dumps(numbers, indent=2))
        else:
            render_stats(numbers, console)
