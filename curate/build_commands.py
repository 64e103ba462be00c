"""CLI commands for recipe builds: `cascade build`, `cascade report`, `cascade clusters`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer


def ledger_tables(ledger: dict[str, Any]) -> dict[str, Any]:
    """The ledger as polars frames: per stage totals, drops/duplicates by reason, the mix per domain."""
    import polars as pl

    stages = ledger["stages"]
    totals = pl.DataFrame([{"stage": name, "in": s["in"], "kept": s["kept"], "dropped": s["dropped"],
                            "duplicates": s["duplicates"], "out": s.get("samples_out", s.get("rows_out", s["kept"]))}
                           for name, s in stages.items()])
    reasons = pl.DataFrame(
        [{"stage": name, "kind": kind, "reason": reason, "count": count}
         for name, s in stages.items()
         for kind, table in (("dropped", s["dropped_by_reason"]), ("duplicate", s["duplicates_by_kind"]))
         for reason, count in table.items()],
        schema={"stage": pl.String, "kind": pl.String, "reason": pl.String, "count": pl.Int64})
    mix = pl.DataFrame([{"domain": d, **v} for d, v in stages.get("mix", {}).get("per_domain", {}).items()],
                       schema={"domain": pl.String, "available": pl.Int64, "selected": pl.Int64, "rows_out": pl.Int64})
    return {"stages": totals, "reasons": reasons.sort("stage", "kind", "count", descending=[False, False, True]),
            "mix": mix}


def _rich_table(title: str, frame: Any) -> Any:
    from rich.table import Table

    table = Table(title=title)
    for name, dtype in zip(frame.columns, frame.dtypes, strict=True):
        table.add_column(name, justify="right" if dtype.is_numeric() else "left")
    for row in frame.iter_rows():
        table.add_row(*(str(v) for v in row))
    return table


def print_ledger(out_dir: Path, console: Any) -> None:
    import orjson

    path = out_dir / "ledger.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: point at the --out folder of `cascade build`")
    tables = ledger_tables(orjson.loads(path.read_bytes()))
    console.print(_rich_table("stages (in = kept + dropped + duplicates)", tables["stages"]))
    if tables["reasons"].height:
        console.print(_rich_table("dropped and duplicates by reason", tables["reasons"]))
    if tables["mix"].height:
        console.print(_rich_table("mix by domain", tables["mix"]))


def register(app: typer.Typer) -> None:
    """Add the build commands to the app."""

    @app.command("build")
    def build(
        recipe: Annotated[Path, typer.Argument(help="Recipe YAML (see recipes/).")],
        out: Annotated[Path, typer.Option(help="Output folder; re-running into it resumes a killed build.")],
        workers: Annotated[int | None, typer.Option(help="Local worker processes (overrides executor.workers).")]
        = None,
    ) -> None:
        """Curate a recipe: ingest → filter → dedup → decontam → mix (→ tokenize → pack), with a ledger."""
        from rich.console import Console

        from curate.build import run_build

        console = Console()
        status = console.status("starting")

        def progress(stage: str, message: str) -> None:
            status.update(f"[bold]{stage}[/]: {message}")
            if message.startswith(("in ", "already", "done")):
                console.print(f"[green]✓[/] {stage}: {message}")

        try:
            with status:
                final = run_build(recipe, out, workers=workers, progress=progress)
        except (ValueError, FileNotFoundError) as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(1) from e
        print_ledger(out, console)
        console.print(f"output: {final}   ledger: {out / 'ledger.json'}   manifest: {out / 'manifest.json'}")

    @app.command("report")
    def report(out: Annotated[Path, typer.Argument(help="The --out folder of `cascade build`.")]) -> None:
        """Print a build's ledger as tables: per stage, per reason, and the mix per domain."""
        from rich.console import Console

        try:
            print_ledger(out, Console())
        except FileNotFoundError as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(1) from e

    @app.command("clusters")
    def clusters(
        out: Annotated[Path, typer.Argument(help="The --out folder of `cascade build`.")],
        cluster_id: Annotated[str | None, typer.Option("--id", help="Show one cluster's members and texts.")] = None,
        limit: Annotated[int, typer.Option(help="Clusters to list (largest first).")] = 20,
    ) -> None:
        """Audit dedup: list duplicate clusters, or show one (kept sample, duplicates, Jaccard, content)."""
        import duckdb
        from rich.console import Console

        work = out / "dedup" / "work"
        if not (work / "clusters").is_dir():
            typer.echo(f"error: {work / 'clusters'} not found: point at the --out folder of `cascade build`", err=True)
            raise typer.Exit(1)
        con = duckdb.connect()
        clusters_glob, meta_glob = str(work / "clusters" / "*.parquet"), str(work / "meta" / "*.parquet")
        console = Console()
        if cluster_id is None:
            rows = con.execute("SELECT cluster_id, any_value(domain), count(*) AS size, any_value(kept_id), "
                               "min(jaccard) FROM read_parquet(?) GROUP BY cluster_id ORDER BY size DESC, cluster_id "
                               "LIMIT ?", [clusters_glob, limit]).fetchall()
            _print_rows(console, "duplicate clusters", ["cluster_id", "domain", "size", "kept_id", "min_jaccard"], rows)
            return
        rows = con.execute("SELECT c.id, c.kind, c.jaccard, left(m.content, 160) FROM read_parquet(?) AS c "
                           "JOIN (SELECT id, content FROM read_parquet(?)) AS m USING (id) "
                           "WHERE cluster_id = ? ORDER BY c.kind <> 'kept', c.id",
                           [clusters_glob, meta_glob, cluster_id]).fetchall()
        if not rows:
            typer.echo(f"error: no cluster {cluster_id!r} in {work / 'clusters'}", err=True)
            raise typer.Exit(1)
        _print_rows(console, f"cluster {cluster_id}", ["id", "kind", "jaccard", "content"], rows)


def _print_rows(console: Any, title: str, columns: list[str], rows: list[tuple]) -> None:
    from rich.table import Table

    table = Table(title=title)
    for name in columns:
        table.add_column(name)
    for row in rows:
        table.add_row(*(str(v) for v in row))
    console.print(table)
