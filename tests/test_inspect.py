"""`cascade inspect`: a readable rendering (roles, folded reasoning, tool calls), filters, JSON lines, rejects."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from cli import app
from curate.documents import StageWriter, drop, to_document
from curate.ingest import ingest
from curate.sample_io import iter_samples

REASONING = "\n".join(f"step {i}: thinking" for i in range(1, 11))
RECORDS = [
    {"messages": [
        {"role": "user", "content": "Compute 6*7 and show [bold]markup[/bold] literally."},
        {"role": "assistant", "content": "", "reasoning_content": REASONING, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "calc", "arguments": "{\"expr\": \"6*7\"}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "42"},
        {"role": "assistant", "content": "The answer is 42."},
    ]},
    {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]},
]


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, ["inspect", *args], terminal_width=120)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("inspect")
    src = root / "chat.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in RECORDS) + '{"broken": \n')
    ingest([str(src)], "tool_calling", root / "run")
    return root / "run"


def test_renders_a_conversation_with_folded_reasoning_and_tool_calls(run_dir: Path) -> None:
    result = invoke(str(run_dir), "--limit", "1")
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.index("▌user") < out.index("▌assistant") < out.index("▌tool")
    assert "[bold]markup[/bold]" in out  # raw text is never read as rich markup
    assert "step 3: thinking" in out and "step 4: thinking" not in out and "… 7 more lines" in out
    assert "→ calc" in out and '"expr": "6*7"' in out
    assert "← calc [c1]" in out
    assert "hello" not in out  # --limit 1


def test_full_shows_all_reasoning(run_dir: Path) -> None:
    out = invoke(str(run_dir), "--limit", "1", "--full").output
    assert "step 10: thinking" in out and "more lines" not in out


def test_json_lines_are_the_canonical_samples(run_dir: Path) -> None:
    result = invoke(str(run_dir), "--json", "--limit", "0")
    assert result.exit_code == 0
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert lines == [json.loads(json.dumps(asdict(s))) for s in iter_samples(run_dir)]
    assert lines[0]["messages"][1]["tool_calls"][0]["arguments"] == {"expr": "6*7"}


def test_filters_by_id_prefix_and_domain(run_dir: Path) -> None:
    second = list(iter_samples(run_dir))[1]
    lines = invoke(str(run_dir), "--json", "--id", second.id[:8]).output.splitlines()
    assert [json.loads(line)["id"] for line in lines] == [second.id]
    assert invoke(str(run_dir), "--json", "--domain", "math").output == ""
    assert invoke(str(run_dir / "samples" / "00000.parquet"), "--json", "--domain", "tool_calling",
                  "--limit", "0").output.count("\n") == 2


def test_shows_rejects_with_their_reasons(run_dir: Path) -> None:
    out = invoke(str(run_dir), "--rejects").output
    assert "malformed_json" in out and "chat.jsonl #2" in out
    output = invoke(str(run_dir / "rejects" / "00000.parquet"), "--json").output
    rows = [json.loads(line) for line in output.splitlines()]
    assert [(r["record"], r["reason"]) for r in rows] == [(2, "malformed_json")]


def test_shows_build_rejects_with_their_reasons(run_dir: Path, tmp_path: Path) -> None:
    documents = [to_document(sample) for sample in iter_samples(run_dir)]
    drop(documents[1], "filter", "length", "too_short", "2 tokens < 5", tokens=2)
    for _ in StageWriter(tmp_path / "filter").run(iter(documents)) or ():
        pass
    out = invoke(str(tmp_path / "filter"), "--rejects").output
    assert "too_short" in out and "2 tokens < 5" in out and "filter · length" in out and "hello" in out
    rows = [json.loads(line) for line in invoke(str(tmp_path / "filter"), "--rejects", "--json").output.splitlines()]
    assert [(r["id"], r["reason"], r["detail"]) for r in rows] == [(documents[1].id, "too_short", "2 tokens < 5")]


def test_missing_path_or_raw_file_is_an_error(tmp_path: Path) -> None:
    result = invoke(str(tmp_path / "nowhere"))
    assert result.exit_code == 1 and "nowhere" in result.output
    raw = tmp_path / "raw.jsonl"
    raw.write_text(json.dumps(RECORDS[1]) + "\n")
    result = invoke(str(raw))
    assert result.exit_code == 1 and "cascade ingest" in result.output


@pytest.mark.parametrize("command", ["ingest", "inspect"])
def test_help_renders(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"], terminal_width=120)
    assert result.exit_code == 0, result.output
    assert "--domain" in result.output
