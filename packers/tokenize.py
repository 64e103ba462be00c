"""Canonical samples → rendered chat text → token ids + assistant loss masks → token shards (Parquet).

Streaming in batches: samples are read, rendered (natively for the Nemotron template), encoded with the Rust
backend's parallel `encode_batch`, masked from the rendered spans, and appended as one row group per batch, so
memory holds one batch whatever the corpus size. Output order = input order (also with `workers`), so the same
inputs give identical shards. The packer reads exactly TOKEN_SCHEMA.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate.sample_io import iter_samples
from curate.schema import Sample
from packers.masks import expand_turns as expand_sample_turns
from packers.masks import token_mask, trained_spans
from packers.template import Rendered, Renderer, render_sample, renderer_for
from packers.tokenizer import backend, load_tokenizer, tokenizer_name

TOKEN_SCHEMA = pa.schema([
    ("id", pa.string()),
    ("domain", pa.string()),
    ("input_ids", pa.list_(pa.int32())),
    ("loss_mask", pa.list_(pa.int8())),  # 1 = trained
    ("length", pa.int32()),
])
SHARD_PATTERN = "tokens-{:05d}.parquet"
DEFAULT_BATCH_SIZE = 256
DEFAULT_SHARD_ROWS = 100_000


@dataclass(frozen=True, slots=True)
class TokenizedBatch:
    ids: list[str]
    domains: list[str]
    input_ids: list[np.ndarray]  # int32 per document
    loss_masks: list[np.ndarray]  # int8 per document

    def to_table(self) -> pa.Table:
        lengths = np.fromiter((len(x) for x in self.input_ids), dtype=np.int32, count=len(self.input_ids))
        offsets = pa.array(np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)]).astype(np.int32))
        flat_ids = np.concatenate(self.input_ids) if self.input_ids else np.zeros(0, np.int32)
        flat_mask = np.concatenate(self.loss_masks) if self.loss_masks else np.zeros(0, np.int8)
        return pa.Table.from_arrays([
            pa.array(self.ids, pa.string()),
            pa.array(self.domains, pa.string()),
            pa.ListArray.from_arrays(offsets, pa.array(flat_ids, pa.int32())),
            pa.ListArray.from_arrays(offsets, pa.array(flat_mask, pa.int8())),
            pa.array(lengths, pa.int32()),
        ], schema=TOKEN_SCHEMA)


class SampleEncoder:
    """Render + encode + mask one batch of samples with one tokenizer (one per process)."""

    def __init__(self, tokenizer: Any, thinking: bool | None = None):
        self.renderer: Renderer = renderer_for(tokenizer)
        self.rust = backend(tokenizer)
        self.thinking = thinking

    def render_and_encode(self, samples: list[Sample]) -> list[tuple[Rendered, Any, np.ndarray]]:
        """(rendered text + spans, tokenizers.Encoding, int8 loss mask) per sample, encoded in one Rust batch."""
        rendered = [render_sample(s, self.renderer, self.thinking) for s in samples]
        encodings = self.rust.encode_batch([r.text for r in rendered], add_special_tokens=False)
        return [(r, e, token_mask(e, trained_spans(s, r.spans)))
                for s, r, e in zip(samples, rendered, encodings, strict=True)]

    def encode(self, samples: list[Sample]) -> TokenizedBatch:
        encoded = self.render_and_encode(samples)
        return TokenizedBatch(
            ids=[s.id for s in samples],
            domains=[s.domain for s in samples],
            input_ids=[np.array(e.ids, dtype=np.int32) for _, e, _ in encoded],
            loss_masks=[mask for _, _, mask in encoded],
        )


def _batches(samples: Iterable[Sample], batch_size: int, expand: bool) -> Iterator[list[Sample]]:
    docs = (part for s in samples for part in expand_sample_turns(s)) if expand else iter(samples)
    while batch := list(islice(docs, batch_size)):
        yield batch


# One encoder per worker process, built by the pool initializer.
_WORKER_ENCODER: SampleEncoder | None = None


def _init_worker(tokenizer_spec: Any, thinking: bool | None) -> None:
    global _WORKER_ENCODER
    os.environ["RAYON_NUM_THREADS"] = "1"  # processes give the parallelism; one Rust thread each
    tokenizer = load_tokenizer(tokenizer_spec) if tokenizer_spec is None or isinstance(tokenizer_spec, str) \
        else tokenizer_spec
    _WORKER_ENCODER = SampleEncoder(tokenizer, thinking)


def _encode_in_worker(samples: list[Sample]) -> TokenizedBatch:
    assert _WORKER_ENCODER is not None, "worker pool was not initialised"
    return _WORKER_ENCODER.encode(samples)


class _ShardWriter:
    """Token shards of at most `shard_rows` rows, one row group per batch."""

    def __init__(self, out_dir: Path, shard_rows: int):
        self.out_dir, self.shard_rows = out_dir, shard_rows
        self.paths: list[Path] = []
        self._writer: pq.ParquetWriter | None = None
        self._rows_in_shard = 0

    def write(self, table: pa.Table) -> None:
        if self._writer is None or self._rows_in_shard >= self.shard_rows:
            self.close()
            self.paths.append(self.out_dir / SHARD_PATTERN.format(len(self.paths)))
            self._writer = pq.ParquetWriter(self.paths[-1], TOKEN_SCHEMA, compression="zstd")
            self._rows_in_shard = 0
        self._writer.write_table(table)
        self._rows_in_shard += table.num_rows

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def tokenize_samples(
    samples_path: str | Path,
    out_dir: str | Path,
    tokenizer: Any = None,
    thinking: bool | None = None,
    expand_turns: bool = False,
    workers: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    shard_rows: int = DEFAULT_SHARD_ROWS,
) -> dict[str, Any]:
    """Tokenize canonical sample shards into `out_dir/tokens-*.parquet` (TOKEN_SCHEMA); returns the run's stats.

    tokenizer: None (embedded), a path / hub id, or a loaded fast tokenizer. thinking: None = per sample
    (`meta.thinking`, default on), True/False = for every sample. expand_turns: one document per user-delimited
    segment where history truncation would drop reasoning. workers: None/1 = this process (the Rust encoder is
    multi-threaded already); N > 1 = N processes rendering and encoding batches in order.
    """
    if batch_size < 1 or shard_rows < 1:
        raise ValueError(f"batch_size and shard_rows must be >= 1 (got {batch_size}, {shard_rows})")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("tokens-*.parquet"):
        stale.unlink()
    loaded = load_tokenizer(tokenizer) if tokenizer is None or isinstance(tokenizer, str) else tokenizer
    counting = _Counting(iter_samples(samples_path))
    batches = _batches(counting, batch_size, expand_turns)
    writer = _ShardWriter(out, shard_rows)
    stats = {"documents": 0, "tokens": 0, "trained_tokens": 0, "max_length": 0}
    try:
        for batch in _encoded(batches, loaded, tokenizer, thinking, workers):
            writer.write(batch.to_table())
            stats["documents"] += len(batch.ids)
            stats["tokens"] += sum(len(x) for x in batch.input_ids)
            stats["trained_tokens"] += int(sum(int(m.sum()) for m in batch.loss_masks))
            stats["max_length"] = max([stats["max_length"], *(len(x) for x in batch.input_ids)])
    finally:
        writer.close()
    result = {
        "samples": counting.count, **stats, "shards": [str(p) for p in writer.paths],
        "tokenizer": tokenizer_record(loaded), "thinking": thinking, "expand_turns": expand_turns,
    }
    (out / "tokenize.json").write_text(json.dumps(result, indent=2))
    return result


def tokenizer_record(tokenizer: Any) -> dict[str, Any]:
    """What the token ids mean: the tokenizer's name, its size (ids lie below it) and a hash of its Rust
    serialization, so the trainer can refuse rows tokenized for another model (names alone may differ or collide)."""
    serialized = tokenizer.backend_tokenizer.to_str().encode()
    return {"name_or_path": tokenizer_name(tokenizer), "vocab_size": len(tokenizer),
            "sha256": hashlib.sha256(serialized).hexdigest()}


def _encoded(batches: Iterator[list[Sample]], loaded: Any, spec: Any, thinking: bool | None,
             workers: int | None) -> Iterator[TokenizedBatch]:
    if not workers or workers <= 1:
        encoder = SampleEncoder(loaded, thinking)
        yield from (encoder.encode(batch) for batch in batches)
        return
    import multiprocessing as mp

    spec = spec if spec is None or isinstance(spec, str) else loaded
    with mp.get_context("spawn").Pool(workers, initializer=_init_worker, initargs=(spec, thinking)) as pool:
        # A bounded window of batches in flight (Pool.imap would read the whole input ahead), results in order.
        pending: deque = deque()
        for batch in batches:
            pending.append(pool.apply_async(_encode_in_worker, (batch,)))
            if len(pending) >= 2 * workers:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


class _Counting:
    """Pass-through iterator that counts what went by (samples in, before expansion)."""

    def __init__(self, items: Iterable[Sample]):
        self._items = iter(items)
        self.count = 0

    def __iter__(self) -> Iterator[Sample]:
        for item in self._items:
            self.count += 1
            yield item


def read_tokens(out_dir: str | Path) -> pa.Table:
    """All token shards of a tokenize run as one table (for tests and small runs)."""
    paths = sorted(Path(out_dir).glob("tokens-*.parquet"))
    if not paths:
        raise FileNotFoundError(f"no token shards (tokens-*.parquet) under {out_dir}")
    return pa.concat_tables(pq.read_table(p, schema=TOKEN_SCHEMA) for p in paths)
