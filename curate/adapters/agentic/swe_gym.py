"""SWE-Gym/OpenHands-Sampled-Trajectories: OpenAI chat messages with tool_calls, OpenAI tool schemas, `resolved`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from curate.adapters.agentic.common import make_sample, require_list
from curate.adapters.base import Adapter, RecordContext
from curate.adapters.chat.openai_messages import convert_openai_messages
from curate.adapters.text import parse_tools
from curate.schema import Sample


class SWEGymOpenHandsAdapter(Adapter):
    """One sample per OpenHands run. Messages and tools are already OpenAI-shaped; this adapter exists ahead of
    the generic OpenAI-messages one to keep the run's outcome: meta.resolved, meta.patch (test_result.git_patch),
    meta.instance_id and meta.run_id. A final tool call without a result (the run stopped) is kept as is.
    """

    name = "swe_gym_openhands"
    priority = 10
    detect_keys = frozenset({"instance_id"})

    def detect(self, record: dict[str, Any]) -> bool:
        messages = record.get("messages")
        if not (isinstance(messages, list) and "instance_id" in record):
            return False
        has_calls = any(isinstance(m, dict) and m.get("tool_calls") for m in messages)
        return (bool(record.get("tools")) or has_calls) and any(k in record for k in ("resolved", "run_id",
                                                                                          "test_result"))

    def convert(self, record: dict[str, Any], ctx: RecordContext) -> Iterator[Sample]:
        messages = convert_openai_messages(require_list(record, "messages"), "messages")
        test_result = record.get("test_result") if isinstance(record.get("test_result"), dict) else {}
        resolved = record.get("resolved")
        if resolved is None and isinstance(test_result.get("report"), dict):
            resolved = test_result["report"].get("resolved")
        meta = {
            "instance_id": record.get("instance_id"),
            "run_id": record.get("run_id"),
            "resolved": resolved,
            "patch": test_result.get("git_patch"),
        }
        yield make_sample(ctx, messages, tools=parse_tools(record.get("tools"), "tools"), meta=meta)
