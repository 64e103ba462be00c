"""Registry of record-shape adapters and auto-detection."""

from __future__ import annotations

import functools
from typing import Any

from curate.adapters import agentic, chat
from curate.adapters.base import Adapter, RecordContext
from curate.schema import SampleError

__all__ = ["Adapter", "RecordContext", "all_adapters", "by_name", "detect"]


def all_adapters() -> list[Adapter]:
    """Every adapter, most specific first (ascending priority, then name for a stable order)."""
    return sorted([*chat.ADAPTERS, *agentic.ADAPTERS], key=lambda a: (a.priority, a.name))


def by_name(name: str) -> Adapter:
    for adapter in all_adapters():
        if adapter.name == name:
            return adapter
    names = ", ".join(a.name for a in all_adapters())
    raise ValueError(f"unknown format {name!r}; known formats: {names}")


@functools.lru_cache(maxsize=4096)
def _candidates(keys: frozenset[str]) -> tuple[Adapter, ...]:
    """The adapters that may recognise a record with these top-level keys, in detection order."""
    return tuple(a for a in all_adapters() if a.detect_keys is None or not a.detect_keys.isdisjoint(keys))


def detect(record: dict[str, Any]) -> Adapter:
    """The first adapter that recognises the record; SampleError('unknown_shape') when none does."""
    if not isinstance(record, dict):
        raise SampleError("bad_type", f"record must be a JSON object, got {type(record).__name__}")
    for adapter in _candidates(frozenset(record)):
        if adapter.detect(record):
            return adapter
    keys = ", ".join(sorted(record)[:12])
    raise SampleError("unknown_shape", f"no adapter recognises a record with keys [{keys}]")
