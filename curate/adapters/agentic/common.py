"""Small helpers the agentic / agentless / proof adapters share: required fields, sample assembly, and the
prompt messages of NeMo-Gym example records (`responses_create_params.input`, no model response yet).

Text-level helpers (roles, reasoning markers, JSON arguments, tool schemas) live in curate/adapters/text.py.
"""

from __future__ import annotations

from typing import Any

from curate.adapters.base import RecordContext
from curate.adapters.chat.common import record_sample_id
from curate.adapters.text import canonical_role, content_text, parse_tools, split_reasoning
from curate.schema import Message, Sample, SampleError


def require(record: dict[str, Any], key: str, kind: type | tuple[type, ...], field: str = "") -> Any:
    """record[key], which must be present, non-null and of `kind`; else a reject naming the field."""
    where = field or key
    if record.get(key) is None:
        raise SampleError("missing_field", f"required field {key!r} is missing", where)
    value = record[key]
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise SampleError("bad_type", f"{key!r} must be {names}, got {type(value).__name__}", where)
    return value


def require_text(record: dict[str, Any], key: str, field: str = "") -> str:
    """A required string field with non-whitespace content (an empty proof or answer is no training target)."""
    value = require(record, key, str, field)
    if not value.strip():
        raise SampleError("empty_field", f"{key!r} is empty", field or key)
    return value


def require_list(record: dict[str, Any], key: str, field: str = "") -> list[Any]:
    value = require(record, key, list, field)
    if not value:
        raise SampleError("empty_field", f"{key!r} is an empty list", field or key)
    return value


def assistant_message(text: str, field: str) -> Message:
    """An assistant turn from raw model text, with any `<think>` trace moved to reasoning_content."""
    reasoning, answer = split_reasoning(text, field)
    return Message(role="assistant", content=answer, reasoning_content=reasoning)


def make_sample(ctx: RecordContext, messages: list[Message], *, part: str | None = None,
                tools: list[dict[str, Any]] | None = None, meta: dict[str, Any] | None = None) -> Sample:
    """A sample id'd by its record's position (and `part`, when a record yields several; see record_sample_id);
    the adapter keeps the record's native ids in `meta`."""
    return Sample(
        id=record_sample_id(ctx, part),
        domain=ctx.domain,
        source=ctx.source,
        messages=messages,
        tools=tools or [],
        meta={k: v for k, v in (meta or {}).items() if v is not None},
    )


def single_turn(prompt: str, response: str, field: str) -> list[Message]:
    return [Message(role="user", content=prompt), assistant_message(response, field)]


# ---------------------------------------------------------------- NeMo-Gym example (prompt) records

def is_gym_prompt(record: dict[str, Any]) -> bool:
    """A NeMo-Gym task record: a Responses request without a response (rollouts go to the generic adapter)."""
    params = record.get("responses_create_params")
    return isinstance(params, dict) and isinstance(params.get("input"), list) and "response" not in record


def gym_prompt(record: dict[str, Any]) -> tuple[list[Message], list[dict[str, Any]]]:
    """(messages, tools) of a NeMo-Gym request: `instructions` as the system turn, then the input messages.

    Task records carry only message items; any other item type (a function_call in a prompt) is rejected rather
    than dropped, since it would change what the model is asked.
    """
    params = record["responses_create_params"]
    messages: list[Message] = []
    if isinstance(params.get("instructions"), str) and params["instructions"].strip():
        messages.append(Message(role="system", content=params["instructions"]))
    for i, item in enumerate(params["input"]):
        field = f"responses_create_params.input[{i}]"
        if not isinstance(item, dict):
            raise SampleError("bad_type", f"input item must be an object, got {type(item).__name__}", field)
        if item.get("type", "message") != "message":
            raise SampleError("unsupported_item", f"input item of type {item['type']!r} in a task prompt", field)
        role = canonical_role(item.get("role"), f"{field}.role")
        messages.append(Message(role=role, content=content_text(item.get("content"), f"{field}.content")))
    if not messages:
        raise SampleError("no_messages", "the request has no input messages", "responses_create_params.input")
    tools = parse_tools(params.get("tools"), "responses_create_params.tools")
    return messages, tools

