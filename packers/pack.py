"""Materialise a packing plan out of core: token shards → packed Parquet rows of ≤ seq_len tokens.

BFD pairs long and short samples from anywhere in the corpus, so almost every output row needs data from many input
shards; reading inputs per output shard would re-read the corpus once per output shard. Instead a two-pass bucket
spill: pass 1 streams the inputs once in row batches and appends each sample to the spill file of the output shard
that holds its row (length-prefixed Arrow IPC record batches, buffered under a global byte cap); pass 2 assembles one
output shard at a time from its own spill file. Peak memory is one input batch + the spill buffers + one output shard
(≈ rows_per_shard × seq_len × 17 bytes), independent of corpus size; the only per-sample state is the plan (~50 bytes a
sample). Disk needs ≈ 1× the token data for the spill while packing. Parquet dictionary encoding is off: token ids
have too many distinct values for it to pay, and trying it made writing 2.5× slower.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from packers.plan import OVERSIZE_POLICIES, OversizePolicy, PackPlan, plan_packing

IGNORE_INDEX = -100  # label of positions that carry no loss (HF convention)
TOKEN_COLUMNS = ("id", "domain", "input_ids", "loss_mask", "length")
PACKED_SCHEMA = pa.schema(
    [
        ("input_ids", pa.list_(pa.int32())),
        ("labels", pa.list_(pa.int32())),
        ("seq_lengths", pa.list_(pa.int32())),
        ("position_ids", pa.list_(pa.int32())),
        ("sample_ids", pa.list_(pa.string())),
        ("domains", pa.list_(pa.string())),
        ("num_tokens", pa.int32()),
        ("num_supervised", pa.int32()),
    ]
)
_SPILL_SCHEMA = pa.schema(
    [
        ("sample_index", pa.int64()),
        ("id", pa.string()),
        ("domain", pa.string()),
        ("input_ids", pa.list_(pa.int32())),
        ("loss_mask", pa.list_(pa.int8())),
    ]
)
MANIFEST_FORMAT = "cascade.packed/1"


def token_shard_files(tokens_dir: str | Path) -> list[Path]:
    """Token shards: `DIR/*.parquet`, or `DIR/tokens/*.parquet` for a run dir; sorted so sample order is stable."""
    root = Path(tokens_dir)
    if (root / "tokens").is_dir():
        root = root / "tokens"
    files = sorted(root.glob("*.parquet"))
    if not files:
        raise FileNotFoundError(f"no token shards (*.parquet) under {tokens_dir}")
    for f in files:
        missing = [c for c in TOKEN_COLUMNS if c not in pq.read_schema(f).names]
        if missing:
            raise ValueError(f"{f}: token shard lacks column(s) {missing}; expected {list(TOKEN_COLUMNS)}")
    return files


def read_lengths(files: list[Path]) -> tuple[np.ndarray, np.ndarray]:
    """All sample lengths (the `length` column only) and each file's first global sample index."""
    per_file = [pq.read_table(f, columns=["length"]).column("length").to_numpy().astype(np.int64) for f in files]
    first_index = np.cumsum([0] + [len(a) for a in per_file])
    return (np.concatenate(per_file) if per_file else np.zeros(0, np.int64)), first_index


