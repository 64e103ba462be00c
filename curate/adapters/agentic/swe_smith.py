"""SWE-bench/SWE-smith-trajectories: chat messages whose assistant text ends in an inline XML call
`<function=NAME>\n<parameter=K>V</parameter>\n…</function>`, answered by the next user message (the observation).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from curate.adapters.agentic.common import assistant_message, make_sample, require_list
from curate.adapters.base import Adapter, RecordContext
from curate.adapters.text import canonical_role, content_text
from curate.schema import Message, Sample, SampleError, ToolCall

_CALL_START = re.compile(r"<function=([^>\s]+)>\n")
_PARAM = re.compile(r"<parameter=([^>\s]+)>(.*?)</parameter>\n", re.DOTALL)


def parse_inline_call(text: str) -> tuple[str, ToolCall] | None:
    """(text before the call, the call) when `text` ends in exactly one inline call that can be rebuilt from the
    parsed pieces character for character; None otherwise, and the caller keeps the text verbatim.

    The rebuild check is what makes the conversion lossless: a block with stray text between parameters, a
    repeated parameter, a second call or anything after `</function>` fails it. A value written on its own lines
    (`<parameter=K>\\nV\\n</parameter>`) loses that one wrapping newline pair, which is exactly what the
    Nemotron/Qwen3-coder XML call format puts back around every value when it renders the call.
    """
    start = _CALL_START.search(text)
    if start is None:
        return None
    before, block = text[:start.start()], text[start.start():].rstrip()
    body = block[start.end() - start.start():]
    if not body.endswith("</function>"):
        return None
    params = _PARAM.findall(body[:-len("</function>")])
    rebuilt = f"<function={start.group(1)}>\n" + "".join(f"<parameter={k}>{v}</parameter>\n" for k, v in params)
    if rebuilt + "</function>" != block or len({k for k, _ in params}) != len(params):
        return None
    arguments = {k: v[1:-1] if len(v) >= 2 and v[0] == v[-1] == "\n" else v for k, v in params}
    return before.rstrip(), ToolCall(name=start.group(1), arguments=arguments)


class SWESmithAdapter(Adapter):
    """One sample per trajectory. Each assistant turn whose inline call parses losslessly becomes a structured
    tool call (id `call_<message index>`) and the user message after it becomes that call's tool result (its text
    verbatim, "OBSERVATION:" prefix included); turns that do not parse stay text, as do their replies.

    The tool documentation stays in the system prompt as SWE-smith wrote it; `tools` is left empty so the
    rendered prompt does not describe every function twice. meta: instance_id, resolved, model, patch, traj_id,
    and structured_calls / text_calls counts.
    """

    name = "swe_smith"
    priority = 15
    detect_keys = frozenset({"traj_id", "patch"})

    def detect(self, record: dict[str, Any]) -> bool:
        messages = record.get("messages")
        if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
            return False
        if any(m.get("tool_calls") for m in messages):
            return False
        return ("traj_id" in record or "patch" in record) and any(
            m.get("role") == "assistant" and isinstance(m.get("content"), str) and "<function=" in m["content"]
            for m in messages)

    def convert(self, record: dict[str, Any], ctx: RecordContext) -> Iterator[Sample]:
        raw = require_list(record, "messages")
        messages: list[Message] = []
        structured = text_calls = 0
        pending: ToolCall | None = None  # the call the next user message answers
        for i, msg in enumerate(raw):
            field = f"messages[{i}]"
            if not isinstance(msg, dict):
                raise SampleError("bad_type", f"message must be an object, got {type(msg).__name__}", field)
            role = canonical_role(msg.get("role"), f"{field}.role")
            text = content_text(msg.get("content"), f"{field}.content")
            if role == "user" and pending is not None:
                messages.append(Message(role="tool", content=text, tool_call_id=pending.id, name=pending.name))
                pending = None
                continue
            pending = None
            if role != "assistant":
                messages.append(Message(role=role, content=text))
                continue
            out = assistant_message(text, f"{field}.content")
            parsed = parse_inline_call(out.content)
            if parsed is not None:
                out.content, pending = parsed
                pending.id = f"call_{i}"
                out.tool_calls = [pending]
                structured += 1
            elif "<function=" in out.content:
                text_calls += 1
            messages.append(out)
        meta = {
            "id": record.get("id"),
            "instance_id": record.get("instance_id"),
            "resolved": record.get("resolved"),
            "model": record.get("model"),
            "patch": record.get("patch"),
            "traj_id": record.get("traj_id"),
            "structured_calls": structured,
            "text_calls": text_calls,
        }
        yield make_sample(ctx, messages, meta=meta)
