"""Math proofs: a proof body in the final answer, within length bounds, optionally ending in a set answer format."""

from __future__ import annotations

import re
from dataclasses import dataclass

from datatrove.data import Document

from curate.documents import final_answer
from curate.filters.base import Failure, SampleCheck
from curate.schema import Sample


@dataclass
class ProofSettings:
    min_chars: int = 100
    max_chars: int | None = None
    final_answer_pattern: str | None = None  # regex the proof must contain, e.g. '\\boxed\\{' or 'Q\\.E\\.D'


class ProofCheck(SampleCheck):
    key = "proof"
    name = "📐 proof"
    Settings = ProofSettings

    def check(self, sample: Sample, doc: Document, settings: ProofSettings) -> Failure | None:
        proof = final_answer(sample).strip()
        if not proof:
            return "no_proof", "the final assistant turn has no proof body"
        if len(proof) < settings.min_chars:
            return "proof_too_short", f"{len(proof)} chars < {settings.min_chars}"
        if settings.max_chars is not None and len(proof) > settings.max_chars:
            return "proof_too_long", f"{len(proof)} chars > {settings.max_chars}"
        if settings.final_answer_pattern and not re.search(settings.final_answer_pattern, proof):
            return "missing_final_answer", f"no match for {settings.final_answer_pattern!r}"
        return None
