"""The filter step contract: a datatrove step that marks (not removes) the samples it rejects.

Marking instead of removing lets one pipeline run many checks and route every rejected sample, with the first
reason that hit it, to the stage's rejects file. Each check has a settings dataclass, chosen per domain by the
recipe; a domain without settings for a check passes through it untouched.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from curate.documents import drop, dropped, sample_of
from curate.schema import Sample
from curate.typed_config import build_dataclass

Failure = tuple[str, str]  # (reason code, human-readable detail)


class SampleCheck(PipelineStep):
    """One concern; `check` returns None to keep a sample or (reason, detail) to reject it."""

    type = "🔻 - FILTER"
    key: ClassVar[str]  # the name recipes use, also the `filter` field of a reject
    Settings: ClassVar[type]

    def __init__(self, settings_by_domain: Mapping[str, Any], stage: str = "filter"):
        super().__init__()
        self.settings_by_domain = dict(settings_by_domain)
        self.stage = stage

    def check(self, sample: Sample, doc: Document, settings: Any) -> Failure | None:
        raise NotImplementedError

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        for doc in data:
            sample = sample_of(doc)
            settings = self.settings_by_domain.get(sample.domain)
            if settings is not None and not dropped(doc):
                with self.track_time():
                    failure = self.check(sample, doc, settings)
                self.stat_update("checked")
                if failure is not None:
                    reason, detail = failure
                    drop(doc, self.stage, self.key, reason, detail)
                    self.stat_update(f"dropped_{reason}")
            yield doc


def settings_from_dict(cls: type, raw: Any, path: str) -> Any:
    """Build a settings dataclass from a recipe mapping; errors name the key path (`filters.math.proof.min_chars`).

    `None` and `true` mean "this check with its defaults" (`proof: true` in a recipe).
    """
    if raw is None or raw is True:
        raw = {}
    return build_dataclass(cls, raw, path, key_noun="setting")
