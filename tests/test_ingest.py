"""Ingest end to end: bad inputs end as rejects with the right reason, the ledger adds up, every input kind gives
the same samples, output is byte-deterministic, and user mistakes stop the run before it starts."""

from __future__ import annotations

import base64
import csv
import datetime
import decimal
import gzip
import hashlib
import json
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from typer.testing import CliRunner

import curate.ingest
from cli import app
from curate.ingest import IngestError, ingest
from curate.sample_io import iter_samples
from curate.schema import Message, Sample, SampleError, ToolCall, check_storable

GOOD = {"messages": [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "What is 6*7?"},
    {"role": "assistant", "content": "", "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "calc", "arguments": "{\"expr\": \"6*7\"}"}}]},
    {"role": "tool", "tool_call_id": "c1", "content": "42"},
    {"role": "assistant", "content": "<think>\nThe tool said 42.\n</think>\n42"},
], "tools": [{"type": "function", "function": {
    "name": "calc", "description": "evaluate",
    "parameters": {"type": "object", "properties": {"expr": {"type": "string"}}}}}]}


def chat(*turns: dict) -> bytes:
    return json.dumps({"messages": list(turns)}).encode()


USER = {"role": "user", "content": "hi"}
# record number → (raw JSONL line, reason it must be rejected with; None = kept)
BAD_CORPUS: list[tuple[bytes, str | None]] = [
    (json.dumps(GOOD).encode(), None),
    (b'{"messages": [{"role": "user", "content": "hi"}', "malformed_json"),
    (chat(USER, {"role": "assistant", "content": "caf\xe9"}).replace(b"\\u00e9", b"\xe9"), "invalid_utf8"),
    (chat(USER, {"role": "assistant", "content": "x", "reasoning_content": 5}), "bad_type"),
    (chat({"role": "wizard", "content": "hi"}, {"role": "assistant", "content": "x"}), "unknown_role"),
    (chat(USER, {"role": "tool", "tool_call_id": "nope", "content": "42"}, {"role": "assistant", "content": "x"}),
     "orphan_tool_result"),
    (chat(USER, {"role": "assistant", "content": "   "}), "empty_assistant"),
    (chat({"role": "user", "content": "x" * 5000}, {"role": "assistant", "content": "y"}), "record_too_large"),
    (b"[1, 2]", "bad_type"),
    (b'{"foo": 1}', "unknown_shape"),
    (chat(USER), "no_assistant"),
    (json.dumps(GOOD).encode(), None),
]
MAX_RECORD_BYTES = 4096


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rejects_of(out: Path) -> list[dict]:
    return [row for f in sorted((out / "rejects").glob("*.parquet")) for row in pq.read_table(f).to_pylist()]


def content_of(sample: Sample) -> Sample:
    """A sample without where it came from (id and source derive from the file path)."""
    return replace(sample, id="", source="")


def assert_ledger_adds_up(ledger: dict) -> None:
    assert ledger["in"] == ledger["kept"] + ledger["rejected"]
    assert ledger["rejected"] == sum(ledger["by_reason"].values())
    for tally in ledger["per_file"].values():
        assert tally["in"] == tally["kept"] + tally["rejected"]
        assert tally["rejected"] == sum(tally["by_reason"].values())
    assert ledger["in"] == sum(t["in"] for t in ledger["per_file"].values())


