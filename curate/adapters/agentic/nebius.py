"""nebius/SWE-agent-trajectories: SWE-agent runs flattened to `trajectory: [{role: system|user|ai, text}]`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from curate.adapters.agentic.common import assistant_message, make_sample, require_list
from curate.adapters.base import Adapter, RecordContext
from curate.schema import Message, Sample, SampleError

# The dataset uses exactly these three spellings; anything else is a corrupt record, not an alias to guess.
NEBIUS_ROLES = {"system": "system", "user": "user", "ai": "assistant"}


class NebiusSWEAgentAdapter(Adapter):
    """One sample per trajectory; actions stay as the model wrote them (text + fenced command), since SWE-agent's
    command language is not a function-calling format.

    The system turn keeps its text in `system_prompt` (its `text` is null). `target` (the run resolved the
    issue) → meta.resolved, `generated_patch` → meta.patch. Turns the dataset marks `mask: false` on an `ai`
    message are listed in meta.untrained_turns (message indices) so a renderer can leave them out of the loss.
    """

    name = "nebius_swe_agent"
    priority = 10
    detect_keys = frozenset({"trajectory"})

    def detect(self, record: dict[str, Any]) -> bool:
        steps = record.get("trajectory")
        return (isinstance(steps, list) and bool(steps) and isinstance(steps[0], dict)
                and "role" in steps[0] and ("text" in steps[0] or "system_prompt" in steps[0]))

    def convert(self, record: dict[str, Any], ctx: RecordContext) -> Iterator[Sample]:
        steps = require_list(record, "trajectory")
        messages: list[Message] = []
        untrained: list[int] = []
        for i, step in enumerate(steps):
            field = f"trajectory[{i}]"
            if not isinstance(step, dict):
                raise SampleError("bad_type", f"step must be an object, got {type(step).__name__}", field)
            role = NEBIUS_ROLES.get(step.get("role"))  # type: ignore[arg-type]
            if role is None:
                raise SampleError("unknown_role", f"role {step.get('role')!r} is not one of {sorted(NEBIUS_ROLES)}",
                                  f"{field}.role")
            text = step.get("text")
            if text is None and role == "system":
                text = step.get("system_prompt")
            if not isinstance(text, str):
                raise SampleError("bad_type", f"text must be a string, got {type(text).__name__}", f"{field}.text")
            if role == "assistant":
                if step.get("mask") is False:
                    untrained.append(len(messages))
                messages.append(assistant_message(text, f"{field}.text"))
            else:
                messages.append(Message(role=role, content=text))
        meta = {
            "instance_id": record.get("instance_id"),
            "resolved": record.get("target"),
            "patch": record.get("generated_patch"),
            "exit_status": record.get("exit_status"),
            "model": record.get("model_name"),
            "untrained_turns": untrained or None,
        }
        yield make_sample(ctx, messages, meta=meta)
