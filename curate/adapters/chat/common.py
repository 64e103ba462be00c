"""What every chat adapter does the same way: sample ids from native record keys, and record-level meta."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from curate.adapters.base import RecordContext
from curate.schema import Message, Sample, sample_id

# Native id fields in the order they are trusted; the first present non-empty one is the record key.
ID_FIELDS = ("id", "uuid", "hash_id", "instance_id", "task_id")


def record_key(record: dict[str, Any], ctx: RecordContext, id_fields: Iterable[str] = ID_FIELDS) -> str | int:
    """The record's native id when it has one, else its position in the source.

    NeMo-Gym rollout files repeat a task's id once per rollout, so the rollout index joins the key there.
    """
    for name in id_fields:
        value = record.get(name)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            if "_ng_rollout_index" in record:
                return f"{value}#rollout{record['_ng_rollout_index']}"
            return value
    return ctx.index


def make_sample(record: dict[str, Any], ctx: RecordContext, adapter_name: str, messages: list[Message],
                tools: list[dict[str, Any]] | None = None, consumed: Iterable[str] = (),
                extra_meta: dict[str, Any] | None = None) -> Sample:
    """A Sample whose meta keeps every record field the conversion did not consume (ids, difficulty, dataset,
    correctness flags, verifier references), so downstream filters and RL stages can still read them."""
    skip = set(consumed)
    meta = {k: v for k, v in record.items() if k not in skip}
    meta["source_format"] = adapter_name
    meta.update(extra_meta or {})
    return Sample(
        id=sample_id(ctx.source, record_key(record, ctx)),
        domain=ctx.domain,
        source=ctx.source,
        messages=messages,
        tools=tools or [],
        meta=meta,
    )
