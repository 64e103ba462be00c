"""mini-swe-agent trajectories: plain {role, content} messages where the model answers with THOUGHT + one fenced
bash command and the environment replies `<returncode>…</returncode><output>…</output>` as the user.

Shapes: a trajectory file whose top level is the message list (the reader hands `{"messages": [...]}`), the v2
`.traj.json` object (`messages`, `info`, `trajectory_format`), and ADP's mini-coder rows (`messages`, `patch`,
`model`, `instance_id`, `verified`, `id`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from curate.adapters.agentic.common import make_sample, require_list
from curate.adapters.base import Adapter, RecordContext
from curate.adapters.chat.openai_messages import convert_openai_messages
from curate.schema import Sample

OBSERVATION_PREFIX = "<returncode>"


class MiniSWEAgentAdapter(Adapter):
    """One sample per trajectory. Commands stay text: mini-swe-agent's protocol *is* a fenced bash block, and a
    model trained on it is prompted the same way, so there is no call format to convert to. meta: id (ADP's row
    id), instance_id, patch (`patch` or info.submission), model, exit_status, and `verified` as ADP published it
    (kept under its own name: ADP does not document it as SWE-bench resolution).
    """

    name = "mini_swe_agent"
    priority = 12
    detect_keys = frozenset({"messages"})

    def detect(self, record: dict[str, Any]) -> bool:
        messages = record.get("messages")
        if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
            return False
        if "trajectory_format" in record and "mini-swe-agent" in str(record["trajectory_format"]):
            return True
        return any(m.get("role") == "user" and isinstance(m.get("content"), str)
                   and m["content"].lstrip().startswith(OBSERVATION_PREFIX) for m in messages)

    def convert(self, record: dict[str, Any], ctx: RecordContext) -> Iterator[Sample]:
        # v2 trajectories of a tool-calling model carry tool_calls and tool results: link them
        messages = convert_openai_messages(require_list(record, "messages"), "messages")
        info = record.get("info") if isinstance(record.get("info"), dict) else {}
        meta = {
            "id": record.get("id"),
            "instance_id": record.get("instance_id"),
            "patch": record.get("patch", info.get("submission")),
            "model": record.get("model"),
            "exit_status": info.get("exit_status"),
            "verified": record.get("verified"),
        }
        yield make_sample(ctx, messages, meta=meta)
