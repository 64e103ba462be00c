"""Statistics of a packed dataset, computed by duckdb over the shards (no Python loops over rows).

Equal-token rows differ a lot in attention work (Σ len² per row), and the slowest rank sets the FSDP step time, so
the spread of that cost is reported next to the usual fill and documents-per-row numbers.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import numpy as np

ROW_METRICS = {
    "tokens_per_row": "num_tokens",
    "docs_per_row": "len(seq_lengths)",
    "supervised_per_row": "num_supervised",
    "domains_per_row": "len(list_distinct(domains))",
    "attention_cost_per_row": "list_sum(list_transform(seq_lengths, lambda x: x::BIGINT * x))",
}


def load_manifest(packed_dir: str | Path) -> dict:
    path = Path(packed_dir) / "manifest.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: point at the --out folder of `cascade pack`")
    return json.loads(path.read_text())


def connect(packed_dir: str | Path) -> duckdb.DuckDBPyConnection:
    """A duckdb connection with the packed shards exposed as the view `rows`."""
    manifest = load_manifest(packed_dir)
    files = [str(Path(packed_dir) / shard["path"]) for shard in manifest["shards"]]
    con = duckdb.connect()
    if files:
        con.execute(f"CREATE VIEW rows AS SELECT * FROM read_parquet({files!r})")
    else:  # an empty pack still answers queries, with no rows
        con.execute(
            "CREATE VIEW rows AS SELECT * FROM (SELECT NULL::INT[] AS input_ids, NULL::INT[] AS labels, "
            "NULL::INT[] AS seq_lengths, NULL::INT[] AS position_ids, NULL::VARCHAR[] AS sample_ids, "
            "NULL::VARCHAR[] AS domains, NULL::INT AS num_tokens, NULL::INT AS num_supervised) WHERE false"
        )
    return con


def run_sql(packed_dir: str | Path, sql: str) -> tuple[list[str], list[tuple]]:
    """Run a user query against the view `rows`; returns (column names, result rows)."""
    con = connect(packed_dir)
    try:
        result = con.execute(sql)
    except duckdb.Error as e:
        raise ValueError(f"--sql failed: {e}") from e
    return [d[0] for d in result.description], result.fetchall()


def compute_stats(packed_dir: str | Path) -> dict:
    """Rows, fill vs the lower bound, per-row distributions, per-domain token share and oversize counts."""
    manifest = load_manifest(packed_dir)
    seq_len = int(manifest["seq_len"])
    totals = manifest["totals"]
    con = connect(packed_dir)
    rows, tokens, supervised, documents = con.execute(
        "SELECT count(*), coalesce(sum(num_tokens), 0), coalesce(sum(num_supervised), 0), "
        "coalesce(sum(len(seq_lengths)), 0) FROM rows"
    ).fetchall()[0]
    lower_bound = -(-int(tokens) // seq_len)
    stats: dict = {
        "seq_len": seq_len,
        "shards": len(manifest["shards"]),
        "rows": int(rows),
        "tokens": int(tokens),
        "supervised_tokens": int(supervised),
        "documents": int(documents),
        "lower_bound_rows": lower_bound,
        "fill_vs_lower_bound": lower_bound / rows if rows else 1.0,
        "mean_row_fill": tokens / (rows * seq_len) if rows else 0.0,
    }
    for name, expr in ROW_METRICS.items():
        low, median, mean, high = con.execute(
            f"SELECT min(v), median(v), avg(v), max(v) FROM (SELECT {expr} AS v FROM rows)"
        ).fetchall()[0]
        stats[name] = {"min": low, "median": median, "mean": mean, "max": high}
    cost = stats["attention_cost_per_row"]
    cost["max_over_min"] = cost["max"] / cost["min"] if cost["min"] else None
    stats["domains"] = {
        domain: {"documents": int(docs), "tokens": int(dom_tokens), "token_share": dom_tokens / tokens}
        for domain, docs, dom_tokens in con.execute(
            "SELECT domain, count(*), sum(len) FROM (SELECT unnest(domains) AS domain, unnest(seq_lengths) AS len "
            "FROM rows) GROUP BY domain ORDER BY sum(len) DESC, domain"
        ).fetchall()
    }
    stats["samples"] = {
        "input": totals["input_samples"],
        "packed": totals["packed_samples"],
        "empty": totals["empty_samples"],
    }
    stats["oversize"] = {
        "policy": manifest["oversize"],
        "samples": totals["oversize_samples"],
        "dropped_samples": totals["oversize_dropped_samples"],
        "tokens_removed": totals["oversize_tokens_removed"],
    }
    return stats


def write_plots(packed_dir: str | Path, plot_dir: str | Path) -> list[Path]:
    """PNG histograms: document length per domain, fill, documents and attention cost per row."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seq_len = int(load_manifest(packed_dir)["seq_len"])
    con = connect(packed_dir)
    per_row = con.execute(
        "SELECT num_tokens, " + ", ".join(f"{expr} AS {name}" for name, expr in ROW_METRICS.items()) + " FROM rows"
    ).fetchnumpy()
    docs = con.execute("SELECT unnest(domains) AS domain, unnest(seq_lengths) AS len FROM rows").fetchnumpy()
    out = Path(plot_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []

    fig, ax = plt.subplots(figsize=(8, 5))
    lengths = np.asarray(docs["len"], dtype=np.float64)
    bins = np.geomspace(max(1.0, lengths.min(initial=1.0)), max(2.0, lengths.max(initial=2.0)), 50)
    for domain in sorted(set(docs["domain"].tolist())):
        ax.hist(lengths[docs["domain"] == domain], bins=bins, histtype="step", label=domain)
    ax.set(xscale="log", xlabel="document length (tokens)", ylabel="documents", title="Document length per domain")
    ax.legend(fontsize="small")
    written.append(_save(fig, out / "length_hist_per_domain.png"))

    histograms = [
        ("fill_per_row.png", per_row["num_tokens"] / seq_len, "row fill (tokens / seq_len)"),
        ("docs_per_row.png", per_row["docs_per_row"], "documents per row"),
        ("attention_cost_per_row.png", per_row["attention_cost_per_row"], "attention cost per row (Σ len²)"),
    ]
    for filename, values, label in histograms:
        fig, ax = plt.subplots(figsize=(8, 5))
        ax.hist(np.asarray(values, dtype=np.float64), bins=50)
        ax.set(xlabel=label, ylabel="rows", title=label)
        written.append(_save(fig, out / filename))
    return written


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def render_stats(stats: dict, console) -> None:
    """Rich tables for `cascade stats`."""
    from rich.table import Table

    overview = Table(title="Packed dataset", show_header=False)
    overview.add_column("metric")
    overview.add_column("value", justify="right")
    for label, value in [
        ("seq_len", f"{stats['seq_len']:,}"),
        ("shards", f"{stats['shards']:,}"),
        ("rows", f"{stats['rows']:,}"),
        ("lower bound rows ⌈Σ tokens / seq_len⌉", f"{stats['lower_bound_rows']:,}"),
        ("fill vs lower bound", f"{stats['fill_vs_lower_bound']:.5f}"),
        ("mean row fill", f"{stats['mean_row_fill']:.5f}"),
        ("tokens", f"{stats['tokens']:,}"),
        ("supervised tokens", f"{stats['supervised_tokens']:,}"),
        ("documents", f"{stats['documents']:,}"),
        ("input samples", f"{stats['samples']['input']:,}"),
        ("empty samples", f"{stats['samples']['empty']:,}"),
        (f"oversize samples (policy {stats['oversize']['policy']})", f"{stats['oversize']['samples']:,}"),
        ("oversize samples dropped", f"{stats['oversize']['dropped_samples']:,}"),
        ("tokens removed by oversize policy", f"{stats['oversize']['tokens_removed']:,}"),
    ]:
        overview.add_row(label, value)
    console.print(overview)

    per_row = Table(title="Per row")
    for column in ("", "min", "median", "mean", "max"):
        per_row.add_column(column, justify="right" if column else "left")
    for name in ROW_METRICS:
        s = stats[name]
        per_row.add_row(name.replace("_", " "), *(_number(s[k]) for k in ("min", "median", "mean", "max")))
    console.print(per_row)
    ratio = stats["attention_cost_per_row"]["max_over_min"]
    console.print(f"attention cost spread max/min: {ratio:.2f}×" if ratio else "attention cost spread: n/a")

    domains = Table(title="Domains")
    for column in ("domain", "documents", "tokens", "token share"):
        domains.add_column(column, justify="left" if column == "domain" else "right")
    for domain, d in stats["domains"].items():
        domains.add_row(domain, f"{d['documents']:,}", f"{d['tokens']:,}", f"{d['token_share']:.2%}")
    console.print(domains)


def render_sql(columns: list[str], result: list[tuple], console) -> None:
    from rich.table import Table

    table = Table()
    for column in columns:
        table.add_column(column)
    for row in result:
        table.add_row(*(str(v) for v in row))
    console.print(table)


def _number(value) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 1000 else f"{value:,.2f}"
