"""Reading and writing canonical samples as Parquet shards, streaming in bounded batches."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow.parquet as pq

from curate.schema import SAMPLE_SCHEMA, Sample, from_row, samples_table

BATCH_ROWS = 512
# How sample shards are written. Dictionary encoding only where values repeat: tried on message text it is
# built and then thrown away, which cost ~10% of ingest.
PARQUET_OPTIONS = {"compression": "zstd", "use_dictionary": [
    "domain", "source", "messages.list.element.role", "messages.list.element.name",
    "messages.list.element.tool_calls.list.element.name"]}


class SampleWriter:
    """Append samples to one Parquet file, flushing every `batch_rows` so memory stays bounded."""

    def __init__(self, path: str | Path, batch_rows: int = BATCH_ROWS):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.batch_rows = batch_rows
        self._pending: list[Sample] = []
        self._writer: pq.ParquetWriter | None = None
        self.count = 0

    def write(self, sample: Sample) -> None:
        self._pending.append(sample)
        self.count += 1
        if len(self._pending) >= self.batch_rows:
            self._flush()

    def _flush(self) -> None:
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, SAMPLE_SCHEMA, **PARQUET_OPTIONS)
        if self._pending:
            self._writer.write_table(samples_table(self._pending))
            self._pending = []

    def close(self) -> None:
        self._flush()  # an empty shard still gets a valid file with the schema
        assert self._writer is not None
        self._writer.close()

    def __enter__(self) -> SampleWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def write_samples(path: str | Path, samples: Iterable[Sample]) -> int:
    with SampleWriter(path) as writer:
        for s in samples:
            writer.write(s)
    return writer.count


def sample_files(path: str | Path) -> list[Path]:
    """The Parquet shards under a run dir (its samples/ folder), a folder, or a single file; sorted."""
    p = Path(path)
    if p.is_file():
        return [p]
    if (p / "samples").is_dir():
        p = p / "samples"
    files = sorted(p.glob("*.parquet"))
    if not files:
        raise FileNotFoundError(f"no .parquet sample shards under {path}")
    return files


def iter_samples(path: str | Path) -> Iterator[Sample]:
    for f in sample_files(path):
        for batch in pq.ParquetFile(f).iter_batches(batch_size=BATCH_ROWS):
            for row in batch.to_pylist():
                yield from_row(row)
