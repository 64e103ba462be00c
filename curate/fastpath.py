"""A fast conversion for the dominant record shape, plain OpenAI `messages` (+ `tools`), used by ingest before the
general path.

The general path detects the shape among ~25 adapters, converts through the generic helpers, then validates and
checks that the sample is storable. For a plain record all of that reduces to a few type checks, which this module
does in one pass. It only accepts a record it can prove the general path turns into the same sample; on anything
else (a key beyond the plain ones, typed content parts, role aliases, ids it would have to invent, any error) it
returns None and the record takes the general path, which also writes every reject. So outputs are identical with
the fast path on or off (tests/test_ingest_fastpath.py checks that byte for byte).
"""

from __future__ import annotations

from typing import Any

import orjson

from curate.adapters import RecordContext, all_adapters
from curate.adapters.agentic.mini_swe_agent import OBSERVATION_PREFIX
from curate.adapters.chat.common import make_sample
from curate.adapters.text import parse_arguments, parse_tools, split_reasoning
from curate.schema import Message, Sample, ToolCall

ADAPTER = "openai_messages"
# Top-level keys a plain record may have in auto mode: messages/tools, and bookkeeping keys (Nemotron's uuid,
# license, ...) that no earlier adapter's detect() reads; they go to meta.
RECORD_KEYS = frozenset({"messages", "tools", "id", "uuid", "category", "generator", "license", "reasoning",
                         "version", "source", "dataset", "metadata"})
MESSAGE_KEYS = frozenset({"role", "content", "reasoning_content", "tool_calls", "tool_call_id", "name"})
CALL_KEYS = frozenset({"id", "type", "function"})
FUNCTION_KEYS = frozenset({"name", "arguments"})
ROLES = frozenset({"system", "user", "assistant", "tool"})
# The adapters auto-detection tries before openai_messages, each checked against what `fast_sample` accepts in
# auto mode (only RECORD_KEYS): none of them can claim such a record except mini_swe_agent, on a user turn that
# starts with its observation prefix. A new adapter must be reviewed here before it joins the list.
REVIEWED_EARLIER_ADAPTERS = frozenset({
    "nebius_swe_agent", "swe_agent_traj", "swe_gym_openhands", "mini_swe_agent", "swe_smith",
    "agentless_localization", "agentless_repair", "imo_proofbench", "olympiadbench", "proofnet", "swerl_gen_prompt",
    "swerl_llm_judge_prompt", "math_proof_judgement", "proof_genselect", "proof_verification", "proof_judge_prompt",
    "swe_patch_prediction", "responses", "toucan_mcp", "xlam", "llamafactory_typed", "sharegpt", "input_output",
})


def earlier_adapters() -> frozenset[str]:
    """Names of the adapters auto-detection tries before openai_messages (must equal REVIEWED_EARLIER_ADAPTERS)."""
    names = [adapter.name for adapter in all_adapters()]
    return frozenset(names[:names.index(ADAPTER)])


def fast_sample(record: Any, ctx: RecordContext, forced: bool) -> Sample | None:
    """The sample the general path would make from `record`, or None when that is not certain.

    `forced` is `--format openai_messages`: any other top-level keys are then kept in meta as the adapter does; in
    auto mode only RECORD_KEYS qualify, since other keys are what earlier adapters detect.
    """
    if not isinstance(record, dict) or not (forced or record.keys() <= RECORD_KEYS):
        return None
    try:
        messages = _messages(record.get("messages"), forced)
        if messages is None:
            return None
        tools = parse_tools(record.get("tools"), "tools")
        sample = make_sample(record, ctx, ADAPTER, messages, tools, consumed=("messages", "tools"))
        if tools or len(sample.meta) > 1:
            orjson.dumps(sample.meta)  # check_storable: a value JSON cannot hold takes the general path
            orjson.dumps(sample.tools)
        return sample
    except Exception:  # any doubt, including a bad value, is settled by the general path
        return None


def _messages(raw_messages: Any, forced: bool) -> list[Message] | None:
    """Messages as convert_openai_messages + validate produce them, or None when any rule needs the general path."""
    if not isinstance(raw_messages, list) or not raw_messages:
        return None
    out: list[Message] = []
    pending: dict[str, str] = {}  # unanswered call id → function name, in call order
    has_assistant = False
    for raw in raw_messages:
        if not isinstance(raw, dict) or not raw.keys() <= MESSAGE_KEYS:
            return None
        role = raw.get("role")
        content = raw.get("content")
        if role not in ROLES or not (content is None or isinstance(content, str)):
            return None
        content = content or ""
        if role == "assistant":
            message = _assistant(raw, content, pending)
            if message is None:
                return None
            has_assistant = True
        elif role == "tool":
            call_id = raw.get("tool_call_id")
            name = raw.get("name")
            if not (isinstance(call_id, str) and call_id in pending) or not (name is None or isinstance(name, str)):
                return None
            message = Message(role="tool", content=content, tool_call_id=call_id, name=name or pending.pop(call_id))
            pending.pop(call_id, None)
        else:
            if role == "user" and not forced and content.lstrip().startswith(OBSERVATION_PREFIX):
                return None  # mini_swe_agent's shape
            message = Message(role=role, content=content)
        out.append(message)
    return out if has_assistant else None


def _assistant(raw: dict[str, Any], content: str, pending: dict[str, str]) -> Message | None:
    reasoning = raw.get("reasoning_content")
    if isinstance(reasoning, str):
        reasoning = reasoning.strip() or None
    elif reasoning is not None:
        return None
    if reasoning is None:  # also a blank reasoning_content: the adapter then looks for markers in the content
        reasoning, content = split_reasoning(content, "content")
    calls = []
    for call in raw.get("tool_calls") or ():
        if not isinstance(call, dict) or not call.keys() <= CALL_KEYS:
            return None
        fn = call.get("function")
        call_id = call.get("id")
        if not (isinstance(fn, dict) and fn.keys() <= FUNCTION_KEYS and "arguments" in fn):
            return None
        name = fn.get("name")
        # Ids must be given and unique: the general path invents missing ones and links duplicates by position.
        if not (isinstance(name, str) and name and isinstance(call_id, str) and call_id and call_id not in pending
                and all(call_id != c.id for c in calls)):
            return None
        arguments = parse_arguments(fn["arguments"], "arguments")
        if not isinstance(fn["arguments"], str):
            orjson.dumps(arguments)  # check_storable, for arguments given as an object
        calls.append(ToolCall(name=name, arguments=arguments, id=call_id))
    if not (content.strip() or (reasoning or "").strip() or calls):
        return None  # empty_assistant: a reject
    for call in calls:
        pending[call.id] = call.name
    return Message(role="assistant", content=content, reasoning_content=reasoning, tool_calls=calls or None)
