"""Ingest accounting: per-file tallies that must add up, and the rejects file that says why each record was dropped.

Invariant, per file and in total: `in == kept + rejected`. `in` counts input records, `kept` the records that
became samples and `samples_out` the samples they produced (an adapter may emit several per record, e.g. the three
stages of an Agentless localisation). Nothing leaves ingest without being counted in one of `kept` / `rejected`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

INVARIANT = ("in == kept + rejected, in total and per file; in = input records, kept = records converted into "
             "one or more samples, samples_out = samples written (an adapter may emit several per record)")
REJECT_SCHEMA = pa.schema([
    ("source", pa.string()),
    ("record", pa.int64()),
    ("reason", pa.string()),
    ("field", pa.string()),
    ("message", pa.string()),
    ("excerpt", pa.string()),
])
REJECT_BATCH_ROWS = 256


@dataclass(slots=True)
class FileTally:
    records_in: int = 0
    kept: int = 0
    rejected: int = 0
    samples_out: int = 0
    by_reason: Counter[str] = field(default_factory=Counter)

    def add(self, other: FileTally) -> None:
        self.records_in += other.records_in
        self.kept += other.kept
        self.rejected += other.rejected
        self.samples_out += other.samples_out
        self.by_reason.update(other.by_reason)

    def as_dict(self) -> dict[str, Any]:
        assert self.records_in == self.kept + self.rejected, f"ledger does not add up: {self}"
        return {"in": self.records_in, "kept": self.kept, "rejected": self.rejected, "samples_out": self.samples_out,
                "by_reason": dict(sorted(self.by_reason.items()))}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FileTally:
        return cls(data["in"], data["kept"], data["rejected"], data["samples_out"], Counter(data["by_reason"]))


class Ledger:
    """Tallies keyed by source label, in first-seen order (sources are registered up front, so empty files show)."""

    def __init__(self, sources: Iterable[str] = ()):
        self.per_file: dict[str, FileTally] = {label: FileTally() for label in sources}

    def file(self, label: str) -> FileTally:
        tally = self.per_file.get(label)
        if tally is None:
            tally = self.per_file[label] = FileTally()
        return tally

    def merge(self, other: Ledger) -> None:
        for label, tally in other.per_file.items():
            self.file(label).add(tally)

    def as_dict(self, **header: Any) -> dict[str, Any]:
        total = FileTally()
        for tally in self.per_file.values():
            total.add(tally)
        return {**header, "invariant": INVARIANT, **total.as_dict(),
                "per_file": {label: tally.as_dict() for label, tally in self.per_file.items()}}

    def save_part(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(orjson.dumps({label: t.as_dict() for label, t in self.per_file.items()}))

    @classmethod
    def load_part(cls, path: Path) -> Ledger:
        ledger = cls()
        for label, data in orjson.loads(path.read_bytes()).items():
            ledger.per_file[label] = FileTally.from_dict(data)
        return ledger


class RejectWriter:
    """Rejected records as Parquet rows (source, record, reason, field, message, excerpt), written in batches."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._rows: list[dict[str, Any]] = []
        self._writer = pq.ParquetWriter(path, REJECT_SCHEMA, compression="zstd")

    def write(self, source: str, record: int, reason: str, field: str, message: str, excerpt: str) -> None:
        self._rows.append({"source": source, "record": record, "reason": reason, "field": field,
                           "message": message, "excerpt": excerpt})
        if len(self._rows) >= REJECT_BATCH_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            self._writer.write_table(pa.Table.from_pylist(self._rows, schema=REJECT_SCHEMA))
            self._rows = []

    def close(self) -> None:
        self._flush()
        self._writer.close()

    def __enter__(self) -> RejectWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def is_rejects_file(path: Path) -> bool:
    return set(REJECT_SCHEMA.names) <= set(pq.read_schema(path).names)