@pytest.fixture()
def bad_inputs(tmp_path: Path) -> list[str]:
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"\n".join(line for line, _ in BAD_CORPUS) + b"\n")
    text = json.dumps([GOOD, GOOD, GOOD])
    cut = tmp_path / "cut.json"
    cut.write_text(text[: len(text) * 5 // 6])  # cut inside the third record
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    return [str(bad), str(cut), str(empty)]


def test_bad_input_corpus_ends_as_rejects_with_reasons(bad_inputs: list[str], tmp_path: Path) -> None:
    bad, cut, empty = bad_inputs
    out = tmp_path / "out"
    ledger = ingest(bad_inputs, "chat", out, max_record_bytes=MAX_RECORD_BYTES)
    assert_ledger_adds_up(ledger)

    expected = {i: reason for i, (_, reason) in enumerate(BAD_CORPUS) if reason}
    rejects = rejects_of(out)
    assert {r["record"]: r["reason"] for r in rejects if r["source"] == bad} == expected
    assert [(r["record"], r["reason"]) for r in rejects if r["source"] == cut] == [(2, "truncated_json")]
    assert all(r["message"] and len(r["excerpt"]) <= 1000 for r in rejects)

    assert ledger["per_file"][bad]["in"] == len(BAD_CORPUS)
    assert ledger["per_file"][bad]["kept"] == 2
    assert ledger["per_file"][cut] == {"in": 3, "kept": 2, "rejected": 1, "samples_out": 2,
                                       "by_reason": {"truncated_json": 1}}
    assert ledger["per_file"][empty] == {"in": 0, "kept": 0, "rejected": 0, "samples_out": 0, "by_reason": {}}
    assert json.loads((out / "ledger.json").read_text()) == ledger
    assert len(list(iter_samples(out))) == ledger["samples_out"] == 4


def test_good_record_keeps_its_structure(tmp_path: Path) -> None:
    path = tmp_path / "good.jsonl"
    path.write_text(json.dumps(GOOD) + "\n")
    ingest([str(path)], "tool_calling", tmp_path / "out")
    [sample] = iter_samples(tmp_path / "out")
    assert [m.role for m in sample.messages] == ["system", "user", "assistant", "tool", "assistant"]
    assert sample.messages[2].tool_calls[0].arguments == {"expr": "6*7"}
    assert sample.messages[4].reasoning_content == "The tool said 42." and sample.messages[4].content == "42"
    assert sample.domain == "tool_calling" and sample.source == str(path)


def test_every_input_kind_gives_the_same_samples(tmp_path: Path) -> None:
    records = [GOOD, {"messages": [USER, {"role": "assistant", "content": "hello"}]}] * 3
    jsonl = b"".join(json.dumps(r).encode() + b"\n" for r in records)
    inputs = {"a.jsonl": jsonl, "a.jsonl.gz": gzip.compress(jsonl), "a.jsonl.zst": zstandard.compress(jsonl),
              "a.json": json.dumps(records, indent=1).encode()}
    for name, body in inputs.items():
        (tmp_path / name).write_bytes(body)
    pq.write_table(pa.Table.from_pylist(records), tmp_path / "a.parquet")
    import datasets

    datasets.Dataset.from_list(records).save_to_disk(str(tmp_path / "saved"))

    def samples(name: str) -> list[Sample]:
        ledger = ingest([str(tmp_path / name)], "chat", tmp_path / f"out-{name}")
        assert ledger["kept"] == len(records) and ledger["rejected"] == 0
        return [content_of(s) for s in iter_samples(tmp_path / f"out-{name}")]

    reference = samples("a.jsonl")
    for name in [*inputs, "a.parquet", "saved"]:
        assert samples(name) == reference, name


def test_csv_gives_the_same_samples_as_jsonl(tmp_path: Path) -> None:
    rows = [{"input": f"Prove {i} + 0 = {i}.", "output": f"<think>\nadditive identity\n</think>\n{i} + 0 = {i}."}
            for i in range(4)]
    (tmp_path / "p.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    with (tmp_path / "p.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["input", "output"])
        writer.writeheader()
        writer.writerows(rows)
    for name in ("p.jsonl", "p.csv"):
        assert ingest([str(tmp_path / name)], "math_proof", tmp_path / f"out-{name}")["kept"] == 4
    from_csv = [content_of(s) for s in iter_samples(tmp_path / "out-p.csv")]
    assert from_csv == [content_of(s) for s in iter_samples(tmp_path / "out-p.jsonl")]
    assert from_csv[0].messages[-1].reasoning_content == "additive identity"


def test_output_is_byte_deterministic(bad_inputs: list[str], tmp_path: Path) -> None:
    first = ingest(bad_inputs, "chat", tmp_path / "one", max_record_bytes=MAX_RECORD_BYTES)
    second = ingest(bad_inputs, "chat", tmp_path / "two", max_record_bytes=MAX_RECORD_BYTES)
    assert first == second
    for part in ("samples/00000.parquet", "rejects/00000.parquet", "ledger.json"):
        assert sha256(tmp_path / "one" / part) == sha256(tmp_path / "two" / part), part


def test_rerun_replaces_earlier_output(tmp_path: Path) -> None:
    path = tmp_path / "good.jsonl"
    path.write_text(json.dumps(GOOD) + "\n")
    stale = tmp_path / "out" / "samples" / "00007.parquet"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"stale shard of an earlier run")
    ingest([str(path)], "chat", tmp_path / "out")
    assert not stale.exists() and len(list(iter_samples(tmp_path / "out"))) == 1


def test_multi_sample_records_count_once_in_kept(realdata: Path, tmp_path: Path) -> None:
    loc = realdata / "swe_agentless" / "agentless_loc_outputs_first25.jsonl"
    ledger = ingest([str(loc)], "swe_agentless", tmp_path / "out")
    assert_ledger_adds_up(ledger)
    assert ledger["kept"] > 0 and ledger["samples_out"] == 3 * ledger["kept"]


def test_odd_data_that_trips_an_adapter_ends_as_a_reject(tmp_path: Path) -> None:
    """A role given as a list made the ShareGPT adapter raise TypeError when this was written: the run goes on."""
    path = tmp_path / "odd.jsonl"
    odd = {"conversations": [{"from": ["human"], "value": "hi"}, {"from": "gpt", "value": "hello"}]}
    path.write_text(json.dumps(odd) + "\n" + json.dumps(GOOD) + "\n")
    ledger = ingest([str(path)], "chat", tmp_path / "out")
    assert ledger["kept"] == 1 and ledger["rejected"] == 1
    [reject] = rejects_of(tmp_path / "out")
    assert reject["record"] == 0 and reject["reason"] in {"adapter_error", "unknown_role", "bad_type"}
    if reject["reason"] == "adapter_error":
        assert reject["message"].startswith("sharegpt: TypeError")


@pytest.mark.parametrize(("meta", "arguments", "field"), [
    ({}, {"x": {1, 2}}, "messages[1].tool_calls[0].arguments"),  # a set
    ({1: 2}, {}, "meta"),  # a non-string key
])
def test_value_json_cannot_store_is_a_reject_naming_the_field(meta: dict, arguments: dict, field: str) -> None:
    sample = Sample(id="s", domain="chat", source="x", meta=meta, messages=[
        Message("user", "hi"), Message("assistant", "", tool_calls=[ToolCall("f", arguments)])])
    with pytest.raises(SampleError, match="JSON cannot store") as caught:
        check_storable(sample)
    assert (caught.value.reason, caught.value.field) == ("unserializable_value", field)


def test_parquet_binary_decimal_and_duration_columns_are_kept_in_json_form(tmp_path: Path) -> None:
    table = pa.table({
        "messages": [GOOD["messages"], GOOD["messages"]],
        "blob": pa.array([b"\x00\xff", None], pa.binary()),
        "price": pa.array([decimal.Decimal("1.50"), None], pa.decimal128(5, 2)),
        "took": pa.array([datetime.timedelta(seconds=90), None], pa.duration("s")),
        "nested": pa.array([{"raw": b"ab"}, None], pa.struct([("raw", pa.binary())])),
        "at": pa.array([1_700_000_000_123_456_789, None], pa.timestamp("ns")),  # pandas.Timestamp in Python
    })
    pq.write_table(table, tmp_path / "typed.parquet")
    ledger = ingest([str(tmp_path / "typed.parquet")], "chat", tmp_path / "out")
    assert ledger["kept"] == 2 and ledger["rejected"] == 0
    meta = next(iter_samples(tmp_path / "out")).meta
    assert base64.b64decode(meta["blob"]) == b"\x00\xff" and decimal.Decimal(meta["price"]) == decimal.Decimal("1.50")
    assert meta["took"] == 90.0 and base64.b64decode(meta["nested"]["raw"]) == b"ab"
    assert meta["at"] == "2023-11-14T22:13:20.123456789"


def test_jsonl_saved_as_json_gz_counts_every_record(tmp_path: Path) -> None:
    first = {"messages": [{"role": "user", "content": "q" * 10_000}, {"role": "assistant", "content": "a"}]}
    path = tmp_path / "lines.json.gz"
    path.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in [first, *[GOOD] * 5]).encode()))
    ledger = ingest([str(path)], "chat", tmp_path / "out")
    assert (ledger["in"], ledger["kept"]) == (6, 6)


