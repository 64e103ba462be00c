"""Conversation shape: roles in a valid order, tool results after calls, no empty turns, a final answer."""

from __future__ import annotations

from dataclasses import dataclass

from datatrove.data import Document

from curate.documents import meta_flag
from curate.filters.base import Failure, SampleCheck
from curate.schema import Sample


@dataclass
class StructureSettings:
    final_assistant: bool = True  # the last message is an assistant turn
    final_content: bool = False  # ... and it has visible content (not only reasoning / tool calls)
    allow_consecutive: bool = False  # two user (or two assistant) turns in a row
    allow_empty_turns: bool = False
    # Prompt-only samples (meta.prompt_only: RL prompts) have no answer to learn from: an SFT mix would pack them
    # with zero supervised tokens. Only RL recipes keep them.
    allow_prompt_only: bool = False


class StructureCheck(SampleCheck):
    key = "structure"
    name = "🧱 structure"
    Settings = StructureSettings

    def check(self, sample: Sample, doc: Document, settings: StructureSettings) -> Failure | None:
        msgs = sample.messages
        prompt_only = meta_flag(sample.meta.get("prompt_only"))
        pending_calls = 0
        for i, m in enumerate(msgs):
            if m.role == "system" and i != 0:
                return "misplaced_system", f"messages[{i}] is a system turn after the start"
            if m.role in ("user", "tool") and not m.content.strip() and not settings.allow_empty_turns:
                return "empty_turn", f"messages[{i}] ({m.role}) is empty"
            if m.role == "assistant" and not settings.allow_empty_turns and not (
                m.content.strip() or (m.reasoning_content or "").strip() or m.tool_calls
            ):
                return "empty_turn", f"messages[{i}] (assistant) is empty"
            if m.role == "tool":
                if pending_calls == 0:
                    return "tool_result_without_call", f"messages[{i}] answers no open tool call"
                pending_calls -= 1
                continue
            if pending_calls:
                return "missing_tool_result", f"messages[{i}] ({m.role}) arrives before the tool results"
            if m.role == "assistant":
                pending_calls = len(m.tool_calls or [])
            if (
                i > 0
                and not settings.allow_consecutive
                and m.role in ("user", "assistant")
                and msgs[i - 1].role == m.role
            ):
                return "consecutive_role", f"messages[{i - 1}] and messages[{i}] are both {m.role}"
        first = next((m.role for m in msgs if m.role != "system"), None)
        if first != "user":
            return "no_user_first", f"the first non-system turn is {first!r}, not user"
        if prompt_only:
            if not settings.allow_prompt_only:
                return "prompt_only", "a prompt-only (RL) sample has no answer to train on (allow_prompt_only: false)"
            return None
        last = msgs[-1]
        if settings.final_assistant and last.role != "assistant":
            return "no_final_answer", f"the last turn is {last.role!r}, not assistant"
        if settings.final_content and not (last.role == "assistant" and last.content.strip()):
            return "no_final_answer", "the last assistant turn has no visible content"
        return None
