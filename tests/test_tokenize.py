"""Token shards: the packer's schema, equal to transformers' ids and assistant masks, ordered, deterministic."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from curate.sample_io import write_samples
from curate.schema import Message, Sample, to_chat_dicts
from packers.tokenize import TOKEN_SCHEMA, tokenize_samples
from packers.tokenizer import EMBEDDED_TOKENIZER_DIR, load_tokenizer
from tests.test_template import GENERATED, TRL_TEMPLATES, reference_mask


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(None)


@pytest.fixture(scope="module")
def samples_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("samples")
    write_samples(root / "samples" / "part-00000.parquet", GENERATED[:30])
    write_samples(root / "samples" / "part-00001.parquet", GENERATED[30:])
    return root


def _rows(out_dir: Path) -> list[dict]:
    return [row for p in sorted(out_dir.glob("tokens-*.parquet")) for row in pq.read_table(p).to_pylist()]


def test_embedded_tokenizer_has_the_template_tokens_as_single_tokens(tokenizer):
    for token in ("<|im_start|>", "<|im_end|>", "<think>", "</think>", "<tool_call>", "</tool_call>",
                  "<tool_response>", "</tool_response>", "<tools>", "</tools>"):
        assert len(tokenizer.encode(token, add_special_tokens=False)) == 1, token
        assert len(tokenizer.encode(f"x{token}y", add_special_tokens=False)) == 3, token
    assert tokenizer.eos_token == tokenizer.pad_token == "<|im_end|>"
    assert tokenizer.model_max_length == 262_144
    assert 8_000 <= len(tokenizer) <= 16_500
    assert tokenizer.chat_template == (TRL_TEMPLATES / "nemotron_3_nano.jinja").read_text()
    assert sum(f.stat().st_size for f in EMBEDDED_TOKENIZER_DIR.iterdir()) < 2_000_000
    text = "naïve 🚀 code: def f(x):\n\treturn x ** 2  # ok"
    assert tokenizer.decode(tokenizer.encode(text, add_special_tokens=False)) == text


def test_load_tokenizer_by_path_and_bad_name(tmp_path):
    by_path = load_tokenizer(str(EMBEDDED_TOKENIZER_DIR))
    assert by_path.encode("<think>hi</think>") == load_tokenizer(None).encode("<think>hi</think>")
    with pytest.raises(ValueError, match="cannot load tokenizer"):
        load_tokenizer(str(tmp_path / "missing"))


def test_shards_have_the_packer_schema_and_reference_masks(samples_dir, tmp_path, tokenizer):
    stats = tokenize_samples(samples_dir, tmp_path / "tok", batch_size=7, shard_rows=20)
    assert pq.read_schema(tmp_path / "tok" / "tokens-00000.parquet").equals(TOKEN_SCHEMA)
    rows = _rows(tmp_path / "tok")
    assert [r["id"] for r in rows] == [s.id for s in GENERATED]  # input order kept across batches and shards
    assert len(stats["shards"]) == 3 and stats["samples"] == stats["documents"] == len(GENERATED)
    for row, sample in zip(rows, GENERATED, strict=True):
        ids, mask = reference_mask(tokenizer, sample)
        assert row["input_ids"] == ids and row["loss_mask"] == mask, sample.id
        assert row["length"] == len(ids) and row["domain"] == sample.domain
    assert stats["tokens"] == sum(r["length"] for r in rows)
    assert stats["trained_tokens"] == sum(sum(r["loss_mask"]) for r in rows)
    assert json.loads((tmp_path / "tok" / "tokenize.json").read_text())["tokens"] == stats["tokens"]


def test_deterministic_and_workers_give_identical_shards(samples_dir, tmp_path):
    tokenize_samples(samples_dir, tmp_path / "a", batch_size=16)
    tokenize_samples(samples_dir, tmp_path / "b", batch_size=16)
    tokenize_samples(samples_dir, tmp_path / "c", batch_size=16, workers=2)
    first = (tmp_path / "a" / "tokens-00000.parquet").read_bytes()
    assert first == (tmp_path / "b" / "tokens-00000.parquet").read_bytes()
    assert first == (tmp_path / "c" / "tokens-00000.parquet").read_bytes()


def test_rerun_replaces_stale_shards(samples_dir, tmp_path):
    tokenize_samples(samples_dir, tmp_path / "tok", batch_size=4, shard_rows=4)
    tokenize_samples(samples_dir, tmp_path / "tok", batch_size=64)
    assert [p.name for p in sorted((tmp_path / "tok").glob("tokens-*.parquet"))] == ["tokens-00000.parquet"]
    assert len(_rows(tmp_path / "tok")) == len(GENERATED)


def test_thinking_off_and_expand_turns(tmp_path):
    sample = Sample("multi", "chat", "t", [
        Message("user", "u1"), Message("assistant", "a1", "reason one"),
        Message("user", "u2"), Message("assistant", "a2", "reason two")])
    write_samples(tmp_path / "s.parquet", [sample])
    tokenizer = load_tokenizer(None)

    def trained_text(out: str, **kwargs) -> list[str]:
        tokenize_samples(tmp_path / "s.parquet", tmp_path / out, **kwargs)
        return [tokenizer.decode([t for t, m in zip(r["input_ids"], r["loss_mask"], strict=True) if m])
                for r in _rows(tmp_path / out)]

    # History truncation keeps the newline after </think> (the template does); the last turn keeps its reasoning.
    assert trained_text("full") == ["<think></think>\na1<|im_end|>\n<think>\nreason two\n</think>\na2<|im_end|>\n"]
    assert trained_text("off", thinking=False) == ["<think></think>a1<|im_end|>\n<think></think>a2<|im_end|>\n"]
    expanded = trained_text("exp", expand_turns=True)
    assert expanded == ["<think>\nreason one\n</think>\na1<|im_end|>\n",
                        "<think>\nreason two\n</think>\na2<|im_end|>\n"]
    assert [r["id"] for r in _rows(tmp_path / "exp")] == ["multi-t0", "multi-t1"]


def test_other_tokenizer_template_goes_through_transformers(samples_dir, tmp_path):
    qwen = load_tokenizer(None)
    qwen.chat_template = (TRL_TEMPLATES / "qwen3_training.jinja").read_text()
    tokenize_samples(samples_dir, tmp_path / "q", tokenizer=qwen, batch_size=32)
    rows = _rows(tmp_path / "q")
    for row, sample in zip(rows[:15], GENERATED[:15], strict=True):
        ref = qwen.apply_chat_template(to_chat_dicts(sample), tools=sample.tools or None, tokenize=True,
                                       return_dict=True, return_assistant_tokens_mask=True)
        assert row["input_ids"] == list(ref["input_ids"]) and row["loss_mask"] == list(ref["assistant_masks"])


def test_bad_arguments(samples_dir, tmp_path):
    with pytest.raises(ValueError, match="batch_size"):
        tokenize_samples(samples_dir, tmp_path / "x", batch_size=0)
    with pytest.raises(FileNotFoundError):
        tokenize_samples(tmp_path / "nothing", tmp_path / "y")
    with pytest.raises(ValueError, match="cannot load tokenizer"):
        tokenize_samples(samples_dir, tmp_path / "z", tokenizer=str(tmp_path / "no-such-tokenizer"))


# ---------------------------------------------------------------- cascade render

def test_render_cli_jsonl_matches_token_shards(samples_dir, tmp_path):
    from typer.testing import CliRunner

    from cli import app

    tokenize_samples(samples_dir, tmp_path / "tok")
    shards = {r["id"]: r for r in _rows(tmp_path / "tok")}
    result = CliRunner().invoke(app, ["render", str(samples_dir), "--limit", "5", "--jsonl"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [x["id"] for x in lines] == [s.id for s in GENERATED[:5]]
    for line in lines:
        assert line["token_ids"] == shards[line["id"]]["input_ids"]
        assert line["loss_mask"] == shards[line["id"]]["loss_mask"]
        assert line["text"].startswith("<|im_start|>system\n")


def test_render_cli_shows_one_sample_and_reports_a_missing_id(samples_dir):
    from typer.testing import CliRunner

    from cli import app

    runner = CliRunner()
    shown = runner.invoke(app, ["render", str(samples_dir), "--id", "unicode", "--no-thinking"])
    assert shown.exit_code == 0, shown.output
    assert "unicode" in shown.stdout and "Système — 日本語 🚀" in shown.stdout and "мысли" not in shown.stdout
    missing = runner.invoke(app, ["render", str(samples_dir), "--id", "no-such-id"])
    assert missing.exit_code == 1 and "no-such-id" in missing.output


def test_edge_lookup_mask_equals_transformers_offset_scan_on_random_spans(tokenizer):
    import random

    from packers.masks import _scan_mask, token_mask
    from packers.tokenizer import backend

    rng = random.Random(1)
    rust = backend(tokenizer)
    alphabet = ["a", "b ", "é", "🚀", "日本", "\n", "  ", "<|im_end|>", "<think>", "x1", "\t"]
    for _ in range(200):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40)))
        cuts = sorted(rng.choices(range(len(text) + 1), k=2 * rng.randint(1, 3)))  # empty spans too
        spans = tuple((cuts[i], cuts[i + 1]) for i in range(0, len(cuts) - 1, 2))
        encoding = rust.encode_batch([text], add_special_tokens=False)[0]
        assert token_mask(encoding, spans).tolist() == _scan_mask(encoding.offsets, spans).tolist(), (text, spans)
