"""The filter step contract: a datatrove step that marks (not removes) the samples it rejects.

Marking instead of removing lets one pipeline run many checks and route every rejected sample, with the first
reason that hit it, to the stage's rejects file. Each check has a settings dataclass, chosen per domain by the
recipe; a domain without settings for a check passes through it untouched.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, ClassVar

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from curate.documents import drop, dropped, sample_of
from curate.schema import Sample

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
    """Build a settings dataclass from a recipe mapping; errors name the key path (`filters.math.proof.min_chars`)."""
    if raw is None or raw is True:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ValueError(f"{path}: expected a mapping of settings, got {type(raw).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise ValueError(f"{path}.{unknown[0]}: unknown setting; known: {', '.join(sorted(fields))}")
    missing = [name for name, f in fields.items() if name not in raw
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise ValueError(f"{path}.{missing[0]}: required")
    hints = typing.get_type_hints(cls)
    values = {}
    for name, value in raw.items():
        values[name] = _coerce(value, hints[name], f"{path}.{name}")
    return cls(**values)


def _coerce(value: Any, hint: Any, path: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _coerce(value, option, path)
            except ValueError as e:
                errors.append(str(e))
        raise ValueError(errors[0])
    if origin is dict:
        key_type, value_type = typing.get_args(hint)
        if not isinstance(value, Mapping):
            raise ValueError(f"{path}: expected a mapping, got {type(value).__name__}")
        return {_coerce(k, key_type, path): _coerce(v, value_type, f"{path}.{k}") for k, v in value.items()}
    if origin is list:
        (item,) = typing.get_args(hint)
        if not isinstance(value, list):
            raise ValueError(f"{path}: expected a list, got {type(value).__name__}")
        return [_coerce(v, item, f"{path}[{i}]") for i, v in enumerate(value)]
    if hint is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{path}: expected true/false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{path}: expected an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{path}: expected a number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ValueError(f"{path}: expected a string, got {value!r}")
        return value
    raise TypeError(f"{path}: unsupported settings type {hint}")
