"""The adapter contract: one small class per published record shape (DESIGN §2).

An adapter says whether a raw record (a dict from any reader) has its shape, and turns it into one or more
canonical samples. It raises `SampleError` with a reason code and the field path for a record of its shape
that cannot be converted; the ingest pipeline turns that into a reject. Adapters never validate the final
sample themselves — ingest runs `schema.validate` on everything they yield.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from curate.schema import Sample


@dataclass(frozen=True, slots=True)
class RecordContext:
    source: str  # file path or hub id the record came from
    index: int  # 0-based record number inside that source
    domain: str  # the domain the user asked for (`--domain`)


class Adapter:
    name: ClassVar[str]
    # Lower runs first in auto-detection: specific shapes must win over generic ones (e.g. SWE-Gym before plain
    # OpenAI messages).
    priority: ClassVar[int] = 50
    # Top-level keys of which a record of this shape has at least one: auto-detection skips the adapter for a
    # record with none of them without calling `detect` (None: `detect` looks at every record).
    detect_keys: ClassVar[frozenset[str] | None] = None

    def detect(self, record: dict[str, Any]) -> bool:
        raise NotImplementedError

    def convert(self, record: dict[str, Any], ctx: RecordContext) -> Iterator[Sample]:
        raise NotImplementedError
