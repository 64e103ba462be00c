"""curate.fastpath must not change what ingest writes: samples, rejects and ledger are byte-identical with it on or
off, on the bench corpus, the demo corpus's OpenAI-messages files, real OpenAI-messages data and a file that mixes
good records with every reject and near-miss shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.ingest import write_corpus
from curate.adapters import RecordContext
from curate.demo_data import write_demo_corpus
from curate.fastpath import REVIEWED_EARLIER_ADAPTERS, earlier_adapters, fast_sample
from curate.ingest import ingest
from curate.readers import iter_records, resolve_sources


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


def _assert_fast_path_changes_nothing(tmp_path: Path, sources: list[str], domain: str, **options: object) -> None:
    fast = ingest(sources, domain, tmp_path / "fast", progress=False, **options)
    slow = ingest(sources, domain, tmp_path / "slow", progress=False, fast_path=False, **options)
    assert fast == slow
    fast_files, slow_files = _outputs(tmp_path / "fast"), _outputs(tmp_path / "slow")
    assert fast_files.keys() == slow_files.keys()
    for name in fast_files:
        assert fast_files[name] == slow_files[name], f"{name} differs with the fast path on"


def _fast_count(path: Path, forced: bool = False) -> tuple[int, int]:
    """(records the fast path takes, records) in one file: an equivalence test means little if it takes none."""
    [source] = resolve_sources([str(path)])
    records = list(iter_records(source))
    taken = sum(fast_sample(record, RecordContext(source.label, index, "chat"), forced) is not None
                for index, record in records)
    return taken, len(records)


def test_reviewed_adapters_are_the_ones_detection_tries_first() -> None:
    """A new adapter ahead of openai_messages could claim records the fast path takes: it must be reviewed."""
    assert earlier_adapters() == REVIEWED_EARLIER_ADAPTERS


def test_bench_corpus_identical(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    write_corpus(corpus, 300)
    assert _fast_count(corpus) == (300, 300)
    _assert_fast_path_changes_nothing(tmp_path, [str(corpus)], "chat")


@pytest.mark.parametrize("fmt", ["auto", "openai_messages"])
def test_crafted_mix_of_good_and_rejected_records_identical(tmp_path: Path, fmt: str) -> None:
    crafted = _write_crafted(tmp_path / "crafted.jsonl")
    taken, total = _fast_count(crafted, forced=fmt != "auto")
    assert 10 <= taken < total - 30
    _assert_fast_path_changes_nothing(tmp_path, [str(crafted)], "chat", fmt=fmt, max_record_bytes=2000)


def test_crafted_mix_identical_across_workers(tmp_path: Path) -> None:
    files = [_write_crafted(tmp_path / "crafted.jsonl"), _write_crafted(tmp_path / "again.jsonl")]
    _assert_fast_path_changes_nothing(tmp_path, [str(p) for p in files], "chat", workers=2)


def test_demo_corpus_openai_files_identical(tmp_path: Path) -> None:
    write_demo_corpus(tmp_path / "demo")
    files = [tmp_path / "demo" / "code_reasoning" / "nemotron_messages.jsonl",
             tmp_path / "demo" / "code_tool_calling" / "python_tools.jsonl"]
    for path in files:
        taken, total = _fast_count(path)
        assert taken > total // 2, path
    _assert_fast_path_changes_nothing(tmp_path, [str(p) for p in files], "code_reasoning")


def test_realdata_openai_messages_identical(realdata: Path, tmp_path: Path) -> None:
    files = [realdata / "code_reasoning" / "adp_code_feedback_sample_raw.json",
             realdata / "swe_agentic" / "adp_mini-coder_sample_raw.json",
             realdata / "swe_agentic" / "minisweagent_github_issue.traj.json"]
    assert _fast_count(files[0])[0] > 0
    _assert_fast_path_changes_nothing(tmp_path, [str(p) for p in files], "swe_agentic")
