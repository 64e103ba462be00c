"""`input`/`output` pairs: OpenCodeReasoning (input, output, solution, source, difficulty) and
Llama-Nemotron-Post-Training (input as a message list or a Llama-3 token string, `system_prompt`).

The output is the assistant answer with its reasoning inline (`<think>…</think>`), split out here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from curate.adapters.base import Adapter, RecordContext
from curate.adapters.chat.common import make_sample
from curate.adapters.chat.openai_messages import convert_openai_messages
from curate.adapters.text import canonical_role, content_text, split_reasoning
from curate.schema import Message, Sample, SampleError

_LLAMA3_HEADER = re.compile(r"<\|start_header_id\|>(.*?)<\|end_header_id\|>\n*")
_LLAMA3_STRIP = ("<|begin_of_text|>", "<|eot_id|>", "<|end_of_text|>")


def _drop_llama3_markers(text: str) -> str:
    for token in _LLAMA3_STRIP:
        text = text.replace(token, "")
    return text


def parse_llama3_turns(text: str, field: str) -> list[Message]:
    """A Llama-3 formatted prompt (`<|start_header_id|>role<|end_header_id|>\\n\\n…<|eot_id|>`) → turns.

    The trailing empty assistant header is the generation prompt, not a turn; a text without headers is one
    user turn.
    """
    headers = list(_LLAMA3_HEADER.finditer(text))
    if not headers:
        return [Message(role="user", content=_drop_llama3_markers(text).strip())]
    if _drop_llama3_markers(text[:headers[0].start()]).strip():
        raise SampleError("bad_prompt", "text before the first Llama-3 header", field)
    turns = []
    for k, header in enumerate(headers):
        end = headers[k + 1].start() if k + 1 < len(headers) else len(text)
        body = _drop_llama3_markers(text[header.end():end]).strip()
        role = canonical_role(header.group(1), f"{field}<header {k}>")
        if role == "assistant" and k == len(headers) - 1 and not body:
            break
        turns.append(Message(role=role, content=body))
    return turns


class InputOutputAdapter(Adapter):
    name = "input_output"
    priority = 55
    detect_keys = frozenset({"input"})

    def detect(self, record: dict[str, Any]) -> bool:
        return ("input" in record and "output" in record and isinstance(record["output"], str)
                and isinstance(record["input"], (str, list)))

    def convert(self, record: dict[str, Any], ctx: RecordContext) -> Iterator[Sample]:
        raw_input = record["input"]
        if isinstance(raw_input, str) and raw_input.strip() in ("", "-"):
            # OpenCodeReasoning split_0 ships "-" here: the question must be joined from its source dataset
            raise SampleError("no_prompt", f"input is a placeholder ({raw_input!r}); join the question from the "
                              f"record's source dataset ({record.get('dataset', '?')}) before ingesting", "input")
        if isinstance(raw_input, list):
            messages = convert_openai_messages(raw_input, "input")
        else:
            messages = parse_llama3_turns(raw_input, "input")
        if not messages or not any(m.role == "user" for m in messages):
            raise SampleError("no_prompt", "input holds no user turn", "input")
        system_prompt = record.get("system_prompt")
        if isinstance(system_prompt, str) and system_prompt.strip() and messages[0].role != "system":
            messages.insert(0, Message(role="system", content=system_prompt.strip()))
        output = _drop_llama3_markers(content_text(record["output"], "output"))
        reasoning, answer = split_reasoning(output, "output")
        messages.append(Message(role="assistant", content=answer.strip(), reasoning_content=reasoning))
        yield make_sample(record, ctx, self.name, messages, consumed=("input", "output"))
