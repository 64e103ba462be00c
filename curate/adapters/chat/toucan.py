"""Toucan-1.5M MCP tool use (as sampled by the Agent Data Protocol): OpenAI-style `messages` with legacy
`function_call` / `function` turns, tools in `available_tools`, and a Kimi-style tool-declaration system
message (`<|im_system|>tool_declare<|im_middle|>[tools]<|im_end|>`) that only repeats the tool list.

The declaration message is dropped (its tools are `available_tools`, or parsed from it when that is absent),
and an assistant remark followed by its call becomes one assistant turn.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from curate.adapters.base import Adapter, RecordContext
from curate.adapters.chat.common import make_sample
from curate.adapters.chat.openai_messages import convert_openai_message, looks_like_openai_messages
from curate.adapters.text import CallLinker, merge_assistant_runs, parse_tools
from curate.schema import Sample

_DECLARE_OPEN, _DECLARE_CLOSE = "<|im_system|>tool_declare<|im_middle|>", "<|im_end|>"


def _tool_declaration(message: Any) -> str | None:
    """The JSON tool list of a tool-declaration system message, None for any other message."""
    if not isinstance(message, dict) or message.get("role") != "system":
        return None
    text = message.get("content")
    if isinstance(text, str) and text.startswith(_DECLARE_OPEN) and text.endswith(_DECLARE_CLOSE):
        return text[len(_DECLARE_OPEN):-len(_DECLARE_CLOSE)]
    return None


class ToucanAdapter(Adapter):
    name = "toucan_mcp"
    priority = 40
    detect_keys = frozenset({"available_tools"})

    def detect(self, record: dict[str, Any]) -> bool:
        return "available_tools" in record and looks_like_openai_messages(record.get("messages"))

    def convert(self, record: dict[str, Any], ctx: RecordContext) -> Iterator[Sample]:
        raw_messages = record["messages"]
        declared = [(i, _tool_declaration(m)) for i, m in enumerate(raw_messages)]
        declared = [(i, text) for i, text in declared if text is not None]
        skip = {i for i, _ in declared}
        linker = CallLinker()
        messages = merge_assistant_runs([convert_openai_message(m, f"messages[{i}]", linker)
                                         for i, m in enumerate(raw_messages) if i not in skip])
        if record.get("available_tools"):
            tools = parse_tools(record["available_tools"], "available_tools")
        elif declared:
            index, text = declared[0]
            tools = parse_tools(text, f"messages[{index}].content")
        else:
            tools = []
        yield make_sample(record, ctx, self.name, messages, tools, consumed=("messages", "available_tools"))
