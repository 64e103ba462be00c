"""CLI commands of this area; `register` adds them to the `cascade` app."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

TokenizerOption = Annotated[str | None, typer.Option(
    help="Tokenizer path or hub id (default: the embedded Nemotron-template tokenizer).")]
ThinkingOption = Annotated[bool | None, typer.Option(
    "--thinking/--no-thinking", help="Thinking mode for every sample (default: per sample meta).")]
ExpandTurnsOption = Annotated[bool, typer.Option(
    help="One document per user-delimited segment where truncation would drop reasoning.")]
WorkersOption = Annotated[int | None, typer.Option(help="Tokenizer processes (default: this one).")]


def register(app: typer.Typer) -> None:
    """Add this area's commands to the app."""
    _register_render(app)
    _register_tokenize(app)
    _register_pack(app)
    _register_stats(app)


def _register_render(app: typer.Typer) -> None:
    @app.command("render")
    def render(
        samples: Annotated[Path, typer.Argument(
            help="Canonical samples: a run dir, a samples folder or one .parquet.")],
        sample_id: Annotated[str | None, typer.Option("--id", help="Show only the sample with this id.")] = None,
        limit: Annotated[int, typer.Option(help="How many samples to show.")] = 1,
        jsonl: Annotated[bool, typer.Option("--jsonl", help="Emit {id, text, token_ids, loss_mask} per line.")] = False,
        tokenizer: TokenizerOption = None,
        thinking: ThinkingOption = None,
        expand_turns: ExpandTurnsOption = False,
    ) -> None:
        """Show samples exactly as the model sees them, trained (loss-masked-in) tokens highlighted."""
        import json

        from rich.console import Console
        from rich.markup import escape

        from curate.sample_io import iter_samples
        from packers.masks import expand_turns as expand_sample_turns
        from packers.tokenize import SampleEncoder
        from packers.tokenizer import load_tokenizer

        console = Console(highlight=False)
        try:
            encoder = SampleEncoder(load_tokenizer(tokenizer), thinking)
            shown = 0
            for sample in iter_samples(samples):
                if shown >= limit:
                    break
                if sample_id is not None and sample.id != sample_id:
                    continue
                for doc in expand_sample_turns(sample) if expand_turns else [sample]:
                    [(rendered, encoding, mask)] = encoder.render_and_encode([doc])
                    if jsonl:
                        print(json.dumps({"id": doc.id, "text": rendered.text, "token_ids": encoding.ids,
                                          "loss_mask": mask.tolist()}, ensure_ascii=False))
                    else:
                        console.rule(escape(f"{doc.id}  [{doc.domain}]  {len(encoding)} tokens, "
                                            f"{int(mask.sum())} trained"))
                        console.print(_highlighted(rendered.text, encoding.offsets, mask), soft_wrap=True)
                shown += 1
        except (ValueError, FileNotFoundError) as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(1) from e
        if shown == 0:
            typer.echo(f"error: no sample with id {sample_id!r} in {samples}" if sample_id else
                       f"error: no samples in {samples}", err=True)
            raise typer.Exit(1)
        if not jsonl:
            console.print("[bold green]green[/] = trained (loss mask 1); plain = context")


def _highlighted(text: str, offsets: list[tuple[int, int]], mask: Any) -> Any:
    """The rendered text with the characters of trained tokens in green (token offsets → character ranges)."""
    from rich.text import Text

    view = Text(text)
    for (start, end), trained in zip(offsets, mask, strict=True):
        if trained and end > start:
            view.stylize("bold green", start, end)
    return view




def _holds_samples(path: Path) -> bool:
    """True for canonical sample shards (a run dir, samples folder or file), False for token shards."""
    import pyarrow.parquet as pq

    from curate.sample_io import sample_files

    try:
        first = sample_files(path)[0]
    except FileNotFoundError:
        return False
    return "messages" in pq.read_schema(first).names


def _register_tokenize(app: typer.Typer) -> None:
    @app.command("tokenize")
    def tokenize(
        samples: Annotated[Path, typer.Argument(
            help="Canonical samples: a run dir, a samples folder or one .parquet.")],
        out: Annotated[Path, typer.Option(help="Output folder: tokens-*.parquet and tokenize.json.")],
        tokenizer: TokenizerOption = None,
        thinking: ThinkingOption = None,
        expand_turns: ExpandTurnsOption = False,
        workers: WorkersOption = None,
    ) -> None:
        """Render samples with the chat template and tokenize them with assistant-only loss masks."""
        from packers.tokenize import tokenize_samples

        try:
            stats = tokenize_samples(samples, out, tokenizer, thinking, expand_turns, workers)
        except (ValueError, FileNotFoundError) as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(1) from e
        typer.echo(f"{stats['documents']} documents, {stats['tokens']:,} tokens ({stats['trained_tokens']:,} trained) "
                   f"from {stats['samples']} samples -> {out}")


def _register_pack(app: typer.Typer) -> None:
    @app.command("pack")
    def pack(
        inputs: Annotated[Path, typer.Argument(
            help="Canonical samples (tokenized first, into OUT/tokens) or token shards from `cascade tokenize`.")],
        out: Annotated[Path, typer.Option(help="Output folder: packed/*.parquet, manifest.json, pack_stats.json.")],
        seq_len: Annotated[int, typer.Option(help="Tokens per packed row (its capacity).")] = 262144,
        seed: Annotated[int, typer.Option(help="Seed of the row shuffle.")] = 0,
        oversize: Annotated[str, typer.Option(help="Samples longer than seq-len: drop | truncate | error.")] = "drop",
        rows_per_shard: Annotated[int, typer.Option(help="Packed rows per output Parquet shard.")] = 32,
        tokenizer: TokenizerOption = None,
        thinking: ThinkingOption = None,
        expand_turns: ExpandTurnsOption = False,
        workers: WorkersOption = None,
    ) -> None:
        """Pack samples into rows of ≤ seq-len tokens (best-fit-decreasing over the whole mix)."""
        from rich.console import Console

        from packers.pack import pack_tokens
        from packers.stats import render_stats
        from packers.tokenize import tokenize_samples

        console = Console()
        try:
            tokens_dir = inputs
            if _holds_samples(inputs):
                tokens_dir = out / "tokens"
                tokenize_samples(inputs, tokens_dir, tokenizer, thinking, expand_turns, workers)
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
