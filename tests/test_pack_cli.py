"""`cascade pack` takes canonical samples directly: the same rows as `cascade tokenize` followed by `cascade pack`."""

from __future__ import annotations

import hashlib
from pathlib import Path

from typer.testing import CliRunner

from cli import app
from curate.sample_io import write_samples
from curate.schema import Message, Sample


def _samples(n: int) -> list[Sample]:
    return [
        Sample(id=f"s{i}", domain="math_proof" if i % 2 else "chat", source="t",
               messages=[Message("user", f"Question {i}: " + "why? " * (i % 7 + 1)),
                         Message("assistant", "Because " * (i % 5 + 1), reasoning_content="think " * i)])
        for i in range(n)
    ]


def _digests(packed: Path) -> list[str]:
    return [hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(packed.glob("*.parquet"))]


def test_pack_from_samples_equals_tokenize_then_pack(tmp_path: Path) -> None:
    write_samples(tmp_path / "run" / "samples" / "part.parquet", _samples(40))
    runner = CliRunner()
    direct = runner.invoke(app, ["pack", str(tmp_path / "run"), "--out", str(tmp_path / "a"), "--seq-len", "512"])
    assert direct.exit_code == 0, direct.output
    tokenized = runner.invoke(app, ["tokenize", str(tmp_path / "run"), "--out", str(tmp_path / "tokens")])
    assert tokenized.exit_code == 0 and "40 documents" in tokenized.output, tokenized.output
    two_step = runner.invoke(app, ["pack", str(tmp_path / "tokens"), "--out", str(tmp_path / "b"), "--seq-len", "512"])
    assert two_step.exit_code == 0, two_step.output
    assert _digests(tmp_path / "a" / "packed") == _digests(tmp_path / "b" / "packed") != []


def test_pack_of_a_folder_without_shards_names_it(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["pack", str(tmp_path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1 and str(tmp_path) in result.output
