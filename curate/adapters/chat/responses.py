"""OpenAI Responses-API items (NeMo-Gym): `responses_create_params.{input, instructions, tools}` and the
rollout's `response.output`.

Items are message / reasoning / function_call / function_call_output (or bare {role, content}). A reasoning
item's summary becomes the reasoning of the assistant turn that follows it; function calls join the assistant
turn they follow. A record without an answer from the model (no `response`, or an output with no assistant
item) is an RL prompt: `meta.prompt_only` is set and the verifier fields stay in meta. A response cut off at
its token limit (`incomplete_details`) is a reject, not a training answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

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


class _Transcript:
    """Accumulates Responses items into Messages; reasoning waits for the assistant item it belongs to."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.linker = CallLinker()
        self.pending_reasoning: list[str] = []
        self.dropped_reasoning = 0

    def add(self, item: Any, field: str) -> bool:
        """Append one item; True when it produced or extended an assistant turn."""
        if isinstance(item, str):
            item = {"type": "message", "role": "user", "content": item}
        if not isinstance(item, dict):
            raise SampleError("bad_type", f"item must be an object, got {type(item).__name__}", field)
        kind = item.get("type", "message")
        if kind == "reasoning":
            texts = [s.get("text", "") for s in item.get("summary") or [] if isinstance(s, dict)]
            texts += [c.get("text", "") for c in item.get("content") or [] if isinstance(c, dict)]
            self.pending_reasoning.extend(t.strip() for t in texts if t and t.strip())
            return False
        if kind == "function_call":
            call = tool_call_from_dict(item, field)
            call.id = str(item.get("call_id") or item.get("id") or "")
            self.linker.register([call])
            last = self.messages[-1] if self.messages else None
            if last is not None and last.role == "assistant" and not self.pending_reasoning:
                last.tool_calls = [*(last.tool_calls or []), call]
            else:
                self.messages.append(Message(role="assistant", content="", reasoning_content=self._take_reasoning(),
                                             tool_calls=[call]))
            return True
        if kind == "function_call_output":
            output = item.get("output")
            text = output if isinstance(output, str) else orjson.dumps(output).decode()
            call_id = self.linker.answer(item.get("call_id"))
            self._drop_reasoning()
            self.messages.append(Message(role="tool", content=text, tool_call_id=call_id,
                                         name=self.linker.name_of(call_id)))
            return False
        if kind != "message":
            raise SampleError("unsupported_item", f"item type {kind!r} is not supported", f"{field}.type")
        role = canonical_role(item.get("role"), f"{field}.role")
        content = content_text(item.get("content"), f"{field}.content")
        if role != "assistant":
            self._drop_reasoning()
            self.messages.append(Message(role=role, content=content))
            return False
        reasoning = self._take_reasoning()
        if reasoning is None:
            reasoning, content = split_reasoning(content, f"{field}.content")
        self.messages.append(Message(role="assistant", content=content.strip() if reasoning else content,
                                     reasoning_content=reasoning))
        return True

    def finish(self) -> None:
        self._drop_reasoning()

    def _take_reasoning(self) -> str | None:
        text = "\n\n".join(self.pending_reasoning) or None
        self.pending_reasoning = []
        return text

    def _drop_reasoning(self) -> None:
        # Reasoning followed by no assistant item (a rollout cut short) has nothing to attach to.
        self.dropped_reasoning += len(self.pending_reasoning)
        self.pending_reasoning = []


class ResponsesAdapter(Adapter):
    name = "responses"
    priority = 40
    detect_keys = frozenset({"responses_create_params"})

    def detect(self, record: dict[str, Any]) -> bool:
        params = record.get("responses_create_params")
        return isinstance(params, dict) and "input" in params

    def convert(self, record: dict[str, Any], ctx: RecordContext) -> Iterator[Sample]:
        params = record["responses_create_params"]
        transcript = _Transcript()
        instructions = params.get("instructions")
        if isinstance(instructions, str) and instructions.strip():
            transcript.messages.append(Message(role="system", content=instructions))
        items = params["input"]
        for k, item in enumerate(items if isinstance(items, list) else [items]):
            transcript.add(item, f"responses_create_params.input[{k}]" if isinstance(items, list)
                           else "responses_create_params.input")
        answered = False
        response = record.get("response")
        if isinstance(response, dict):
            if response.get("incomplete_details") or response.get("status") == "incomplete":
                # cut off at max_output_tokens: the answer (often the reasoning too) never finished
                detail = response.get("incomplete_details")
                raise SampleError("truncated_generation", f"response is incomplete: {detail}",
                                  "response.incomplete_details")
            for k, item in enumerate(response.get("output") or []):
                answered |= transcript.add(item, f"response.output[{k}]")
        transcript.finish()
        extra: dict[str, Any] = {"prompt_only": not answered}
        if isinstance(response, dict) and response.get("model"):
            extra["model"] = response["model"]
        if transcript.dropped_reasoning:
            extra["dropped_reasoning_items"] = transcript.dropped_reasoning
        tools = parse_tools(params.get("tools"), "responses_create_params.tools")
        yield make_sample(record, ctx, self.name, transcript.messages, tools,
                          consumed=("responses_create_params", "response"), extra_meta=extra)
