"""SWE samples: patches parse as unified diffs, trajectories end in a submission, resolution flags respected."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import unidiff
from datatrove.data import Document

from curate.documents import final_answer, meta_flag
from curate.filters.base import Failure, SampleCheck
from curate.schema import Sample

_DIFF_FENCE_RE = re.compile(r"```[ \t]*(?:diff|patch)[^\n]*\n(.*?)```", re.DOTALL)


@dataclass
class SweSettings:
    patch_keys: list[str] = field(default_factory=lambda: ["patch", "model_patch", "generated_patch"])  # in meta
    require_patch: bool = False  # a patch (meta or a ```diff block in the final answer) must be present
    require_submission: bool = False  # the trajectory ends with a patch or a submit-like tool call
    submission_tools: list[str] = field(default_factory=lambda: ["submit", "finish", "submit_patch"])
    require_resolved: bool = False  # drop samples whose meta flag says the patch did not resolve the issue
    resolved_keys: list[str] = field(default_factory=lambda: ["resolved", "target"])


def parse_patch(text: str) -> str | None:
    """None when `text` is a well-formed unified diff touching at least one file, else why not."""
    try:
        patch = unidiff.PatchSet(text)
    except unidiff.UnidiffParseError as e:
        return str(e)
    if len(patch) == 0:
        return "no file diffs found"
    return None


class SweCheck(SampleCheck):
    key = "swe"
    name = "🧑‍💻 swe"
    Settings = SweSettings

    def check(self, sample: Sample, doc: Document, settings: SweSettings) -> Failure | None:
        patches = [(f"meta.{k}", sample.meta[k]) for k in settings.patch_keys
                   if isinstance(sample.meta.get(k), str) and sample.meta[k].strip()]
        fenced = _DIFF_FENCE_RE.findall(final_answer(sample))
        patches += [(f"final answer ```diff block {k}", body) for k, body in enumerate(fenced)]
        for where, text in patches:
            if (error := parse_patch(text)) is not None:
                return "malformed_patch", f"{where}: {error}"
        if settings.require_patch and not patches:
            return "missing_patch", f"no patch in meta {settings.patch_keys} or a ```diff block"
        if settings.require_submission and not patches and not self._ends_with_submission(sample, settings):
            return "no_submission", "the trajectory ends without a patch or a submission call"
        if settings.require_resolved:
            for k in settings.resolved_keys:
                if k in sample.meta and not meta_flag(sample.meta[k]):
                    return "unresolved", f"meta.{k} is {sample.meta[k]!r}"
        return None

    @staticmethod
    def _ends_with_submission(sample: Sample, settings: SweSettings) -> bool:
        last = next((m for m in reversed(sample.messages) if m.role == "assistant"), None)
        if last is None:
            return False
        return any(c.name in settings.submission_tools for c in last.tool_calls or []) or any(
            re.search(rf"\b{re.escape(t)}\b", last.content) for t in settings.submission_tools
        )
