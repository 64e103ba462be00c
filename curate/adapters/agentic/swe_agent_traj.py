"""SWE-agent `.traj` files: one JSON object per run with `trajectory` (thought/action/observation steps),
`history` (the exact messages the model saw) and `info` (exit_status, submission)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from curate.adapters.agentic.common import make_sample, require, require_list
from curate.adapters.base import Adapter, RecordContext
from curate.adapters.chat.openai_messages import convert_openai_message
from curate.adapters.text import CallLinker
from curate.schema import Message, Sample, SampleError


class SWEAgentTrajAdapter(Adapter):
    """One sample per run, built from `history`: it is what the model was prompted with (demonstrations
    included), whereas `trajectory` steps lack the system prompt and the issue. `trajectory` must still be
    there and non-empty (a run with no steps taught nothing); its length goes to meta.steps. Function-calling
    runs (SWE-agent ≥ 1.0) give assistant `tool_calls` and `tool` messages with `tool_call_ids`; older runs keep
    actions as text. Only the main agent's messages are used when several agents share a history. meta:
    exit_status, patch (info.submission), instance_id and model from replay_config where present.
    """

    name = "swe_agent_traj"
    priority = 10
    detect_keys = frozenset({"info"})

    def detect(self, record: dict[str, Any]) -> bool:
        if not isinstance(record.get("info"), dict):
            return False
        history = record.get("history")
        if isinstance(history, list) and history and isinstance(history[0], dict) and "role" in history[0]:
            return True
        steps = record.get("trajectory")
        return isinstance(steps, list) and (not steps or (isinstance(steps[0], dict) and "action" in steps[0]))

    def convert(self, record: dict[str, Any], ctx: RecordContext) -> Iterator[Sample]:
        steps = require_list(record, "trajectory")
        history = require_list(record, "history")
        main_agent = history[0].get("agent") if isinstance(history[0], dict) else None
        linker = CallLinker()
        messages: list[Message] = []
        for i, msg in enumerate(history):
            field = f"history[{i}]"
            if isinstance(msg, dict) and msg.get("agent", main_agent) != main_agent:
                continue
            messages.append(convert_openai_message(_with_single_call_id(msg, field), field, linker))
        info = require(record, "info", dict)
        replay = _replay_config(record)
        meta = {
            "exit_status": info.get("exit_status"),
            "patch": info.get("submission"),
            "instance_id": _dig(replay, "problem_statement", "id"),
            "model": _dig(replay, "agent", "model", "name"),
            "environment": record.get("environment"),
            "steps": len(steps),
        }
        yield make_sample(ctx, messages, meta=meta)


def _with_single_call_id(msg: Any, field: str) -> Any:
    """SWE-agent tool messages name the calls they answer in a `tool_call_ids` list; one observation answers one
    call, so the list becomes the OpenAI `tool_call_id` the chat converter links by."""
    if not isinstance(msg, dict) or not msg.get("tool_call_ids"):
        return msg
    ids = msg["tool_call_ids"]
    if not isinstance(ids, list):
        raise SampleError("bad_type", f"tool_call_ids must be a list, got {type(ids).__name__}",
                          f"{field}.tool_call_ids")
    if len(ids) > 1:
        raise SampleError("bad_tool_result", f"one observation answers {len(ids)} calls", f"{field}.tool_call_ids")
    return {**msg, "tool_call_id": ids[0]}


def _replay_config(record: dict[str, Any]) -> dict[str, Any]:
    """SWE-agent stores replay_config as an object or as a JSON string, depending on version."""
    replay = record.get("replay_config")
    if isinstance(replay, str):
        try:
            replay = orjson.loads(replay)
        except orjson.JSONDecodeError:
            return {}
    return replay if isinstance(replay, dict) else {}


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value
