"""`cascade stats`: numbers equal a direct computation over the shards; --json, --sql and --plots work end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from packers import commands
from packers.pack import pack_tokens
from packers.stats import compute_stats, run_sql
from tests.test_pack import realistic_lengths, write_token_shards

SEQ_LEN = 8192


@pytest.fixture(scope="module")
def tokens_dir(tmp_path_factory) -> Path:
    rng = np.random.default_rng(11)
    lengths, domains = realistic_lengths(400, rng, scale=SEQ_LEN / 262144)
    lengths[:2] = [SEQ_LEN + 100, SEQ_LEN * 2]  # two oversize samples, dropped by default
    directory = tmp_path_factory.mktemp("tokens")
    write_token_shards(directory, lengths, domains, rng, files=2)
    return directory


@pytest.fixture(scope="module")
def packed(tokens_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("packed")
    pack_tokens(tokens_dir, out, seq_len=SEQ_LEN, seed=5, rows_per_shard=3)
    return out


@pytest.fixture()
def cli() -> typer.Typer:
    app = typer.Typer()
    commands.register(app)
    return app


def summary(values: np.ndarray) -> dict:
    return {"min": values.min(), "median": np.median(values), "mean": values.mean(), "max": values.max()}


def test_stats_equal_a_direct_computation(packed):
    table = pq.read_table(sorted((packed / "packed").glob("*.parquet")))
    seq_lengths = table.column("seq_lengths").to_pylist()
    tokens = np.array([sum(r) for r in seq_lengths])
    docs = np.array([len(r) for r in seq_lengths])
    supervised = np.array([sum(label != -100 for label in r) for r in table.column("labels").to_pylist()])
    attention = np.array([sum(n * n for n in r) for r in seq_lengths])
    flat_domains = [d for r in table.column("domains").to_pylist() for d in r]
    flat_lengths = [n for r in seq_lengths for n in r]

    stats = compute_stats(packed)
    assert stats["rows"] == table.num_rows and stats["shards"] == -(-table.num_rows // 3)
    assert stats["tokens"] == tokens.sum() and stats["documents"] == docs.sum()
    assert stats["supervised_tokens"] == supervised.sum()
    assert stats["lower_bound_rows"] == -(-tokens.sum() // SEQ_LEN)
    assert stats["fill_vs_lower_bound"] == pytest.approx(stats["lower_bound_rows"] / table.num_rows)
    assert stats["mean_row_fill"] == pytest.approx(tokens.sum() / (table.num_rows * SEQ_LEN))
    for name, values in [
        ("tokens_per_row", tokens),
        ("docs_per_row", docs),
        ("supervised_per_row", supervised),
        ("attention_cost_per_row", attention),
        ("domains_per_row", np.array([len(set(r)) for r in table.column("domains").to_pylist()])),
    ]:
        for key, expected in summary(values).items():
            assert stats[name][key] == pytest.approx(expected), (name, key)
    assert stats["attention_cost_per_row"]["max_over_min"] == pytest.approx(attention.max() / attention.min())
    for domain in set(flat_domains):
        domain_tokens = sum(n for d, n in zip(flat_domains, flat_lengths, strict=True) if d == domain)
        assert stats["domains"][domain]["tokens"] == domain_tokens
        assert stats["domains"][domain]["documents"] == flat_domains.count(domain)
        assert stats["domains"][domain]["token_share"] == pytest.approx(domain_tokens / tokens.sum())
    assert stats["oversize"] == {
        "policy": "drop",
        "samples": 2,
        "dropped_samples": 2,
        "tokens_removed": SEQ_LEN * 3 + 100,
    }
    assert stats["samples"] == {"input": 400, "packed": 398, "empty": 0}


def test_sql_runs_over_the_rows_view(packed):
    columns, result = run_sql(packed, "SELECT count(*) AS n, sum(num_tokens) AS tokens FROM rows")
    assert columns == ["n", "tokens"]
    assert result == [(compute_stats(packed)["rows"], compute_stats(packed)["tokens"])]
    with pytest.raises(ValueError, match="--sql failed"):
        run_sql(packed, "SELECT no_such_column FROM rows")


def test_stats_cli_json_sql_and_plots(packed, cli, tmp_path):
    runner = CliRunner()
    as_json = runner.invoke(cli, ["stats", str(packed), "--json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output) == json.loads(json.dumps(compute_stats(packed)))

    tables = runner.invoke(cli, ["stats", str(packed)])
    assert tables.exit_code == 0 and "fill vs lower bound" in tables.output and "swe_agentic" in tables.output

    query = "SELECT unnest(domains) AS domain, count(*) AS docs FROM rows GROUP BY domain ORDER BY domain"
    sql = runner.invoke(cli, ["stats", str(packed), "--sql", query, "--json"])
    assert sql.exit_code == 0, sql.output
    assert {r["domain"]: r["docs"] for r in json.loads(sql.output)} == {
        d: v["documents"] for d, v in compute_stats(packed)["domains"].items()
    }
    bad = runner.invoke(cli, ["stats", str(packed), "--sql", "SELEC 1"])
    assert bad.exit_code == 1 and "--sql failed" in bad.output

    plots = runner.invoke(cli, ["stats", str(packed), "--plots", str(tmp_path / "plots")])
    assert plots.exit_code == 0, plots.output
    written = sorted(p.name for p in (tmp_path / "plots").glob("*.png"))
    assert written == [
        "attention_cost_per_row.png",
        "docs_per_row.png",
        "fill_per_row.png",
        "length_hist_per_domain.png",
    ]
    assert all((tmp_path / "plots" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for name in written)

    missing = runner.invoke(cli, ["stats", str(tmp_path / "nothing")])
    assert missing.exit_code == 1 and "manifest.json" in missing.output


def test_pack_cli_writes_the_same_shards_as_the_api(tokens_dir, packed, cli, tmp_path):
    result = CliRunner().invoke(
        cli,
        [
            "pack",
            str(tokens_dir),
            "--out",
            str(tmp_path),
            "--seq-len",
            str(SEQ_LEN),
            "--seed",
            "5",
            "--rows-per-shard",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    shas = [json.loads((d / "manifest.json").read_text())["shards"] for d in (packed, tmp_path)]
    assert [s["sha256"] for s in shas[0]] == [s["sha256"] for s in shas[1]]
    error = CliRunner().invoke(
        cli, ["pack", str(tokens_dir), "--out", str(tmp_path / "e"), "--seq-len", str(SEQ_LEN), "--oversize", "error"]
    )
    assert error.exit_code == 1 and "exceeds seq_len" in error.output
