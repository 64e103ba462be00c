"""The columnar OpenAI-messages path must not change what ingest writes: samples, rejects and ledger are
byte-identical with it on or off, on the bench corpus, the demo corpus, every real JSONL file and a file that mixes
good records with every reject and near-miss shape. Each check also shows the path takes a real share of records,
since an equivalence means little when every line is handed back."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from bench.ingest import write_corpus
from curate.adapters import all_adapters, by_name
from curate.adapters.chat.columnar_parse import MAX_REFUSED, WALK_LINES
from curate.adapters.chat.openai_columnar import ADAPTER, EARLIER_CONTENT_CLAIMS, NOT_WHITESPACE, convert_block
from curate.demo_data import write_demo_corpus
from curate.ingest import ingest, pick_adapter
from curate.ingest.write import text_bytes
from curate.readers import LineBlock, iter_line_blocks, resolve_sources

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _call(call_id: str, name: str = "search", arguments: object = '{"q": "x"}') -> dict:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def _chat(*assistant: dict, **extra: object) -> dict:
    return {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}, *assistant],
            **extra}


ANSWER = {"role": "assistant", "content": "Hello."}
TOOL_TURNS = [{"role": "assistant", "content": "", "tool_calls": [_call("c1"), _call("c2", "fetch")]},
              {"role": "tool", "tool_call_id": "c2", "content": "two"},
              {"role": "tool", "tool_call_id": "c1", "name": "", "content": "one"}, ANSWER]

# Good records, near-misses the fast path must hand over, and every reject the adapter path can give.
CRAFTED: list[object] = [
    _chat(ANSWER),
    _chat({"role": "assistant", "content": "<think>héllo</think>日本語 ✓"}),
    _chat(ANSWER, uuid="u-1", license="cc-by-4.0", reasoning="on", id=12345678901234567890123),
    _chat({"role": "assistant", "content": "<think>\nplan\n</think>\n\nAnswer."}),
    _chat({"role": "assistant", "content": "plan</think>Answer."}),
    _chat({"role": "assistant", "content": "<think></think>Answer."}),
    _chat({"role": "assistant", "content": "<|begin_of_thought|>t<|end_of_thought|><|begin_of_solution|>s"
                                           "<|end_of_solution|>"}),
    _chat({"role": "assistant", "content": "Answer.", "reasoning_content": "  why  "}),
    _chat({"role": "assistant", "content": "Answer.", "reasoning_content": "   "}),
    _chat({"role": "assistant", "content": "<think>inline</think>Answer.", "reasoning_content": " \n"}),
    _chat({"role": "assistant", "content": "<think>inline</think>Answer.", "reasoning_content": "given"}),
    _chat({"role": "assistant", "content": "<think>a</think>b", "reasoning_content": None, "name": "bot"}),
    _chat(*TOOL_TURNS, tools=[{"type": "function", "function": {"name": "search", "parameters": {}}}]),
    _chat(*TOOL_TURNS, tools=json.dumps([{"name": "search", "description": None}])),
    _chat({"role": "assistant", "content": None, "tool_calls": [_call("c1", arguments={"q": 1})]},
          {"role": "tool", "tool_call_id": "c1", "content": None}, ANSWER),
    _chat({"role": "assistant", "content": "", "tool_calls": [_call("c1", arguments="")]},
          {"role": "tool", "tool_call_id": "c1", "name": "own", "content": "r"}, ANSWER),
    _chat({"role": "assistant", "content": "", "tool_calls": [_call("")]},
          {"role": "tool", "content": "r"}, ANSWER),  # no ids: the linker invents them
    _chat({"role": "assistant", "content": "", "tool_calls": [_call("c1"), _call("c1")]},
          {"role": "tool", "tool_call_id": "c1", "content": "r"}, ANSWER),  # duplicate ids
    _chat({"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "f", "parameters": "{}"}}]},
          {"role": "tool", "call_id": "call_0", "content": "r"}, ANSWER),
    _chat({"role": "assistant", "content": "", "function_call": {"name": "f", "arguments": "{}"}},
          {"role": "function", "content": "r"}, ANSWER),
    _chat({"role": "assistant", "content": "", "tool_calls": [_call("c1", arguments="{bad")]}),  # bad_tool_arguments
    _chat({"role": "assistant", "content": "", "tool_calls": [_call("c1", arguments="[1]")]}),
    _chat({"role": "assistant", "content": "", "tool_calls": [_call("c1", name="")]}),  # bad_tool_call
    _chat({"role": "tool", "tool_call_id": "c9", "content": "r"}, ANSWER),  # orphan_tool_result
    _chat({"role": "assistant", "content": "", "tool_calls": [_call("c1")]},
          {"role": "tool", "tool_call_id": "c9", "content": "r"}, ANSWER),  # orphan id
    _chat({"role": "assistant", "content": "<think>never closed"}),  # unclosed_think
    _chat({"role": "assistant", "content": "<think>a</think>b<think>c</think>"}),  # nested_think
    _chat({"role": "assistant", "content": "  "}),  # empty_assistant
    _chat({"role": "assistant", "content": "<think>only thought</think>"}),
    _chat(),  # no_assistant
    _chat(ANSWER, meta_flag=True),  # a key the fast path leaves to the adapters
    _chat(ANSWER, instance_id="x", resolved=True, tools=[{"name": "t"}]),
    _chat(ANSWER, available_tools=[]),  # toucan_mcp
    {"messages": [{"role": "user", "content": "<returncode>0</returncode>"}, ANSWER]},  # mini_swe_agent
    _chat({"role": "gpt", "content": "Alias role."}),
    _chat({"role": "robot", "content": "x"}),  # unknown_role
    _chat({"role": "assistant", "content": 7}),
    _chat({"role": "assistant", "content": [{"type": "text", "text": "parts"}]}),
    _chat({"role": "assistant", "content": [{"type": "image", "image": "x"}]}),
    _chat({"role": "assistant", "content": "a", "reasoning_content": 3}),  # bad_type
    _chat({"role": "assistant", "content": "a", "thinking": "t"}),
    _chat({"role": "assistant", "content": "a", "weight": 0}),
    _chat({"role": ["assistant"], "content": "a"}),
    {"messages": [{"role": "user", "content": "Hi", "tool_calls": [_call("c1")]}, ANSWER]},
    _chat(ANSWER, tools=[{"type": "function"}]),  # bad_tool_schema
    _chat(ANSWER, tools="{not json"),
    {"messages": []},
    {"messages": "not a list"},
    {"messages": [ANSWER, "not a message"]},
    [1, 2],
    "a string",
    {"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "yo"}]},
    _chat(ANSWER, foo=None),  # a key set to null is still a key: it stays in meta
    _chat(ANSWER, available_tools=None),  # toucan_mcp detects the key, whatever its value
    {"messages": [ANSWER], "nl_statement": None, "nl_proof": None},  # proofnet's shape, then its reject
    {"messages": [{"role": "user", "content": "hi", "tool_calls": [{"x": float("nan")}]}, ANSWER]},  # orjson refuses
    {"messages": [{"role": "system", "content": "s", "tool_calls": [{"function": {"x": float("inf")}}]}, ANSWER]},
    _chat({"role": "assistant", "content": "", "tool_calls": [_call("c1", arguments='{"a":' + "[" * 254 + "]" * 254
                                                                      + "}")]},
          {"role": "tool", "tool_call_id": "c1", "content": "r"}, ANSWER),  # parses, but orjson cannot write it back
]


def _write_crafted(path: Path) -> Path:
    lines = [json.dumps(record).encode() for record in CRAFTED]
    lines[3:3] = [b"", b"{broken json", b'{"messages": "\xff not utf-8"}', b'"' + b"x" * 3000 + b'"']
    path.write_bytes(b"\n".join(lines) + b"\n")  # with a blank, a malformed, a non-UTF-8 and an oversized line
    return path


def _outputs(out_dir: Path) -> dict[str, bytes]:
    """What ingest writes (datatrove's logs/ name the run folder, so they differ anyway)."""
    files = [out_dir / "ledger.json", *sorted(out_dir.glob("samples/*")), *sorted(out_dir.glob("rejects/*"))]
    return {p.relative_to(out_dir).as_posix(): p.read_bytes() for p in files}


def _assert_columnar_changes_nothing(tmp_path: Path, sources: list[str], domain: str, **options: object) -> None:
    fast = ingest(sources, domain, tmp_path / "columnar", progress=False, **options)
    slow = ingest(sources, domain, tmp_path / "per_record", progress=False, columnar=False, **options)
    assert fast == slow
    fast_files, slow_files = _outputs(tmp_path / "columnar"), _outputs(tmp_path / "per_record")
    assert fast_files.keys() == slow_files.keys()
    for name in fast_files:
        assert fast_files[name] == slow_files[name], f"{name} differs with the columnar path on"


def _taken(path: Path, fmt: str = "auto", block_bytes: int = 4 << 20) -> tuple[int, int]:
    """(records the columnar path takes, records) in one JSONL file."""
    [source] = resolve_sources([str(path)])
    forced = None if fmt == "auto" else by_name(fmt)
    taken = total = 0
    for block in iter_line_blocks(source, block_bytes=block_bytes):
        if isinstance(block, LineBlock):
            taken += len(convert_block(block, source.label, "chat", lambda r: pick_adapter(r, forced))[1])
            total += len(block.lines)
        else:
            total += 1
    return taken, total


def test_earlier_adapters_cannot_claim_a_messages_only_record_unless_guarded() -> None:
    """Auto-detection tries these before openai_messages. The columnar path assumes none of them claims a record
    with only `messages` (and `tools`) except through the content EARLIER_CONTENT_CLAIMS guards; a new adapter
    ahead of openai_messages must be reviewed against that and added here."""
    names = [a.name for a in all_adapters()]
    earlier = [a for a in all_adapters()[:names.index(ADAPTER)]]
    assert {a.name for a in earlier} == {
        "nebius_swe_agent", "swe_agent_traj", "swe_gym_openhands", "mini_swe_agent", "swe_smith",
        "agentless_localization", "agentless_repair", "imo_proofbench", "olympiadbench", "proofnet",
        "swerl_gen_prompt", "swerl_llm_judge_prompt", "math_proof_judgement", "proof_genselect",
        "proof_verification", "proof_judge_prompt", "swe_patch_prediction", "responses", "toucan_mcp", "xlam",
        "llamafactory_typed", "sharegpt", "input_output"}
    messages_only = [{"messages": r["messages"], **({"tools": r["tools"]} if "tools" in r else {})}
                     for r in CRAFTED if isinstance(r, dict) and isinstance(r.get("messages"), list)]
    for record in messages_only:
        guarded = any(claim in json.dumps(record) for claim in EARLIER_CONTENT_CLAIMS.values())
        claimed = [a.name for a in earlier if a.detect(record)]
        assert not claimed or (guarded and set(claimed) <= set(EARLIER_CONTENT_CLAIMS)), (claimed, record)


def test_arrow_whitespace_trim_is_str_strip_for_every_code_point() -> None:
    """The path trims with Arrow's kernels, and tests for blank text with a regex class, where the reference
    calls str.strip / lstrip."""
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    padded = pa.array([f"{c}x{c}" for c in chars])
    assert pc.utf8_trim_whitespace(padded).to_pylist() == [s.strip() for s in padded.to_pylist()]
    assert pc.utf8_ltrim_whitespace(padded).to_pylist() == [s.lstrip() for s in padded.to_pylist()]
    alone = pa.array(chars)
    assert pc.match_substring_regex(alone, NOT_WHITESPACE).to_pylist() == [bool(c.strip()) for c in chars]


def test_bench_corpus_identical(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    write_corpus(corpus, 300)
    assert _taken(corpus) == (300, 300)
    _assert_columnar_changes_nothing(tmp_path, [str(corpus)], "chat")


@pytest.mark.parametrize("index", range(len(CRAFTED)))
def test_each_crafted_record_between_clean_ones_identical(tmp_path: Path, index: int) -> None:
    """Alone in a block of clean records, so pyarrow parses it and the row rules alone decide."""
    good = json.dumps(_chat(ANSWER))
    path = tmp_path / "one.jsonl"
    path.write_text("\n".join([good, json.dumps(CRAFTED[index]), good]) + "\n")
    _assert_columnar_changes_nothing(tmp_path, [str(path)], "chat")


def test_deeply_nested_lines_are_handed_back(tmp_path: Path) -> None:
    """orjson stops at 1024 levels; pyarrow's parser crashes the process somewhere past 10,000."""
    def nested(depth: int) -> str:
        return "[" * depth + "]" * depth

    good = json.dumps(_chat(ANSWER))
    lines = [good, good[:-1] + f', "x": {nested(20_000)}}}', good, good[:-1] + f', "x": {nested(1_100)}}}',
             good.replace('"Hello."}', f'"Hello.", "x": {nested(350)}}}'), good[:-1] + f', "y": {nested(900)}}}']
    path = tmp_path / "deep.jsonl"
    path.write_text("\n".join(lines) + "\n")
    assert _taken(path)[0] >= 2
    _assert_columnar_changes_nothing(tmp_path, [str(path)], "chat")


@pytest.mark.parametrize("fmt", ["auto", "openai_messages"])
def test_crafted_mix_of_good_and_rejected_records_identical(tmp_path: Path, fmt: str) -> None:
    crafted = _write_crafted(tmp_path / "crafted.jsonl")
    taken, total = _taken(crafted, fmt)
    assert 10 <= taken < total - 30
    _assert_columnar_changes_nothing(tmp_path, [str(crafted)], "chat", fmt=fmt, max_record_bytes=2000)


def test_crafted_mix_identical_across_workers(tmp_path: Path) -> None:
    files = [_write_crafted(tmp_path / "crafted.jsonl"), _write_crafted(tmp_path / "again.jsonl")]
    _assert_columnar_changes_nothing(tmp_path, [str(p) for p in files], "chat", workers=2)


def test_crafted_mix_identical_across_small_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of a few lines each: taken and handed-back lines interleave inside and across blocks."""
    import curate.readers as readers

    crafted = _write_crafted(tmp_path / "crafted.jsonl")
    real = readers.iter_line_blocks
    monkeypatch.setattr("curate.ingest.steps.iter_line_blocks",
                        lambda source, limit: real(source, limit, block_bytes=600))
    _assert_columnar_changes_nothing(tmp_path, [str(crafted)], "chat", max_record_bytes=2000)


def test_demo_corpus_identical(tmp_path: Path) -> None:
    write_demo_corpus(tmp_path / "demo")
    files = sorted((tmp_path / "demo").rglob("*.jsonl"))
    for name in ("nemotron_messages.jsonl", "python_tools.jsonl", "proof_messages.jsonl"):
        taken, total = _taken(next(p for p in files if p.name == name))
        assert taken > total // 2, name
    _assert_columnar_changes_nothing(tmp_path, [str(p) for p in files], "code_reasoning")


def test_every_real_jsonl_file_identical(realdata: Path, tmp_path: Path) -> None:
    files = sorted(p for p in realdata.rglob("*.jsonl") if "benchmarks" not in p.parts)
    assert len(files) > 20
    _assert_columnar_changes_nothing(tmp_path, [str(p) for p in files], "code_reasoning")


@pytest.mark.parametrize(("max_rows", "max_bytes"), [(4096, 20_000), (50, 1 << 30)])
def test_row_groups_are_cut_the_same_way_on_both_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       max_rows: int, max_bytes: int) -> None:
    monkeypatch.setattr("curate.ingest.write.ROW_GROUP_ROWS", max_rows)
    monkeypatch.setattr("curate.ingest.write.ROW_GROUP_BYTES", max_bytes)
    corpus = tmp_path / "corpus.jsonl"
    write_corpus(corpus, 300)
    _assert_columnar_changes_nothing(tmp_path, [str(corpus)], "chat")
    shard = pq.ParquetFile(tmp_path / "columnar" / "samples" / "00000.parquet")
    rows = [shard.metadata.row_group(i).num_rows for i in range(shard.num_row_groups)]
    assert sum(rows) == 300 and len(rows) > 2 and max(rows) <= max_rows
    bytes_R = text_bytes(shard.read())
    starts = np.cumsum([0, *rows])
    for k, (start, end) in enumerate(zip(starts[:-1], starts[1:], strict=True)):
        assert bytes_R[start:end - 1].sum() < max_bytes  # a group ends at the first row that reaches a limit
        if k < len(rows) - 1:
            assert bytes_R[start:end].sum() >= max_bytes or end - start == max_rows


def test_ingest_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    """Peak RSS of the columnar path for 100 vs 300 records of 1 MiB, with 8 MiB row groups so both runs reach the
    steady state: the file triples, the peak barely moves."""
    record = json.dumps({"messages": [{"role": "user", "content": "q"},
                                      {"role": "assistant", "content": "<think>" + "x" * (1 << 20) + "</think>a"}]})
    script = ("import re, sys\n"
              "import curate.ingest.write\n"
              "curate.ingest.write.ROW_GROUP_BYTES = 8 << 20\n"
              "from curate.ingest import ingest\n"
              "ledger = ingest([sys.argv[1]], 'chat', sys.argv[2], progress=False)\n"
              "hwm = re.search(r'VmHWM:\\s+(\\d+) kB', open('/proc/self/status').read()).group(1)\n"
              "print(ledger['kept'], int(hwm) * 1024)\n")
    peaks = []
    for records in (100, 300):
        path = tmp_path / f"{records}.jsonl"
        path.write_text((record + "\n") * records)
        out = subprocess.run([sys.executable, "-c", script, str(path), str(tmp_path / f"out{records}")],
                             capture_output=True, text=True, check=True, cwd=PROJECT_ROOT, timeout=300).stdout.split()
        assert int(out[0]) == records
        peaks.append(int(out[1]))
        path.unlink()
    assert peaks[1] - peaks[0] < 48 << 20, f"peak RSS {peaks[0] / 2**20:.0f} → {peaks[1] / 2**20:.0f} MiB"


# Pieces random records are built from: Python-only whitespace, markers every rule looks for, non-ASCII text.
_TEXT = ["a", "Answer.", " ", "\n", "\t", "\x1c", "\x85", "\xa0", "\u3000", "\u200b", "é", "日本", "😀", "<think>",
         "</think>", "<|begin_of_thought|>", "<|end_of_thought|>", "<|begin_of_solution|>", "<returncode>", "\\"]


def _text(rng: random.Random) -> object:
    roll = rng.random()
    if roll < 0.03:
        return None
    if roll < 0.04:
        return rng.choice([5, [{"type": "text", "text": "part"}], {"a": 1}])
    pieces = [rng.choice(_TEXT) if rng.random() < 0.3 else rng.choice(["a", "Answer.", " "])
              for _ in range(rng.randrange(0, 8))]
    if rng.random() < 0.3:
        pieces[:0] = [rng.choice(["", " ", "\n", "\x85"]), "<think>", rng.choice(["", "plan", " \u3000"]), "</think>"]
    return "".join(pieces)


def _random_call(rng: random.Random, n: int) -> dict:
    arguments = rng.choice(['{"q": "x"}', '{"q": [1, 2.5, null]}', "", "  ", None, "[1]", "{bad", '{"q": "é"}'])
    call = {"id": rng.choice([f"c{n}", f"c{n}", "", None, "c0"]), "type": "function",
            "function": {"name": rng.choice(["search", "search", "fetch", ""]), "arguments": arguments}}
    if rng.random() < 0.03:
        call["function"]["parameters"] = "{}"
    return call


def _random_record(rng: random.Random) -> dict:
    messages: list[dict] = [{"role": "system", "content": _text(rng)}] if rng.random() < 0.5 else []
    calls = 0
    for _ in range(rng.randrange(1, 6)):
        role = rng.choice(["user", "assistant", "assistant", "tool"] * 8 + ["human", "gpt", "User", " user", "robot"])
        message: dict = {"role": role, "content": _text(rng)}
        if role in ("assistant", "gpt"):
            if rng.random() < 0.3:
                message["reasoning_content"] = rng.choice([" ", "why", "\u3000why\x85", None])
            if rng.random() < 0.3:
                message["tool_calls"] = [_random_call(rng, calls + k) for k in range(rng.randrange(0, 3))]
                calls += len(message["tool_calls"])
        if role == "tool":
            message["tool_call_id"] = rng.choice([f"c{rng.randrange(calls + 1)}", "", None, "zz"])
            if rng.random() < 0.5:
                message["name"] = rng.choice(["search", ""])
        if rng.random() < 0.05:
            message[rng.choice(["weight", "thinking", "loss", "call_id"])] = rng.choice([1, 0.5, "t", None])
        messages.append(message)
    record: dict = {"messages": messages}
    for key, value in (("uuid", "u-1"), ("tools", [{"type": "function", "function": {"name": "search"}}]),
                       ("prompt_only", True), ("score", 1.5), ("big", 1 << 70), ("available_tools", [])):
        if rng.random() < 0.04:
            record[key] = value
    return record


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_records_identical(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    path = tmp_path / "random.jsonl"
    path.write_text("".join(json.dumps(_random_record(rng), ensure_ascii=rng.random() < 0.5) + "\n"
                            for _ in range(600)))
    taken, total = _taken(path, block_bytes=20_000)
    assert total == 600 and taken > 25  # most are rejects or near-misses, handed back
    _assert_columnar_changes_nothing(tmp_path, [str(path)], "chat")


def test_cli_writes_the_same_run_with_and_without_the_columnar_path(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cli import app

    corpus = tmp_path / "corpus.jsonl"
    write_corpus(corpus, 50)
    for flag, out in (("--columnar", "columnar"), ("--no-columnar", "per_record")):
        result = CliRunner().invoke(app, ["ingest", str(corpus), "--domain", "chat", "--out", str(tmp_path / out),
                                          flag])
        assert result.exit_code == 0, result.output
    assert _outputs(tmp_path / "columnar") == _outputs(tmp_path / "per_record")
    assert len(_outputs(tmp_path / "columnar")) == 3


def test_refused_lines_are_walked_past_and_the_rest_is_taken(tmp_path: Path) -> None:
    """pyarrow refuses a line whose content is a list; the walk leaves out each such line and keeps its neighbours,
    up to MAX_REFUSED refusals per block; a line holding two objects is refused without a row and its window is
    left out whole."""
    good = json.dumps(_chat(ANSWER))
    listed = json.dumps(_chat({"role": "assistant", "content": [{"type": "text", "text": "parts"}]}))
    lines = [listed if k % 3 == 1 else good for k in range(3 * (MAX_REFUSED + 20))]
    path = tmp_path / "walk.jsonl"
    path.write_text("\n".join(lines) + "\n")
    taken, total = _taken(path)
    assert total == len(lines) and 2 * MAX_REFUSED - 2 <= taken <= 2 * MAX_REFUSED + 2
    _assert_columnar_changes_nothing(tmp_path / "walk", [str(path)], "chat")

    two = tmp_path / "two.jsonl"
    two.write_text("\n".join([good] * 10 + [f"{good} {good}"] + [good] * (WALK_LINES + 10)) + "\n")
    taken, total = _taken(two)
    assert total == WALK_LINES + 21 and taken == 21  # the first window is left out whole, the rest is taken
    _assert_columnar_changes_nothing(tmp_path / "two", [str(two)], "chat")


def test_rows_that_parse_apart_but_not_together_are_still_taken(tmp_path: Path) -> None:
    """A key holding an object early in a block and a string later: pyarrow refuses the block as a whole, the walk
    parses it window by window, and the windows are converted one by one."""
    good = _chat(ANSWER)
    lines = ([json.dumps({**good, "x": {"o": 1}})] + [json.dumps(good)] * (WALK_LINES + 10)
             + [json.dumps({**good, "x": "s"})] + [json.dumps(good)] * 10)
    path = tmp_path / "apart.jsonl"
    path.write_text("\n".join(lines) + "\n")
    assert _taken(path) == (len(lines), len(lines))
    _assert_columnar_changes_nothing(tmp_path, [str(path)], "chat")
