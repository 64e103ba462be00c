"""OpenAI chat `messages` (+ `tools`): Nemotron-Post-Training, Cascade-2-SFT-Data, ADP code feedback, ...

Assistant reasoning comes from a `reasoning_content` (or `reasoning` / `thinking`) field, or inline `<think>` /
OpenThoughts markers in `content`. Calls come from `tool_calls` (arguments as a JSON string or an object) or the legacy
`function_call`; results from `tool` (or legacy `function`) messages.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from curate.adapters.base import Adapter, RecordContext
from curate.adapters.chat.common import make_sample
from curate.adapters.text import (
    CallLinker,
    canonical_role,
    content_text,
    parse_tools,
    split_reasoning,
    tool_call_from_dict,
)
from curate.schema import Message, Sample, SampleError

# Where sources put an assistant's thinking when it is not inline: OpenAI-compatible servers (vLLM, DeepSeek)
# use reasoning_content, some chat templates (gpt-oss) `thinking`.
REASONING_KEYS = ("reasoning_content", "reasoning", "thinking")


def _is_openai_content(content: Any) -> bool:
    if content is None or isinstance(content, str):
        return True
    return isinstance(content, list) and all(
        isinstance(part, str) or (isinstance(part, dict) and "text" in part) for part in content
    )


def looks_like_openai_messages(messages: Any) -> bool:
    """A non-empty list of {role, content} dicts whose content is a string or OpenAI text parts."""
    return (isinstance(messages, list) and bool(messages)
            and all(isinstance(m, dict) and "role" in m and _is_openai_content(m.get("content")) for m in messages))


def convert_openai_message(raw: Any, field: str, linker: CallLinker) -> Message:
    """One OpenAI-style message dict → Message; tool calls are registered with `linker` for result linking."""
    if not isinstance(raw, dict):
        raise SampleError("bad_type", f"message must be an object, got {type(raw).__name__}", field)
    role = canonical_role(raw.get("role"), f"{field}.role")
    content = content_text(raw.get("content"), f"{field}.content")
    if role == "tool":
        call_id = linker.answer(raw.get("tool_call_id") or raw.get("call_id"))
        return Message(role="tool", content=content, tool_call_id=call_id,
                       name=raw.get("name") or linker.name_of(call_id))
    if role != "assistant":
        return Message(role=role, content=content)
    key = next((k for k in REASONING_KEYS if raw.get(k) is not None), None)
    reasoning = raw.get(key) if key else None
    if isinstance(reasoning, str):
        reasoning = reasoning.strip() or None
    elif reasoning is not None:
        raise SampleError("bad_type", f"{key} must be a string", f"{field}.{key}")
    if reasoning is None:
        reasoning, content = split_reasoning(content, f"{field}.content")
    calls = [tool_call_from_dict(call, f"{field}.tool_calls[{j}]")
             for j, call in enumerate(raw.get("tool_calls") or [])]
    if raw.get("function_call"):
        calls.append(tool_call_from_dict(raw["function_call"], f"{field}.function_call"))
    return Message(role="assistant", content=content, reasoning_content=reasoning,
                   tool_calls=linker.register(calls) or None)


def convert_openai_messages(messages: Any, field: str, linker: CallLinker | None = None) -> list[Message]:
    """A list of OpenAI-style message dicts → Messages, tool results linked to the calls they answer."""
    if not isinstance(messages, list):
        raise SampleError("bad_type", f"messages must be a list, got {type(messages).__name__}", field)
    linker = linker or CallLinker()
    return [convert_openai_message(raw, f"{field}[{i}]", linker) for i, raw in enumerate(messages)]


class OpenAIMessagesAdapter(Adapter):
    name = "openai_messages"
    priority = 60  # the most generic shape: every more specific `messages` shape must be tried first
    detect_keys = frozenset({"messages"})

    def detect(self, record: dict[str, Any]) -> bool:
        return looks_like_openai_messages(record.get("messages"))

    def convert(self, record: dict[str, Any], ctx: RecordContext) -> Iterator[Sample]:
        messages = convert_openai_messages(record["messages"], "messages")
        tools = parse_tools(record.get("tools"), "tools")
        yield make_sample(record, ctx, self.name, messages, tools, consumed=("messages", "tools"))
