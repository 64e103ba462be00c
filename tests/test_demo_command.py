"""`cascade demo` end to end: the embedded corpus is built, packed and trained on, and the loss falls."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cli import app


def test_demo_builds_packs_and_trains_with_falling_loss(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(app, ["demo", "--out", str(out), "--steps", "8"])
    assert result.exit_code == 0, result.output
    assert "went down" in result.output

    ledger = json.loads((out / "ledger.json").read_text())
    for name in ("ingest", "filter", "dedup", "decontam"):
        entry = ledger["stages"][name]
        assert entry["in"] == entry["kept"] + entry["dropped"] + entry["duplicates"], name

    metrics = [json.loads(line) for line in (out / "train" / "metrics.jsonl").read_text().splitlines()]
    losses = [m["loss"] for m in metrics if "loss" in m]
    assert len(losses) == 8 and losses[-1] < losses[0]
    assert (out / "train" / "export" / "config.json").is_file()
