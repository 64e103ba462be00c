"""ShareGPT `conversations: [{from, value}]` (+ `system`, `tools` as a JSON string): glaive via LLaMA-Factory,
Hermes function calling.

`function_call` turns hold `{"name", "arguments"}` (or a list of them for parallel calls); `observation` / `tool`
turns answer them in order. Hermes `<tool_call>{json}</tool_call>` blocks in assistant text become structured
calls when every block parses; otherwise the text is kept verbatim.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from curate.adapters.base import Adapter, RecordContext
from curate.adapters.chat.common import make_sample
from curate.adapters.text import (
    CallLinker,
    loads_json,
    merge_assistant_runs,
    parse_hermes_tool_calls,
    parse_tools,
    split_reasoning,
    tool_call_from_dict,
    tool_results_in_order,
)
from curate.schema import Message, Sample, SampleError

FROM_ROLES = {
    "system": "system",
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "function_call": "assistant",
    "observation": "tool",
    "tool": "tool",
    "function_response": "tool",
}
_RESPONSE_OPEN, _RESPONSE_CLOSE = "<tool_response>", "</tool_response>"


def _unwrap_tool_response(text: str) -> str:
    inner = text.strip()
    if inner.startswith(_RESPONSE_OPEN) and inner.endswith(_RESPONSE_CLOSE) and inner.count(_RESPONSE_OPEN) == 1:
        return inner[len(_RESPONSE_OPEN):-len(_RESPONSE_CLOSE)].strip()
    return text


class ShareGPTAdapter(Adapter):
    name = "sharegpt"
    priority = 50
    detect_keys = frozenset({"conversations"})

    def detect(self, record: dict[str, Any]) -> bool:
        turns = record.get("conversations")
        return (isinstance(turns, list) and bool(turns)
                and all(isinstance(t, dict) and "from" in t and "value" in t for t in turns))

    def convert(self, record: dict[str, Any], ctx: RecordContext) -> Iterator[Sample]:
        linker = CallLinker()
        messages: list[Message] = []
        system = record.get("system")
        if isinstance(system, str) and system.strip():
            messages.append(Message(role="system", content=system))
        for i, turn in enumerate(record["conversations"]):
            messages.extend(self._turn(turn, f"conversations[{i}]", linker))
        tools = parse_tools(record.get("tools"), "tools")
        yield make_sample(record, ctx, self.name, merge_assistant_runs(messages), tools,
                          consumed=("conversations", "system", "tools"))

    def _turn(self, turn: dict[str, Any], field: str, linker: CallLinker) -> list[Message]:
        source_role, value = turn["from"], turn["value"]
        if source_role not in FROM_ROLES:
            raise SampleError("unknown_role", f"from {source_role!r} is not one of {sorted(FROM_ROLES)}",
                              f"{field}.from")
        if not isinstance(value, str):
            raise SampleError("bad_type", f"value must be a string, got {type(value).__name__}", f"{field}.value")
        role = FROM_ROLES[source_role]
        if source_role == "function_call":
            parsed = loads_json(value, f"{field}.value", reason="bad_tool_arguments")
            raw_calls = parsed if isinstance(parsed, list) else [parsed]
            calls = [tool_call_from_dict(c, f"{field}.value" + (f"[{j}]" if isinstance(parsed, list) else ""))
                     for j, c in enumerate(raw_calls)]
            return [Message(role="assistant", content="", tool_calls=linker.register(calls))]
        if role == "tool":
            return tool_results_in_order(_unwrap_tool_response(value), linker)
        if role != "assistant":
            return [Message(role=role, content=value)]
        reasoning, content = split_reasoning(value, f"{field}.value")
        hermes = parse_hermes_tool_calls(content)
        if hermes is None:
            return [Message(role="assistant", content=content, reasoning_content=reasoning)]
        text, calls = hermes
        return [Message(role="assistant", content=text, reasoning_content=reasoning,
                        tool_calls=linker.register(calls))]