def test_big_integer_in_a_json_array_keeps_every_record(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text(json.dumps([GOOD, {**GOOD, "seed": 1 << 70}, GOOD]))
    ledger = ingest([str(path)], "chat", tmp_path / "out")
    assert (ledger["in"], ledger["kept"]) == (3, 3)
    assert [s.meta.get("seed") for s in iter_samples(tmp_path / "out")] == [None, str(1 << 70), None]


def test_strict_stops_at_the_first_reject_naming_file_record_field(bad_inputs: list[str], tmp_path: Path) -> None:
    bad = tmp_path / "roles.jsonl"
    bad.write_bytes(json.dumps(GOOD).encode() + b"\n" + BAD_CORPUS[4][0] + b"\n")
    with pytest.raises(IngestError, match=r"roles\.jsonl: record 1, field messages\[0\]\.role: .*\[unknown_role\]"):
        ingest([str(bad)], "chat", tmp_path / "out", strict=True)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == []  # no shards that no ledger accounts for
    result = CliRunner().invoke(app, ["ingest", str(bad), "--domain", "chat", "--out", str(tmp_path / "o"),
                                      "--strict"])
    assert result.exit_code == 1
    assert str(bad) in result.output and "record 1" in result.output and "messages[0].role" in result.output


def test_output_inside_an_input_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "good.jsonl").write_text(json.dumps(GOOD) + "\n")
    with pytest.raises(ValueError, match="inside the input folder"):
        ingest([str(tmp_path)], "chat", tmp_path / "run")


