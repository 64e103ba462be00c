"""Thinking traces: present where the domain requires one, closed, and followed by an answer."""

from __future__ import annotations

from dataclasses import dataclass

from datatrove.data import Document

from curate.filters.base import Failure, SampleCheck
from curate.schema import Sample

THINK_MARKERS = ("<think>", "</think>", "<|begin_of_thought|>", "<|end_of_thought|>")


@dataclass
class ReasoningSettings:
    required: bool = True  # the final assistant turn carries a reasoning trace
    min_chars: int = 1  # shortest trace that counts as one
    answer_required: bool = True  # visible content (or a tool call) follows the trace


class ReasoningCheck(SampleCheck):
    key = "reasoning"
    name = "💭 reasoning"
    Settings = ReasoningSettings

    def check(self, sample: Sample, doc: Document, settings: ReasoningSettings) -> Failure | None:
        assistants = [(i, m) for i, m in enumerate(sample.messages) if m.role == "assistant"]
        for i, m in assistants:
            # Adapters lift closed traces out of the content; a marker left anywhere means one was never closed.
            for text, where in ((m.content, "content"), (m.reasoning_content or "", "reasoning_content")):
                marker = next((t for t in THINK_MARKERS if t in text), None)
                if marker:
                    return "unclosed_reasoning", f"messages[{i}].{where} still contains {marker!r}"
        if not assistants:
            return None
        i, last = assistants[-1]
        trace = (last.reasoning_content or "").strip()
        if settings.required and len(trace) < settings.min_chars:
            return "missing_reasoning", f"messages[{i}] has no reasoning trace of >= {settings.min_chars} chars"
        if settings.answer_required and trace and not (last.content.strip() or last.tool_calls):
            return "no_answer_after_reasoning", f"messages[{i}] ends after its reasoning"
        return None
