"""What every adapter does the same way: sample ids from where a record sits in its source, and record-level meta."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from curate.adapters.base import RecordContext
from curate.schema import Message, Sample, sample_id, sample_ids


def record_sample_id(ctx: RecordContext, part: str | None = None) -> str:
    """The id of a record's sample: (source, record index[, the sample's part of the record]).

    Unique by construction and stable across re-runs of the same file. Native ids are not: real data repeats them
    (nebius has ~25 trajectories per instance_id, NeMo-Gym files one line per rollout of a task id), so they
    stay in meta, never in the id. `part` names the sample when one record yields several (`file_level/0`).
    """
    return sample_id(ctx.source, ctx.index if part is None else f"{ctx.index}/{part}")


def record_sample_ids(source: str, indexes: Iterable[int]) -> list[str]:
    """`record_sample_id` of many whole records of one source."""
    return sample_ids(source, indexes)


def record_meta(record: dict[str, Any], adapter_name: str, consumed: Iterable[str] = (),
                extra_meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every record field the conversion did not consume (ids, difficulty, dataset, correctness flags, verifier
    references), so downstream filters and RL stages can still read them, and the format it came in."""
    skip = set(consumed)
    meta = {k: v for k, v in record.items() if k not in skip}
    meta["source_format"] = adapter_name
    meta.update(extra_meta or {})
    return meta


def make_sample(record: dict[str, Any], ctx: RecordContext, adapter_name: str, messages: list[Message],
                tools: list[dict[str, Any]] | None = None, consumed: Iterable[str] = (),
                extra_meta: dict[str, Any] | None = None) -> Sample:
    """A Sample with the record's `record_meta`."""
    return Sample(
        id=record_sample_id(ctx),
        domain=ctx.domain,
        source=ctx.source,
        messages=messages,
        tools=tools or [],
        meta=record_meta(record, adapter_name, consumed, extra_meta),
    )