@pytest.mark.parametrize("inside", ["samples", "samples/00000.parquet", "rejects"])
def test_input_inside_a_folder_ingest_clears_is_refused(tmp_path: Path, inside: str) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps(GOOD) + "\n")
    run = tmp_path / "run"
    ingest([str(good)], "chat", run)
    source = run / inside
    before = sorted(p.name for p in source.parent.rglob("*"))
    result = CliRunner().invoke(app, ["ingest", str(source), "--domain", "chat", "--out", str(run)])
    assert result.exit_code == 1 and "ingest clears" in result.output
    assert sorted(p.name for p in source.parent.rglob("*")) == before  # nothing was deleted


def test_missing_file_fails_before_anything_runs(tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps(GOOD) + "\n")
    missing = tmp_path / "missing.jsonl"
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["ingest", str(good), str(missing), "--domain", "chat", "--out", str(out)])
    assert result.exit_code == 1
    assert str(missing) in result.output
    assert not out.exists()


@pytest.mark.parametrize(("option", "value", "message"), [
    ("--domain", "cooking", "unknown domain"),
    ("--format", "yaml_soup", "unknown format"),
])
def test_bad_options_fail_with_a_clear_error(tmp_path: Path, option: str, value: str, message: str) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps(GOOD) + "\n")
    args = {"--domain": "chat", "--format": "auto", option: value}
    result = CliRunner().invoke(app, ["ingest", str(good), "--out", str(tmp_path / "out"),
                                      *[x for kv in args.items() for x in kv]])
    assert result.exit_code == 1 and message in result.output


def test_forced_format_rejects_other_shapes(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    sharegpt = {"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}]}
    path.write_text(json.dumps(GOOD) + "\n" + json.dumps(sharegpt) + "\n")
    ledger = ingest([str(path)], "chat", tmp_path / "out", fmt="openai_messages")
    assert ledger["kept"] == 1 and ledger["by_reason"] == {"shape_mismatch": 1}
    assert ingest([str(path)], "chat", tmp_path / "auto")["kept"] == 2


def test_cli_prints_a_summary_table(bad_inputs: list[str], tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["ingest", *bad_inputs, "--domain", "chat", "--out", str(tmp_path / "out"),
                                      "--max-record-mb", str(MAX_RECORD_BYTES / (1 << 20))], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "bad.jsonl" in result.output and "cut.json" in result.output and "empty.jsonl" in result.output
    assert "truncated_json ×1" in result.output
    ledger = json.loads((tmp_path / "out" / "ledger.json").read_text())
    assert ledger["rejected"] == sum(bool(reason) for _, reason in BAD_CORPUS) + 1


@pytest.mark.slow
def test_workers_split_files_and_give_the_same_ledger_and_samples(bad_inputs: list[str], tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Two datatrove tasks (LocalPipelineExecutor, spawned processes) agree with the in-process run."""
    one = ingest(bad_inputs, "chat", tmp_path / "one", max_record_bytes=MAX_RECORD_BYTES)
    two = ingest(bad_inputs, "chat", tmp_path / "two", max_record_bytes=MAX_RECORD_BYTES, workers=2)
    assert two == one
    assert sorted((tmp_path / "two" / "samples").glob("*.parquet")) == [
        tmp_path / "two" / "samples" / "00000.parquet", tmp_path / "two" / "samples" / "00001.parquet"]
    by_id = sorted(iter_samples(tmp_path / "two"), key=lambda s: s.id)
    assert by_id == sorted(iter_samples(tmp_path / "one"), key=lambda s: s.id)
    assert sorted(map(str, rejects_of(tmp_path / "two"))) == sorted(map(str, rejects_of(tmp_path / "one")))

    monkeypatch.setattr(curate.ingest, "MIN_SPLIT_BYTES", 64 << 10)
    big = tmp_path / "big.jsonl"  # one file over two parts' worth of bytes is cut into line-aligned ranges
    with big.open("wb") as f:
        while f.tell() < 2 * (64 << 10) + 1000:
            f.write(b"\n".join(line for line, _ in BAD_CORPUS) + b"\n\n")
    whole = ingest([str(big)], "chat", tmp_path / "big-one", max_record_bytes=MAX_RECORD_BYTES)
    split = ingest([str(big)], "chat", tmp_path / "big-two", max_record_bytes=MAX_RECORD_BYTES, workers=2)
    assert split == whole and whole["in"] > 200
    assert len(list((tmp_path / "big-two" / "samples").glob("*.parquet"))) == 2
    assert sorted(s.id for s in iter_samples(tmp_path / "big-two")) == sorted(
        s.id for s in iter_samples(tmp_path / "big-one"))
