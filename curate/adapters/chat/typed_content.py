"""LLaMA-Factory typed content: `messages: [{role, content: [{type: text|reasoning|tool_call, value}]}]`,
`tools` as a JSON string (data/reason_tool_use_demo_50.jsonl).

Parts of one message keep their order inside their kind: text parts join into `content`, reasoning parts into
`reasoning_content`, and each `tool_call` part (a JSON `{"name", "arguments"}`) becomes one call. A tool message
that answers parallel calls holds a JSON list with one `{tool_call_id, name, content}` per call.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from curate.adapters.base import Adapter, RecordContext
from curate.adapters.chat.common import make_sample
from curate.adapters.text import (
    CallLinker,
    canonical_role,
    loads_json,
    merge_assistant_runs,
    parse_tools,
    tool_call_from_dict,
    tool_results_in_order,
)
from curate.schema import Message, Sample, SampleError

PART_TYPES = ("text", "reasoning", "tool_call")


def _is_typed(content: Any) -> bool:
    return isinstance(content, list) and all(isinstance(p, dict) and "type" in p and "value" in p for p in content)


class TypedContentAdapter(Adapter):
    name = "llamafactory_typed"
    priority = 45
    detect_keys = frozenset({"messages"})

    def detect(self, record: dict[str, Any]) -> bool:
        messages = record.get("messages")
        return (isinstance(messages, list) and bool(messages)
                and all(isinstance(m, dict) and "role" in m and _is_typed(m.get("content")) for m in messages))

    def convert(self, record: dict[str, Any], ctx: RecordContext) -> Iterator[Sample]:
        linker = CallLinker()
        messages: list[Message] = []
        for i, raw in enumerate(record["messages"]):
            messages.extend(self._message(raw, f"messages[{i}]", linker))
        tools = parse_tools(record.get("tools"), "tools")
        yield make_sample(record, ctx, self.name, merge_assistant_runs(messages), tools,
                          consumed=("messages", "tools"))

    def _message(self, raw: dict[str, Any], field: str, linker: CallLinker) -> list[Message]:
        role = canonical_role(raw["role"], f"{field}.role")
        texts, reasoning, calls = [], [], []
        for k, part in enumerate(raw["content"]):
            where = f"{field}.content[{k}]"
            kind, value = part["type"], part["value"]
            if kind not in PART_TYPES:
                raise SampleError("unsupported_content", f"part type {kind!r} is not one of {PART_TYPES}", where)
            if kind == "tool_call":
                if role != "assistant":
                    raise SampleError("bad_tool_call", f"{role} message carries a tool_call part", where)
                calls.append(tool_call_from_dict(loads_json(value, f"{where}.value", "bad_tool_arguments"),
                                                 f"{where}.value"))
            elif not isinstance(value, str):
                raise SampleError("bad_type", f"{kind} part value must be a string", f"{where}.value")
            elif kind == "reasoning":
                reasoning.append(value)
            else:
                texts.append(value)
        content = "".join(texts)
        if role == "tool":
            return tool_results_in_order(content, linker)
        if role != "assistant":
            if reasoning:
                raise SampleError("unsupported_content", f"{role} message carries a reasoning part", field)
            return [Message(role=role, content=content)]
        return [Message(role="assistant", content=content.strip() if calls else content,
                        reasoning_content="\n\n".join(reasoning).strip() or None,
                        tool_calls=linker.register(calls) or None)]