def pack_tokens(
    tokens_dir: str | Path,
    out_dir: str | Path,
    seq_len: int = 262144,
    seed: int = 0,
    oversize: OversizePolicy = "drop",
    rows_per_shard: int = 32,
    batch_rows: int = 256,
    spill_buffer_bytes: int = 64 << 20,
) -> dict:
    """Pack token shards into `out_dir/packed/part-*.parquet` + `manifest.json` + `pack_stats.json`; return the stats.

    Deterministic: the same inputs and seed give byte-identical shards.
    """
    from packers.stats import compute_stats

    if oversize not in OVERSIZE_POLICIES:
        raise ValueError(f"oversize policy must be one of {OVERSIZE_POLICIES}, got {oversize!r}")
    if rows_per_shard <= 0 or rows_per_shard * seq_len >= 2**31:
        raise ValueError(f"rows_per_shard × seq_len must be in (0, 2^31) for int32 offsets, got {rows_per_shard}")
    files = token_shard_files(tokens_dir)
    lengths, first_index = read_lengths(files)
    if oversize == "error" and (lengths > seq_len).any():
        _raise_oversize(files, first_index, lengths, seq_len)
    plan = plan_packing(lengths, seq_len, seed=seed, oversize=oversize)

    out = Path(out_dir)
    packed_dir = out / "packed"
    packed_dir.mkdir(parents=True, exist_ok=True)
    for stale in [*packed_dir.glob("part-*.parquet"), out / "manifest.json", out / "pack_stats.json"]:
        stale.unlink(missing_ok=True)  # a failed run must not leave a manifest describing other shards
    num_shards = -(-plan.num_rows // rows_per_shard)
    row_tokens = plan.row_tokens()
    shard_entries = []
    max_token_id = -1
    spill_dir = Path(tempfile.mkdtemp(prefix="spill-", dir=out))
    try:
        _spill(files, first_index, plan, rows_per_shard, batch_rows, spill_buffer_bytes, spill_dir)
        for shard in range(num_shards):
            rows = range(shard * rows_per_shard, min((shard + 1) * rows_per_shard, plan.num_rows))
            table = _assemble_shard(spill_dir / f"{shard:05d}.arrows", plan, rows, row_tokens[rows.start : rows.stop])
            path = packed_dir / f"part-{shard:05d}.parquet"
            pq.write_table(table, path, compression="zstd", use_dictionary=False, row_group_size=8)
            max_token_id = max(max_token_id, pc.max(pc.list_flatten(table.column("input_ids"))).as_py())
            shard_entries.append(
                {
                    "path": path.relative_to(out).as_posix(),
                    "rows": table.num_rows,
                    "tokens": int(row_tokens[rows.start : rows.stop].sum()),
                    "sha256": _sha256(path),
                }
            )
    finally:
        shutil.rmtree(spill_dir, ignore_errors=True)

    packed_samples = int((plan.sample_row >= 0).sum())
    manifest = {
        "format": MANIFEST_FORMAT,
        "seq_len": seq_len,
        "seed": seed,
        "oversize": oversize,
        "rows_per_shard": rows_per_shard,
        "tokenizer": token_dir_tokenizer(files[0].parent),
        "inputs": [
            {"path": Path(os.path.relpath(f.resolve(), out.resolve())).as_posix(), "samples": int(count)}
            for f, count in zip(files, np.diff(first_index), strict=True)
        ],
        "shards": shard_entries,
        "totals": {
            "rows": plan.num_rows,
            "tokens": plan.total_tokens,
            "lower_bound_rows": plan.lower_bound,
            "fill_vs_lower_bound": plan.fill_vs_lower_bound,
            "input_samples": len(lengths),
            "packed_samples": packed_samples,
            "oversize_samples": plan.oversize_samples,
            "oversize_tokens_removed": plan.oversize_tokens_removed,
            "oversize_dropped_samples": plan.oversize_samples if oversize == "drop" else 0,
            "empty_samples": plan.empty_samples,
            "max_token_id": max_token_id,  # the trainer checks it against the model's vocabulary
        },
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    stats = compute_stats(out)
    (out / "pack_stats.json").write_text(json.dumps(stats, indent=2) + "\n")
    return stats


def token_dir_tokenizer(token_dir: Path) -> dict | None:
    """The tokenizer record (name_or_path, vocab_size, sha256) of the tokenize run that wrote `token_dir`, if any."""
    record_path = token_dir / "tokenize.json"
    if not record_path.is_file():
        return None
    record = json.loads(record_path.read_text()).get("tokenizer")
    return record if isinstance(record, dict) else None  # older runs recorded the name only


def _raise_oversize(files: list[Path], first_index: np.ndarray, lengths: np.ndarray, seq_len: int) -> None:
    first = int(np.flatnonzero(lengths > seq_len)[0])
    file_no = int(np.searchsorted(first_index, first, side="right") - 1)
    row = first - int(first_index[file_no])
    sample_id = pq.read_table(files[file_no], columns=["id"]).column("id")[row].as_py()
    raise ValueError(
        f"{files[file_no]}: row {row} (id {sample_id!r}) field 'length' = {int(lengths[first])} exceeds seq_len "
        f"{seq_len}; {int((lengths > seq_len).sum())} oversize samples in all (use --oversize drop or truncate)"
    )


def _spill(
    files: list[Path],
    first_index: np.ndarray,
    plan: PackPlan,
    rows_per_shard: int,
    batch_rows: int,
    buffer_cap: int,
    spill_dir: Path,
) -> None:
    """Pass 1: route every packed sample to the spill file of its output shard, in input order."""
    buffers: dict[int, list[pa.RecordBatch]] = {}
    buffered = 0
    for file_no, path in enumerate(files):
        next_index = int(first_index[file_no])
        for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_rows, columns=list(TOKEN_COLUMNS)):
            sample_index = np.arange(next_index, next_index + batch.num_rows, dtype=np.int64)
            next_index += batch.num_rows
            _check_lengths(batch, path, sample_index - int(first_index[file_no]))
            rows = plan.sample_row[sample_index]
            keep = np.flatnonzero(rows >= 0)
            if len(keep) == 0:
                continue
            shard_of = rows[keep] // rows_per_shard
            order = np.argsort(shard_of, kind="stable")
            routed = _spill_batch(batch, sample_index, plan).take(pa.array(keep[order]))  # grouped by shard
            bounds = np.flatnonzero(np.r_[True, np.diff(shard_of[order]) != 0, True])
            for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
                part = routed.slice(start, stop - start)
                buffers.setdefault(int(shard_of[order[start]]), []).append(part)
                buffered += part.nbytes
            if buffered > buffer_cap:
                _flush(buffers, spill_dir)
                buffered = 0
    _flush(buffers, spill_dir)


def _check_lengths(batch: pa.RecordBatch, path: Path, rows: np.ndarray) -> None:
    declared = batch.column("length").to_numpy(zero_copy_only=False)
    for field in ("input_ids", "loss_mask"):
        actual = pc.list_value_length(batch.column(field)).fill_null(0).to_numpy(zero_copy_only=False)
        bad = np.flatnonzero(actual != declared)
        if len(bad):
            i = int(bad[0])
            raise ValueError(
                f"{path}: row {int(rows[i])} (id {batch.column('id')[i].as_py()!r}) field {field!r} has "
                f"{int(actual[i])} entries but 'length' says {int(declared[i])}"
            )


def _spill_batch(batch: pa.RecordBatch, sample_index: np.ndarray, plan: PackPlan) -> pa.RecordBatch:
    """The spilled form of an input batch: global sample index, id, domain, and the tokens the plan keeps."""
    input_ids = batch.column("input_ids").cast(pa.list_(pa.int32()))
    loss_mask = batch.column("loss_mask").cast(pa.list_(pa.int8()))
    if plan.oversize == "truncate":
        input_ids = pc.list_slice(input_ids, 0, plan.seq_len)
        loss_mask = pc.list_slice(loss_mask, 0, plan.seq_len)
    sample_id, domain = batch.column("id").cast(pa.string()), batch.column("domain").cast(pa.string())
    columns = [pa.array(sample_index), sample_id, domain, input_ids, loss_mask]
    return pa.RecordBatch.from_arrays(columns, schema=_SPILL_SCHEMA)


def _flush(buffers: dict[int, list[pa.RecordBatch]], spill_dir: Path) -> None:
    for shard in sorted(buffers):
        with open(spill_dir / f"{shard:05d}.arrows", "ab") as f:
            for part in buffers[shard]:
                payload = part.serialize()
                f.write(struct.pack("<q", payload.size))
                f.write(payload)
    buffers.clear()


def _read_spill(path: Path) -> Iterator[pa.RecordBatch]:
    with open(path, "rb") as f:
        while header := f.read(8):
            (size,) = struct.unpack("<q", header)
            yield pa.ipc.read_record_batch(pa.py_buffer(f.read(size)), _SPILL_SCHEMA)


def _assemble_shard(spill_path: Path, plan: PackPlan, rows: range, row_tokens: np.ndarray) -> pa.Table:
    """Pass 2: place every spilled document at its (row, offset) and derive labels and position ids."""
    docs = pa.Table.from_batches(list(_read_spill(spill_path)), schema=_SPILL_SCHEMA).combine_chunks()
    sample_index = docs.column("sample_index").to_numpy()
    local_row = plan.sample_row[sample_index] - rows.start
    doc_len = plan.sample_tokens[sample_index]
    assert ((local_row >= 0) & (local_row < len(rows))).all()
    assert np.bincount(local_row, weights=doc_len, minlength=len(rows)).astype(np.int64).tolist() == row_tokens.tolist()

    # int32 positions throughout: a shard holds < 2^31 tokens (checked in pack_tokens), and it halves peak memory.
    row_start = np.r_[0, np.cumsum(row_tokens)].astype(np.int32)
    doc_dest = row_start[local_row] + plan.sample_offset[sample_index].astype(np.int32)
    ids_column, mask_column = docs.column("input_ids").chunk(0), docs.column("loss_mask").chunk(0)
    src_start = ids_column.offsets.to_numpy()[:-1] - ids_column.offsets[0].as_py()
    assert (np.diff(ids_column.offsets.to_numpy()) == doc_len).all()
    total = int(row_start[-1])
    within_doc = np.arange(total, dtype=np.int32) - np.repeat(src_start, doc_len)
    dest = np.repeat(doc_dest, doc_len) + within_doc

    input_ids = np.empty(total, dtype=np.int32)
    trained = np.empty(total, dtype=np.int8)
    position_ids = np.empty(total, dtype=np.int32)
    input_ids[dest] = ids_column.flatten().to_numpy()
    trained[dest] = mask_column.flatten().to_numpy()
    position_ids[dest] = within_doc
    labels = np.where(trained == 1, input_ids, np.int32(IGNORE_INDEX))
    labels[doc_dest] = IGNORE_INDEX  # a document's first token is never predicted from the previous document

    in_row_order = np.argsort(doc_dest, kind="stable")
    docs_per_row = np.bincount(local_row, minlength=len(rows))
    doc_offsets = pa.array(np.r_[0, np.cumsum(docs_per_row)].astype(np.int32))
    token_offsets = pa.array(row_start)
    order = pa.array(in_row_order)
    supervised = np.add.reduceat((labels != IGNORE_INDEX).astype(np.int32), row_start[:-1])  # rows are never empty
    columns = [
        pa.ListArray.from_arrays(token_offsets, pa.array(input_ids)),
        pa.ListArray.from_arrays(token_offsets, pa.array(labels)),
        pa.ListArray.from_arrays(doc_offsets, pa.array(doc_len[in_row_order].astype(np.int32))),
        pa.ListArray.from_arrays(token_offsets, pa.array(position_ids)),
        pa.ListArray.from_arrays(doc_offsets, docs.column("id").chunk(0).take(order)),
        pa.ListArray.from_arrays(doc_offsets, docs.column("domain").chunk(0).take(order)),
        pa.array(row_tokens.astype(np.int32)),
        pa.array(supervised.astype(np.int32)),
    ]
    return pa.Table.from_arrays(columns, schema=PACKED_SCHEMA)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
