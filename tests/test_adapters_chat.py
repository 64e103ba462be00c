"""Chat-shaped ingest adapters: every real file converts, inline examples per shape, bad records reject with
the right reason and field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from curate.adapters import RecordContext, detect
from curate.adapters.chat.xlam import xlam_parameters_to_schema
from curate.adapters.text import (
    CallLinker,
    openai_tool,
    parse_arguments,
    parse_hermes_tool_calls,
    split_reasoning,
)
from curate.schema import Sample, SampleError, ToolCall, from_row, sample_id, to_row, validate


def load_records(path: Path) -> list[dict[str, Any]]:
    text = path.read_text()
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    data = json.loads(text)
    return data if isinstance(data, list) else [data]


def convert(record: dict[str, Any], index: int = 0, source: str = "inline", domain: str = "chat") -> Sample:
    """detect + convert + validate, the way ingest runs an adapter; exactly one sample per record here."""
    samples = list(detect(record).convert(record, RecordContext(source=source, index=index, domain=domain)))
    assert len(samples) == 1
    validate(samples[0])
    return samples[0]


def reject(record: dict[str, Any]) -> SampleError:
    with pytest.raises(SampleError) as info:
        convert(record)
    return info.value


# ------------------------------------------------------------------ real files

REAL_FILES = {
    # path: (adapter, records, prompt-only samples, distinct sample ids)
    "code_reasoning/adp_code_feedback_sample_raw.json": ("openai_messages", 10, 0, 10),
    "code_reasoning/nemogym_code_gen__example.jsonl": ("responses", 5, 5, 5),
    "code_reasoning/nemogym_code_gen__example_rollouts.jsonl": ("responses", 5, 0, 5),
    # the five lines of this file are byte-identical (native id 1): five samples with five ids (a native id is no
    # sample id); dedup, not an id collision, is what sees them as exact duplicates
    "code_reasoning/nemogym_competitive_coding_challenges__example.jsonl": ("responses", 5, 5, 5),
    "code_reasoning/nemogym_competitive_coding_challenges__example_rollouts.jsonl": ("responses", 5, 0, 5),
    "code_reasoning/nemogym_evalplus__example_rollouts.jsonl": ("responses", 5, 0, 5),
    "tool_calls/adp_toucan_1_5m_sample_raw.json": ("toucan_mcp", 1, 0, 1),
    "tool_calls/llamafactory_glaive_toolcall_en_demo.json": ("sharegpt", 300, 0, 300),
    "tool_calls/llamafactory_reason_tool_use_demo_50.jsonl": ("llamafactory_typed", 50, 0, 50),
    "tool_calls/nemogym_example_single_tool_call__example_rollouts.jsonl": ("responses", 5, 0, 5),
    "tool_calls/nemogym_single_step_tool_use_with_argument_comparison__example.jsonl": ("responses", 5, 5, 5),
    "tool_calls/nemogym_single_step_tool_use_with_argument_comparison__example_rollouts.jsonl":
        ("responses", 5, 0, 5),
    "tool_calls/nemogym_single_step_tool_use_with_argument_comparison__parallel_example.jsonl":
        ("responses", 5, 5, 5),
}


def convert_file(realdata: Path, rel: str) -> list[Sample]:
    path = realdata / rel
    return [convert(r, i, str(path), "tool_calling") for i, r in enumerate(load_records(path))]


@pytest.mark.parametrize("rel", sorted(REAL_FILES))
def test_every_real_record_converts(realdata: Path, rel: str) -> None:
    adapter, n_records, n_prompt_only, n_ids = REAL_FILES[rel]
    records = load_records(realdata / rel)
    assert len(records) == n_records
    assert {detect(r).name for r in records} == {adapter}
    samples = convert_file(realdata, rel)
    assert sum(bool(s.meta.get("prompt_only")) for s in samples) == n_prompt_only
    assert len({s.id for s in samples}) == n_ids
    for s in samples:
        assert from_row(to_row(s)) == s  # arguments and schemas survive the Parquet form


def test_glaive_sharegpt_function_call_and_observation(realdata: Path) -> None:
    s = convert_file(realdata, "tool_calls/llamafactory_glaive_toolcall_en_demo.json")[0]
    assert [m.role for m in s.messages] == ["user", "assistant", "user", "assistant", "tool", "assistant", "user",
                                            "assistant"]
    call = s.messages[3].tool_calls[0]
    assert (call.id, call.name, call.arguments) == (
        "call_0", "search_recipes", {"ingredients": ["chicken", "bell peppers", "rice"]})
    assert (s.messages[4].tool_call_id, s.messages[4].name) == ("call_0", "search_recipes")
    assert s.tools[0]["type"] == "function" and s.tools[0]["function"]["name"] == "search_recipes"
    assert s.tools[0]["function"]["parameters"]["required"] == ["ingredients"]


def test_typed_content_reasoning_and_parallel_results(realdata: Path) -> None:
    s = convert_file(realdata, "tool_calls/llamafactory_reason_tool_use_demo_50.jsonl")[2]
    first_calls = next(m for m in s.messages if m.tool_calls)
    assert [(c.id, c.name, c.arguments) for c in first_calls.tool_calls] == [
        ("call_0", "circle_area", {"radius": 1.5}), ("call_1", "circle_area", {"radius": 3})]
    assert first_calls.reasoning_content and "reasoning" not in first_calls.content
    results = [m for m in s.messages if m.role == "tool"]
    # one source tool turn per batch of parallel calls → one tool message per call, linked in order
    assert [m.tool_call_id for m in results] == ["call_0", "call_1", "call_2", "call_3", "call_4"]
    assert results[1].content == "{'area': 28.2743, 'radius': 3, 'unit':'square meters'}"
    assert s.tools[0]["function"]["name"] == "circle_area"


def test_toucan_mcp(realdata: Path) -> None:
    s = convert_file(realdata, "tool_calls/adp_toucan_1_5m_sample_raw.json")[0]
    assert [m.role for m in s.messages] == ["user", "assistant", "tool", "assistant"]  # declaration dropped
    turn = s.messages[1]
    assert turn.content.startswith("I'll help you conduct comprehensive research on StellarPay")
    assert turn.tool_calls[0].arguments == {
        "query": "StellarPay fintech startup Series B business model recent developments", "numResults": 5}
    assert s.messages[2].tool_call_id == turn.tool_calls[0].id
    assert [t["function"]["name"] for t in s.tools] == ["exa-search-web_search_exa"]
    assert s.meta["uuid"] == "ac0907b0-4f43-52e3-aafe-2d6a6f3e3213"
    assert s.id == sample_id(str(realdata / "tool_calls/adp_toucan_1_5m_sample_raw.json"), 0)
    assert s.meta["id"] == "toucan_sample_0"


def test_responses_rollout_reasoning_and_verdicts(realdata: Path) -> None:
    s = convert_file(realdata, "code_reasoning/nemogym_evalplus__example_rollouts.jsonl")[0]
    user, answer = s.messages
    assert user.role == "user" and "def has_close_elements" in user.content
    assert answer.reasoning_content.startswith("We need to implement function has_close_elements")
    assert answer.content.startswith("```python\ndef has_close_elements")
    assert s.meta["is_correct"] is True and s.meta["verifier_metadata"] == {"task_id": "HumanEval/0"}
    assert s.meta["model"] == "/hf_models/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16"
    assert "response" not in s.meta and "responses_create_params" not in s.meta


def test_responses_prompt_only_keeps_verifier(realdata: Path) -> None:
    s = convert_file(realdata, "code_reasoning/nemogym_code_gen__example.jsonl")[0]
    assert [m.role for m in s.messages] == ["user"] and s.meta["prompt_only"] is True
    assert s.meta["verifier_metadata"]["unit_tests"]["inputs"] and s.meta["dataset"] == "taco"
    parallel = convert_file(realdata,
                            "tool_calls/nemogym_single_step_tool_use_with_argument_comparison__parallel_example.jsonl")
    assert parallel[0].meta["expected_action"]["type"] == "function_call_batch"
    assert parallel[0].tools[0] == {"type": "function", "function": {
        "name": "get_weather", "description": "Get the current weather for a single city.",
        "parameters": parallel[0].tools[0]["function"]["parameters"], "strict": True}}


def test_responses_function_call_items_in_history(realdata: Path) -> None:
    s = convert_file(realdata,
                     "tool_calls/nemogym_single_step_tool_use_with_argument_comparison__example_rollouts.jsonl")[0]
    assert [m.role for m in s.messages] == ["system", "user", "assistant", "tool", "assistant"]
    call = s.messages[2].tool_calls[0]
    assert (call.name, call.arguments) == ("authenticate_user", {"user_id": "S901", "event_confirmation_code": "W123"})
    assert call.id == "fc_84483635e9814141ba14adad7ba90af9" == s.messages[3].tool_call_id
    assert s.messages[2].reasoning_content.startswith("Okay, let's see.")
    assert s.meta["prompt_only"] is False and s.meta["reward"] == 1.0


def test_developer_role_and_native_id(realdata: Path) -> None:
    s = convert_file(realdata, "tool_calls/nemogym_example_single_tool_call__example_rollouts.jsonl")[0]
    assert s.messages[0].role == "system"  # Responses `developer`
    feedback = convert_file(realdata, "code_reasoning/adp_code_feedback_sample_raw.json")[0]
    assert feedback.id == sample_id(str(realdata / "code_reasoning/adp_code_feedback_sample_raw.json"), 0)
    assert feedback.meta["id"] == 13461 and feedback.domain == "tool_calling"


# ------------------------------------------------------------------ inline examples, one per shape

def test_openai_messages_tool_calls_string_arguments_and_parts() -> None:
    s = convert({"messages": [
        {"role": "system", "content": "You are a coding assistant."},
        {"role": "user", "content": [{"type": "text", "text": "Run "}, {"type": "text", "text": "the tests."}]},
        {"role": "assistant", "content": "<think>\nI should call pytest.\n</think>\n\n", "tool_calls": [
            {"id": "call_a1", "type": "function",
             "function": {"name": "bash", "arguments": "{\"command\": \"pytest -q\"}"}}]},
        {"role": "tool", "tool_call_id": "call_a1", "content": "3 passed"},
        {"role": "assistant", "content": "All 3 tests pass.", "reasoning_content": "The run was green."},
    ], "tools": [{"type": "function", "function": {"name": "bash", "parameters": {"type": "object"}}}]})
    assert s.messages[1].content == "Run the tests."
    call_turn = s.messages[2]
    assert call_turn.reasoning_content == "I should call pytest." and call_turn.content == ""
    assert call_turn.tool_calls == [ToolCall(name="bash", arguments={"command": "pytest -q"}, id="call_a1")]
    assert (s.messages[3].tool_call_id, s.messages[3].name) == ("call_a1", "bash")
    assert s.messages[4].reasoning_content == "The run was green." and s.messages[4].content == "All 3 tests pass."


def test_openai_legacy_function_call() -> None:
    s = convert({"messages": [
        {"role": "user", "content": "Weather in Oslo?"},
        {"role": "assistant", "content": None,
         "function_call": {"name": "get_weather", "arguments": "{\"city\": \"Oslo\"}"}},
        {"role": "function", "name": "get_weather", "content": "{\"temp_c\": 4}"},
        {"role": "assistant", "content": "It is 4 °C in Oslo."},
    ]})
    assert s.messages[1].tool_calls[0].arguments == {"city": "Oslo"}
    assert s.messages[2].role == "tool" and s.messages[2].tool_call_id == s.messages[1].tool_calls[0].id == "call_0"


def test_opencodereasoning_input_output() -> None:
    record = {
        "id": "a1b2c3", "input": "Given n, print the sum 1..n.\n\nInput\nOne integer n (1 ≤ n ≤ 10^9).",
        "output": "<think>\nUse the closed form n(n+1)/2.\n</think>\n\n"
                  "```python\nn = int(input())\nprint(n * (n + 1) // 2)\n```",
        "solution": "n = int(input())\nprint(n * (n + 1) // 2)", "source": "codeforces", "difficulty": "800",
        "dataset": "taco", "license": "apache-2.0", "split": "train", "index": "42",
    }
    s = convert(record, domain="code_reasoning")
    assert [m.role for m in s.messages] == ["user", "assistant"]
    assert s.messages[1].reasoning_content == "Use the closed form n(n+1)/2."
    assert s.messages[1].content.startswith("```python\nn = int(input())")
    assert s.meta["difficulty"] == "800" and s.meta["solution"] == record["solution"]
    assert s.id == sample_id("inline", 0) and s.meta["id"] == "a1b2c3" and s.domain == "code_reasoning"


def test_llama_nemotron_llama3_tokens_input() -> None:
    record = {
        "input": "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\ndetailed thinking on<|eot_id|>"
                 "<|start_header_id|>user<|end_header_id|>\n\nWhat is 17 * 23?<|eot_id|>"
                 "<|start_header_id|>assistant<|end_header_id|>\n\n391.<|eot_id|>"
                 "<|start_header_id|>user<|end_header_id|>\n\nAnd 17 * 24?<|eot_id|>"
                 "<|start_header_id|>assistant<|end_header_id|>\n\n",
        "output": "<think>\n17*24 = 391 + 17 = 408.\n</think>\n\n408<|eot_id|>",
        "category": "math", "reasoning": "on", "generator": "DeepSeek-R1", "system_prompt": "detailed thinking on",
    }
    s = convert(record)
    assert [(m.role, m.content) for m in s.messages] == [
        ("system", "detailed thinking on"), ("user", "What is 17 * 23?"), ("assistant", "391."),
        ("user", "And 17 * 24?"), ("assistant", "408")]
    assert s.messages[-1].reasoning_content == "17*24 = 391 + 17 = 408."
    assert s.meta["generator"] == "DeepSeek-R1"


def test_opencodereasoning_placeholder_input_is_rejected() -> None:
    err = reject({"id": "x", "input": "-", "output": "<think>a</think>b", "dataset": "taco"})
    assert (err.reason, err.field) == ("no_prompt", "input")
    assert "taco" in err.detail


def test_thinking_field_is_reasoning() -> None:
    s = convert({"messages": [{"role": "user", "content": "2+2?"},
                              {"role": "assistant", "thinking": "Add them.", "content": "4"}]})
    assert (s.messages[1].reasoning_content, s.messages[1].content) == ("Add them.", "4")


def test_llama_nemotron_message_list_input_gets_system_prompt() -> None:
    s = convert({"input": [{"role": "user", "content": "Name a prime above 100."}],
                 "output": "<think></think>101", "system_prompt": "detailed thinking off", "reasoning": "off"})
    assert [(m.role, m.content, m.reasoning_content) for m in s.messages] == [
        ("system", "detailed thinking off", None), ("user", "Name a prime above 100.", None),
        ("assistant", "101", None)]


def test_openthoughts_markers_in_sharegpt() -> None:
    s = convert({"system": "Your role as an assistant involves thoroughly exploring questions ...",
                 "conversations": [
                     {"from": "user", "value": "Return your final response within \\boxed{}. Compute 2^10."},
                     {"from": "assistant", "value": "<|begin_of_thought|>\n\n2^10 = 1024.\n\n<|end_of_thought|>\n\n"
                                                    "<|begin_of_solution|>\n\n\\boxed{1024}\n\n<|end_of_solution|>"}]})
    assert [m.role for m in s.messages] == ["system", "user", "assistant"]
    assert (s.messages[2].reasoning_content, s.messages[2].content) == ("2^10 = 1024.", "\\boxed{1024}")


def test_hermes_tool_calls_in_sharegpt() -> None:
    tools = json.dumps([{"type": "function", "function": {"name": "get_stock_price", "description": "Price of a stock",
                                                           "parameters": {"type": "object", "properties": {
                                                               "symbol": {"type": "string"}}}}}])
    s = convert({"conversations": [
        {"from": "system", "value": "You are a function calling AI model."},
        {"from": "human", "value": "Price of AAPL and MSFT?"},
        {"from": "gpt", "value": "Let me check both.\n<tool_call>\n{\"name\": \"get_stock_price\", \"arguments\": "
                                 "{\"symbol\": \"AAPL\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_stock_price\","
                                 " \"arguments\": {\"symbol\": \"MSFT\"}}\n</tool_call>"},
        {"from": "tool", "value": "<tool_response>\n{\"symbol\": \"AAPL\", \"price\": 190.1}\n</tool_response>"},
        {"from": "tool", "value": "<tool_response>\n{\"symbol\": \"MSFT\", \"price\": 410.5}\n</tool_response>"},
        {"from": "gpt", "value": "AAPL is at $190.10 and MSFT at $410.50."},
    ], "tools": tools})
    calls = s.messages[2].tool_calls
    assert s.messages[2].content == "Let me check both."
    assert [(c.id, c.arguments) for c in calls] == [("call_0", {"symbol": "AAPL"}), ("call_1", {"symbol": "MSFT"})]
    assert [(m.tool_call_id, m.content) for m in s.messages[3:5]] == [
        ("call_0", "{\"symbol\": \"AAPL\", \"price\": 190.1}"), ("call_1", "{\"symbol\": \"MSFT\", \"price\": 410.5}")]


def test_hermes_python_repr_calls() -> None:
    # NousResearch hermes-function-calling-v1 writes the call as a Python dict repr, not JSON
    s = convert({"conversations": [
        {"from": "human", "value": "What is TSLA trading at?"},
        {"from": "gpt", "value": "<tool_call>\n{'arguments': {'symbol': 'TSLA', 'live': True}, "
                                 "'name': 'get_stock_price'}\n</tool_call>"},
        {"from": "tool", "value": "<tool_response>\n{'price': 251.3}\n</tool_response>"},
        {"from": "gpt", "value": "TSLA trades at $251.30."}]})
    assert s.messages[1].tool_calls == [ToolCall(name="get_stock_price", arguments={"symbol": "TSLA", "live": True},
                                                 id="call_0")]
    assert s.messages[1].content == "" and s.messages[2].content == "{'price': 251.3}"


@pytest.mark.parametrize("literal", [
    "{'name': 'f', 'arguments': {1: 'a'}}",  # int key
    "{'name': 'f', 'arguments': {'tags': {'a', 'b'}}}",  # set
    "{'name': 'f', 'arguments': {'point': (1, 2)}}",  # tuple
    "{'name': 'f', 'arguments': {'raw': b'x'}}",  # bytes
    "{'name': 'f', 'arguments': {'x': 1e999}}",  # inf
    "{'name': 'f', 'arguments': {'z': 1j}}",  # complex
])
def test_hermes_python_literal_that_json_cannot_hold_keeps_text(literal: str) -> None:
    """A Python-literal call is structured only when JSON can hold it; anything else stays text as written."""
    text = f"Calling.\n<tool_call>\n{literal}\n</tool_call>"
    assert parse_hermes_tool_calls(text) is None
    s = convert({"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": text}]})
    assert s.messages[1].content == text and s.messages[1].tool_calls is None
    assert from_row(to_row(s)) == s


def test_hermes_block_that_does_not_parse_keeps_text() -> None:
    text = "Calling.\n<tool_call>\n{\"name\": \"f\", \"arguments\": {oops}}\n</tool_call>"
    s = convert({"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": text}]})
    assert s.messages[1].content == text and s.messages[1].tool_calls is None


def test_xlam_record() -> None:
    s = convert({
        "id": 0, "query": "Where can I find live giveaways for beta access and games?",
        "answers": "[{\"name\": \"live_giveaways_by_type\", \"arguments\": {\"type\": \"beta\"}}, "
                   "{\"name\": \"live_giveaways_by_type\", \"arguments\": {\"type\": \"game\"}}]",
        "tools": "[{\"name\": \"live_giveaways_by_type\", \"description\": \"Retrieve live giveaways from the "
                 "GamerPower API based on the specified type.\", \"parameters\": {\"type\": {\"description\": "
                 "\"The type of giveaways to retrieve (e.g., game, loot, beta).\", \"type\": \"str\", "
                 "\"default\": \"game\"}, \"platform\": {\"description\": \"Platform name.\", \"type\": \"str\"}}}]",
    }, domain="tool_calling")
    user, assistant = s.messages
    assert user.content.startswith("Where can I find") and assistant.content == ""
    assert [c.arguments for c in assistant.tool_calls] == [{"type": "beta"}, {"type": "game"}]
    params = s.tools[0]["function"]["parameters"]
    assert params["type"] == "object" and params["required"] == ["platform"]
    assert params["properties"]["type"] == {
        "type": "string", "description": "The type of giveaways to retrieve (e.g., game, loot, beta).",
        "default": "game"}


@pytest.mark.parametrize(("type_name", "schema"), [
    ("str", {"type": "string"}),
    ("int, optional", {"type": "integer"}),
    ("List[int]", {"type": "array", "items": {"type": "integer"}}),
    ("Dict[str, Any], optional", {"type": "object"}),
    ("List[Dict[str, int]]", {"type": "array", "items": {"type": "object"}}),
    ("Union[int, str]", {}),  # no JSON Schema type: unconstrained rather than wrong
])
def test_xlam_python_types_become_json_schema(type_name: str, schema: dict) -> None:
    params = xlam_parameters_to_schema({"x": {"type": type_name, "description": "d"}})
    assert params["properties"]["x"] == {**schema, "description": "d"}
    assert params["required"] == ([] if "optional" in type_name else ["x"])


def test_detection_prefers_specific_shapes() -> None:
    plain = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
    typed = {"messages": [{"role": "user", "content": [{"type": "text", "value": "hi"}]},
                          {"role": "assistant", "content": [{"type": "text", "value": "hello"}]}]}
    assert detect(plain).name == "openai_messages"
    assert detect(typed).name == "llamafactory_typed"
    assert detect({**plain, "available_tools": []}).name == "toucan_mcp"
    assert detect({"responses_create_params": {"input": "hi"}}).name == "responses"
    with pytest.raises(SampleError) as info:
        detect({"text": "just a document"})
    assert info.value.reason == "unknown_shape"


def test_same_record_same_sample() -> None:
    record = {"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}]}
    assert convert(record, index=7) == convert(record, index=7)
    assert convert(record, index=7).id != convert(record, index=8).id


@pytest.mark.parametrize("native", [{"id": 1}, {"uuid": "u"}, {"task_id": "t"}, {"id": 1, "_ng_rollout_index": 0}])
def test_repeated_native_ids_give_distinct_sample_ids(native: dict[str, Any]) -> None:
    """Real files repeat native ids (one task, many rollouts or lines): the id comes from the record's position,
    the native id stays in meta, and the same position in the same source gives the same id on a re-run."""
    record = {**native, "messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}]}
    first, second = convert(record, index=0), convert(record, index=1)
    assert first.id != second.id and first.id == convert(dict(record), index=0).id
    assert all(s.meta[k] == v for s in (first, second) for k, v in native.items())


# ------------------------------------------------------------------ bad records

def test_unparsable_string_arguments() -> None:
    err = reject({"messages": [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "bash", "arguments": "{\"command\": \"ls"}}]}]})
    assert (err.reason, err.field) == ("bad_tool_arguments", "messages[1].tool_calls[0].function.arguments")


def test_non_object_arguments() -> None:
    with pytest.raises(SampleError) as info:
        parse_arguments("[1, 2]", "f")
    assert info.value.reason == "bad_tool_arguments"


def test_unknown_sharegpt_from() -> None:
    err = reject({"conversations": [{"from": "human", "value": "hi"}, {"from": "narrator", "value": "..."}]})
    assert (err.reason, err.field) == ("unknown_role", "conversations[1].from")


def test_sharegpt_function_call_not_json() -> None:
    err = reject({"conversations": [{"from": "human", "value": "hi"},
                                    {"from": "function_call", "value": "{name: f}"}]})
    assert (err.reason, err.field) == ("bad_tool_arguments", "conversations[1].value")


def test_empty_assistant() -> None:
    err = reject({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "  "}]})
    assert (err.reason, err.field) == ("empty_assistant", "messages[1]")


def test_unclosed_think_is_a_truncated_generation() -> None:
    err = reject({"messages": [{"role": "user", "content": "hi"},
                               {"role": "assistant", "content": "<think>\nLet me see, first"}]})
    assert (err.reason, err.field) == ("unclosed_think", "messages[1].content")
    err = reject({"input": "q", "output": "<think>cut off"})
    assert (err.reason, err.field) == ("unclosed_think", "output")


def test_orphan_tool_result() -> None:
    err = reject({"messages": [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": "", "tool_calls": [{"id": "c1", "function": {"name": "f", "arguments": {}}}]},
        {"role": "tool", "tool_call_id": "c9", "content": "?"},
        {"role": "assistant", "content": "done"}]})
    assert (err.reason, err.field) == ("orphan_tool_result", "messages[2].tool_call_id")
    err = reject({"conversations": [{"from": "human", "value": "hi"}, {"from": "observation", "value": "{}"},
                                    {"from": "gpt", "value": "ok"}]})
    assert err.reason == "orphan_tool_result"


def test_xlam_answers_not_json() -> None:
    err = reject({"query": "q", "answers": "[{\"name\": \"f\",", "tools": "[]"})
    assert (err.reason, err.field) == ("bad_tool_arguments", "answers")


def test_responses_truncated_rollout() -> None:
    err = reject({"responses_create_params": {"input": "Write a test for the issue."},
                  "response": {"status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"},
                               "output": [{"type": "message", "role": "assistant",
                                           "content": [{"type": "output_text", "text": "<think>\nOkay, let's"}]}]}})
    assert (err.reason, err.field) == ("truncated_generation", "response.incomplete_details")


def test_responses_unknown_item() -> None:
    err = reject({"responses_create_params": {"input": [{"type": "web_search_call", "id": "ws_1"}]}})
    assert (err.reason, err.field) == ("unsupported_item", "responses_create_params.input[0].type")


# ------------------------------------------------------------------ text helpers

@pytest.mark.parametrize(("text", "expected"), [
    ("<think>\nplan\n</think>\n\nanswer", ("plan", "answer")),
    ("plan</think>answer", ("plan", "answer")),  # opening tag was in the generation prompt
    ("<think></think>answer", (None, "answer")),  # non-thinking mode
    ("no reasoning here", (None, "no reasoning here")),
    ("<|begin_of_thought|>a<|end_of_thought|>\n<|begin_of_solution|>b<|end_of_solution|>", ("a", "b")),
])
def test_split_reasoning(text: str, expected: tuple[str | None, str]) -> None:
    assert split_reasoning(text, "f") == expected


def test_split_reasoning_rejects_two_blocks() -> None:
    with pytest.raises(SampleError) as info:
        split_reasoning("<think>a</think>b<think>c</think>d", "f")
    assert info.value.reason == "nested_think"


def test_hermes_calls_become_structured_only_as_the_tail_of_the_text() -> None:
    """Structured calls render after the message text, so only calls that already end the text (after optional
    leading text) convert; text after or between calls keeps the whole message verbatim."""
    call = "<tool_call>{\"name\": \"f\", \"arguments\": \"{\\\"x\\\": 1}\"}</tool_call>"
    assert parse_hermes_tool_calls(f"Before {call}\n{call}\n") == (
        "Before", [ToolCall(name="f", arguments={"x": 1}), ToolCall(name="f", arguments={"x": 1})])
    assert parse_hermes_tool_calls(call) == ("", [ToolCall(name="f", arguments={"x": 1})])
    for text in (f"Let me check {call} and then report back.", f"{call} then {call}", "plain text"):
        assert parse_hermes_tool_calls(text) is None
    text = f"Let me check {call} and then report back."
    s = convert({"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": text}]})
    assert s.messages[1].content == text and s.messages[1].tool_calls is None


def test_responses_tool_schema_to_nested() -> None:
    flat = {"type": "function", "name": "f", "description": None, "parameters": {"type": "object"}, "strict": True}
    assert openai_tool(flat, "t") == {"type": "function",
                                      "function": {"name": "f", "parameters": {"type": "object"}, "strict": True}}
    with pytest.raises(SampleError):
        openai_tool({"type": "function"}, "tools[0]")


def test_call_linker_orders_and_respects_ids() -> None:
    linker = CallLinker()
    calls = linker.register([ToolCall("a", {}), ToolCall("b", {}, id="src_b")])
    assert [c.id for c in calls] == ["call_0", "src_b"]
    assert linker.answer("src_b") == "src_b" and linker.answer() == "call_0" and linker.answer() is None
    assert linker.answer("unknown") == "unknown"  # left for validate to reject as an orphan
