"""Each filter on real records (they pass) and on planted bad ones (each dropped with its reason code)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import orjson
import pytest

from curate.documents import DROP_KEY, to_document
from curate.filters import build_filter_steps, parse_filters
from curate.ingest import ingest
from curate.sample_io import iter_samples
from curate.schema import Message, Sample, ToolCall


def run_checks(samples: list[Sample], filters: dict) -> dict[str, str]:
    """id -> `check:reason` for every sample the configured checks drop."""
    data = (to_document(s) for s in samples)
    for step in build_filter_steps(parse_filters(filters)):
        data = step.run(data)
    return {d.id: f"{d.metadata[DROP_KEY]['filter']}:{d.metadata[DROP_KEY]['reason']}"
            for d in data if DROP_KEY in d.metadata}


def real(realdata: Path, tmp_path: Path, rel: str, domain: str) -> list[Sample]:
    out = tmp_path / rel.replace("/", "_")
    ingest([str(realdata / rel)], domain, out, progress=False)
    return list(iter_samples(out))


def chat(sid: str, *messages: Message, domain: str = "chat", tools: list | None = None, **meta) -> Sample:
    return Sample(id=sid, domain=domain, source="test", messages=list(messages), tools=tools or [], meta=meta)


U = lambda text: Message("user", text)  # noqa: E731
A = lambda text, reasoning=None, calls=None: Message("assistant", text, reasoning, calls)  # noqa: E731


def test_structure_real_pass_and_planted_fail(realdata, tmp_path):
    samples = real(realdata, tmp_path, "tool_calls/llamafactory_glaive_toolcall_en_demo.json", "tool_calling")
    assert len(samples) == 300
    assert run_checks(samples, {"default": {"structure": {}}}) == {}
    base = samples[0]
    planted = [
        chat("empty_user", U(" "), A("hi")),
        chat("final_user", U("q"), A("a"), U("and?")),
        chat("late_system", U("q"), Message("system", "sys"), A("a")),
        chat("orphan_tool", U("q"), Message("tool", "42"), A("a")),
        chat("assistant_first", A("hello"), U("q"), A("a")),
        chat("two_users", U("q"), U("q again"), A("a")),
    ]
    dropped = run_checks([*planted, base], {"default": {"structure": {}}})
    assert dropped == {
        "empty_user": "structure:empty_turn", "final_user": "structure:no_final_answer",
        "late_system": "structure:misplaced_system", "orphan_tool": "structure:tool_result_without_call",
        "assistant_first": "structure:no_user_first", "two_users": "structure:consecutive_role",
    }
    assert run_checks([planted[-1]], {"default": {"structure": {"allow_consecutive": True}}}) == {}


def test_structure_unanswered_tool_calls_before_the_next_assistant_turn():
    calls = [ToolCall("a", {}, "ca"), ToolCall("b", {}, "cb")]
    half = chat("half", U("q"), A("", calls=calls), Message("tool", "1", tool_call_id="ca"), A("final"))
    full = chat("full", U("q"), A("", calls=calls), Message("tool", "1", tool_call_id="ca"),
                Message("tool", "2", tool_call_id="cb"), A("final"))
    assert run_checks([half, full], {"default": {"structure": {}}}) == {"half": "structure:missing_tool_result"}


def test_prompt_only_samples_need_allow_prompt_only():
    rl = chat("rl", U("prove it"), prompt_only=True)
    assert run_checks([rl], {"default": {"structure": {}}}) == {"rl": "structure:prompt_only"}
    assert run_checks([rl], {"default": {"structure": {}}, "chat": {"structure": {"allow_prompt_only": True}}}) == {}


def test_reasoning_real_pass_and_planted_fail(realdata, tmp_path):
    samples = real(realdata, tmp_path, "tool_calls/llamafactory_reason_tool_use_demo_50.jsonl", "tool_calling")
    with_trace = [s for s in samples if s.messages[-1].reasoning_content]
    assert with_trace, "the LLaMA-Factory reasoning demo should carry traces"
    dropped = run_checks(with_trace, {"tool_calling": {"reasoning": {}}})
    # Two published records really do leave a stray </think> in the visible answer; everything else passes.
    assert set(dropped.values()) == {"reasoning:unclosed_reasoning"} and len(dropped) == 2
    for s in with_trace:
        leftover = any("</think>" in m.content for m in s.messages)
        assert (s.id in dropped) == leftover
    planted = [
        chat("no_trace", U("q"), A("answer"), domain="math"),
        chat("dangling", U("q"), A("<think>still thinking… answer"), domain="math"),
        chat("no_answer", U("q"), A("", "long thought"), domain="math"),
        chat("ok", U("q"), A("42", "thought"), domain="math"),
    ]
    assert run_checks(planted, {"math": {"reasoning": {}}}) == {
        "no_trace": "reasoning:missing_reasoning", "dangling": "reasoning:unclosed_reasoning",
        "no_answer": "reasoning:no_answer_after_reasoning"}
    # Not required in chat: only the dangling marker is an error there.
    relabeled = [replace(s, domain="chat") for s in planted]
    assert run_checks(relabeled, {"chat": {"reasoning": {"required": False}}}) == {
        "dangling": "reasoning:unclosed_reasoning", "no_answer": "reasoning:no_answer_after_reasoning"}


def test_python_code_real_pass_and_planted_fail(realdata, tmp_path):
    samples = real(realdata, tmp_path, "code_reasoning/nemogym_code_gen__example_rollouts.jsonl", "code_reasoning")
    assert len(samples) == 5
    assert run_checks(samples, {"code_reasoning": {"python_code": {}}}) == {}
    d = "code_reasoning"
    planted = [
        chat("syntax", U("q"), A("```python\ndef f(:\n  pass\n```"), domain=d),
        chat("no_block", U("q"), A("just prose"), domain=d),
        chat("denied", U("q"), A("```py\nimport os, sys\nos.system('x')\n```"), domain=d),
        chat("ok", U("q"), A("Here:\n```python\nimport math\nprint(math.pi)\n```"), domain=d),
    ]
    assert run_checks(planted, {d: {"python_code": {"denied_imports": ["os", "subprocess"]}}}) == {
        "syntax": "python_code:syntax_error", "no_block": "python_code:no_code_block",
        "denied": "python_code:denied_import"}
    allow = run_checks(planted[2:], {d: {"python_code": {"allowed_imports": ["math"]}}})
    assert allow == {"denied": "python_code:import_not_allowed"}


def test_tool_calls_real_pass_and_planted_fail(realdata, tmp_path):
    samples = real(realdata, tmp_path, "tool_calls/llamafactory_glaive_toolcall_en_demo.json", "tool_calling")
    with_calls = [s for s in samples if any(m.tool_calls for m in s.messages)]
    assert len(with_calls) > 50
    dropped = run_checks(with_calls, {"tool_calling": {"tool_calls": {}}})
    assert len(dropped) <= 2, dropped  # real glaive data: the odd wrongly typed argument, nothing systematic
    # BFCL schemas use Python type names (dict, float): they must validate, not be reported as broken.
    bfcl = orjson.loads((realdata / "benchmarks/bfcl/BFCL_v4_simple_python.json").read_bytes().splitlines()[0])
    tools = [{"type": "function", "function": fn} for fn in bfcl["function"]]
    name = tools[0]["function"]["name"]

    def call(sid, args, fn=name):
        return chat(sid, U("q"), A("", None, [ToolCall(fn, args, "c1")]), Message("tool", "ok", tool_call_id="c1"),
                    A("done"), domain="tool_calling", tools=tools)

    planted = [
        call("good", {"base": 10, "height": 5}),
        call("undeclared", {"base": 10, "height": 5}, fn="rm_rf"),
        call("missing", {"base": 10}),
        call("wrong_type", {"base": "ten", "height": 5}),
    ]
    assert run_checks(planted, {"tool_calling": {"tool_calls": {}}}) == {
        "undeclared": "tool_calls:undeclared_tool", "missing": "tool_calls:missing_required_param",
        "wrong_type": "tool_calls:argument_type_mismatch"}


def test_proof_real_pass_and_planted_fail(realdata, tmp_path):
    samples = real(realdata, tmp_path, "math_proofs/proofnet_valid.jsonl", "math_proof")
    assert len(samples) > 100
    settings = {"math_proof": {"proof": {"min_chars": 20}}}
    assert run_checks(samples, settings) == {}
    d = "math_proof"
    planted = [chat("short", U("Prove it."), A("Trivial."), domain=d),
               chat("empty", U("Prove it."), A("", "thinking only"), domain=d),
               chat("unboxed", U("Prove it."), A("By induction on n the claim holds for all n."), domain=d)]
    assert run_checks(planted, settings) == {"short": "proof:proof_too_short", "empty": "proof:no_proof"}
    boxed = {d: {"proof": {"min_chars": 20, "final_answer_pattern": r"\\boxed\{"}}}
    assert run_checks(planted[2:], boxed) == {"unboxed": "proof:missing_final_answer"}


def test_swe_real_pass_and_planted_fail(realdata, tmp_path):
    samples = real(realdata, tmp_path, "swe_agentic/adp_swe-gym_openhands_sampled_trajectories_sample_raw.json",
                   "swe_agentic")
    settings = {"swe_agentic": {"swe": {"require_patch": True, "require_submission": True, "require_resolved": True}}}
    assert samples and run_checks(samples, settings) == {}
    good = samples[0]
    patch = good.meta["patch"]
    lines = patch.splitlines(keepends=True)
    first_hunk = next(i for i, line in enumerate(lines) if line.startswith("@@"))
    broken_hunk = "".join(lines[: first_hunk + 2] + lines[first_hunk + 5 :])  # hunk shorter than its header says
    planted = [
        replace(good, id="malformed", meta={**good.meta, "patch": broken_hunk}),
        replace(good, id="not_a_diff", meta={**good.meta, "patch": "I fixed it, trust me"}),
        replace(good, id="no_patch", meta={"resolved": True}, messages=good.messages[:2]),
        replace(good, id="unresolved", meta={**good.meta, "resolved": "False"}),
    ]
    assert run_checks(planted, settings) == {
        "malformed": "swe:malformed_patch", "not_a_diff": "swe:malformed_patch", "no_patch": "swe:missing_patch",
        "unresolved": "swe:unresolved"}
    lenient = {"swe_agentic": {"swe": {"require_submission": True}}}
    assert run_checks(planted[2:3], lenient) == {"no_patch": "swe:no_submission"}


def test_repetition_and_length(realdata, tmp_path):
    samples = real(realdata, tmp_path, "tool_calls/llamafactory_glaive_toolcall_en_demo.json", "tool_calling")
    settings = {"default": {"repetition": {}, "length": {"min_chars": 30, "max_chars": 20000}}}
    assert len(run_checks(samples, settings)) <= len(samples) // 50  # real conversations are not loops
    loop = "Wait, let me check that again.\n" * 60
    planted = [chat("loop", U("Is 7 prime?"), A("Yes. " + loop)), chat("tiny", U("a"), A("b")),
               chat("huge", U("q " * 20), A("x" * 30000))]
    dropped = run_checks(planted, settings)
    assert dropped["loop"].startswith("repetition:repetition_")
    assert dropped["tiny"] == "length:too_short" and dropped["huge"] == "length:too_long"


def test_max_tokens_needs_a_counter_and_uses_it():
    with pytest.raises(ValueError, match=r"filters\.chat\.length\.max_tokens"):
        build_filter_steps(parse_filters({"chat": {"length": {"max_tokens": 10}}}))
    steps = build_filter_steps(parse_filters({"chat": {"length": {"max_tokens": 10}}}),
                               count_tokens=lambda s: sum(len(m.content.split()) for m in s.messages))
    docs = [to_document(chat("long", U("one two three four five six"), A("seven eight nine ten eleven"))),
            to_document(chat("short", U("one"), A("two")))]
    out = {d.id: d.metadata.get(DROP_KEY, {}).get("reason") for d in steps[0].run(iter(docs))}
    assert out == {"long": "too_many_tokens", "short": None}


def test_filter_config_errors_name_the_key():
    with pytest.raises(ValueError, match=r"filters\.math\.proof\.min_chars: expected an integer"):
        parse_filters({"math": {"proof": {"min_chars": "many"}}})
    with pytest.raises(ValueError, match=r"filters\.maths: unknown domain"):
        parse_filters({"maths": {}})
    with pytest.raises(ValueError, match=r"filters\.chat\.spellcheck: unknown check"):
        parse_filters({"chat": {"spellcheck": {}}})
    merged = parse_filters({"default": {"length": {"max_chars": 100}}, "chat": {"length": {"min_chars": 5}},
                            "math": {"length": False}})
    assert (merged["chat"]["length"].min_chars, merged["chat"]["length"].max_chars) == (5, 100)
    assert "length" not in merged["math"] and merged["science"]["length"].max_chars == 100


def test_max_tokens_with_the_template_tokenizer():
    from curate.build import TemplateTokenCounter

    counter = TemplateTokenCounter(None, None)  # the embedded tokenizer + Nemotron-3-Nano template (packers/)
    short, long = chat("short", U("hi"), A("hello")), chat("long", U("word " * 400), A("ok"))
    n_short = counter(short)
    assert 5 < n_short < 60 and counter(long) > 400
    steps = build_filter_steps(parse_filters({"chat": {"length": {"max_tokens": 100}}}), count_tokens=counter)
    out = {d.id: d.metadata.get(DROP_KEY, {}).get("reason") for d in steps[0].run(map(to_document, [short, long]))}
    assert out == {"short": None, "long": "too_many_tokens"}
