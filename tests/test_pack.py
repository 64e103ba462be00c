"""Packing: the BFD plan against a reference and TRL, and packed shards against the token shards they came from."""

from __future__ import annotations

import collections
import hashlib
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from packers.pack import IGNORE_INDEX, pack_tokens
from packers.plan import best_fit_decreasing, plan_packing

# (domain, share of samples, median length, lognormal sigma) at seq_len 262,144: short chat, long reasoning, SWE tails.
REALISTIC_MIX = [
    ("chat", 0.35, 1500, 0.9),
    ("math", 0.25, 6000, 0.8),
    ("code_reasoning", 0.20, 12000, 0.7),
    ("tool_calling", 0.12, 3000, 0.8),
    ("swe_agentic", 0.08, 40000, 0.7),
]


def realistic_lengths(n: int, rng: np.random.Generator, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Lengths and domains of a 5-domain SFT mix; `scale` < 1 keeps the same ratio to a smaller seq_len."""
    lengths, domains = [], []
    for domain, share, median, sigma in REALISTIC_MIX:
        count = int(round(n * share))
        lengths.append(np.maximum(1, (rng.lognormal(np.log(median * scale), sigma, count)).astype(np.int64)))
        domains += [domain] * count
    order = rng.permutation(sum(len(a) for a in lengths))
    return np.concatenate(lengths)[order], np.asarray(domains)[order]


def write_token_shards(directory: Path, lengths, domains, rng: np.random.Generator, files: int = 3) -> dict:
    """Token shards in the tokenizer's layout; returns {id: (input_ids, loss_mask)} for checking."""
    directory.mkdir(parents=True, exist_ok=True)
    truth = {}
    for file_no, part in enumerate(np.array_split(np.arange(len(lengths)), files)):
        ids, tokens, masks = [], [], []
        for i in part:
            sample_id = f"sample-{i:06d}"
            token_ids = rng.integers(0, 150_000, lengths[i]).astype(np.int32)
            loss_mask = (rng.random(lengths[i]) < 0.6).astype(np.int8)
            truth[sample_id] = (token_ids, loss_mask)
            ids.append(sample_id)
            tokens.append(token_ids)
            masks.append(loss_mask)
        table = pa.table(
            {
                "id": ids,
                "domain": [str(d) for d in np.asarray(domains)[part]],
                "input_ids": pa.array(tokens, type=pa.list_(pa.int32())),
                "loss_mask": pa.array(masks, type=pa.list_(pa.int8())),
                "length": pa.array(np.asarray(lengths)[part], type=pa.int32()),
            }
        )
        pq.write_table(table, directory / f"tokens-{file_no:03d}.parquet", row_group_size=64)
    return truth


def reference_bfd_loads(lengths: np.ndarray, capacity: int) -> list[int]:
    """Sample-at-a-time best-fit decreasing by linear scan: the definition, O(n²)."""
    rooms: list[int] = []
    for length in sorted(lengths.tolist(), reverse=True):
        fitting = [b for b, room in enumerate(rooms) if room >= length]
        if fitting:
            best = min(fitting, key=lambda b: rooms[b])
            rooms[best] -= length
        else:
            rooms.append(capacity - length)
    return sorted(capacity - room for room in rooms)


def bin_loads(lengths: np.ndarray, bins: np.ndarray) -> list[int]:
    return sorted(np.bincount(bins, weights=lengths).astype(np.int64).tolist()) if len(lengths) else []


def test_grouped_bfd_equals_reference_bfd():
    rng = np.random.default_rng(1)
    for case in range(200):
        capacity = int(rng.integers(5, 300))
        n = int(rng.integers(0, 120))
        high = capacity + 1 if case % 2 else max(2, capacity // 4)  # some cases all-small, with many equal lengths
        lengths = rng.integers(1, high, n)
        bins, order = best_fit_decreasing(lengths, capacity)
        assert bin_loads(lengths, bins) == reference_bfd_loads(lengths, capacity), (capacity, lengths.tolist())
        assert sorted(order.tolist()) == list(range(n))
        assert (np.diff(lengths[order]) <= 0).all()


def test_bfd_uses_as_many_rows_as_trl_whole_set_bfd():
    from datasets import Dataset
    from trl import pack_dataset

    rng = np.random.default_rng(2)
    seq_len = 1024
    lengths, _ = realistic_lengths(3000, rng, scale=seq_len / 262144)
    lengths = np.minimum(lengths, seq_len)
    dataset = Dataset.from_dict({"input_ids": [[0] * int(n) for n in lengths]})
    trl_rows = pack_dataset(dataset, seq_len, strategy="bfd", map_kwargs={"batch_size": len(dataset)})
    trl_loads = sorted(sum(s) for s in trl_rows["seq_lengths"])
    bins, _ = best_fit_decreasing(lengths, seq_len)
    assert bin_loads(lengths, bins) == trl_loads


def test_plan_fills_realistic_mix_and_shuffles_by_seed():
    rng = np.random.default_rng(3)
    lengths, _ = realistic_lengths(30_000, rng)
    plan = plan_packing(lengths, 262144, seed=7)
    assert plan.fill_vs_lower_bound >= 0.999
    assert plan.row_tokens().max() <= 262144
    assert (plan.sample_row >= 0).sum() + plan.oversize_samples == len(lengths)
    again = plan_packing(lengths, 262144, seed=7)
    other_seed = plan_packing(lengths, 262144, seed=8)
    assert np.array_equal(plan.sample_row, again.sample_row)
    assert not np.array_equal(plan.sample_row, other_seed.sample_row)
    assert sorted(plan.row_tokens().tolist()) == sorted(other_seed.row_tokens().tolist())


def test_plan_oversize_policies_are_counted():
    lengths = np.array([10, 150, 40, 0, 101, 60])
    dropped = plan_packing(lengths, 100, oversize="drop")
    assert dropped.oversize_samples == 2 and dropped.oversize_tokens_removed == 251 and dropped.empty_samples == 1
    assert dropped.sample_row.tolist()[1] == -1 and dropped.sample_row.tolist()[4] == -1
    assert dropped.total_tokens == 110
    truncated = plan_packing(lengths, 100, oversize="truncate")
    assert truncated.sample_tokens.tolist() == [10, 100, 40, 0, 100, 60]
    assert truncated.oversize_tokens_removed == 51
    with pytest.raises(ValueError, match="exceeds seq_len 100"):
        plan_packing(lengths, 100, oversize="error")
    with pytest.raises(ValueError, match="oversize policy"):
        plan_packing(lengths, 100, oversize="split")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, dict, int]:
    """~600 samples of the realistic mix scaled to seq_len 8192, a few oversize, in 3 token shards."""
    rng = np.random.default_rng(4)
    seq_len = 8192
    lengths, domains = realistic_lengths(600, rng, scale=seq_len / 262144)
    lengths[:3] = [seq_len + 5, seq_len, 1]
    tokens_dir = tmp_path_factory.mktemp("tokens")
    return tokens_dir, write_token_shards(tokens_dir, lengths, domains, rng), seq_len


def read_packed(out_dir: Path) -> list[dict]:
    return pq.read_table(sorted((out_dir / "packed").glob("*.parquet"))).to_pylist()


def pack_small(corpus, out_dir: Path, **options) -> dict:
    tokens_dir, _, seq_len = corpus
    # Tiny batches and spill buffer so every spill/flush path runs many times.
    return pack_tokens(
        tokens_dir, out_dir, seq_len=seq_len, rows_per_shard=4, batch_rows=32, spill_buffer_bytes=50_000, **options
    )


def test_packed_rows_preserve_every_token_and_keep_documents_apart(corpus, tmp_path):
    _, truth, seq_len = corpus
    stats = pack_small(corpus, tmp_path)
    rows = read_packed(tmp_path)
    seen = collections.Counter()
    for row in rows:
        assert row["num_tokens"] == len(row["input_ids"]) == sum(row["seq_lengths"]) <= seq_len
        assert len(row["labels"]) == len(row["position_ids"]) == row["num_tokens"]
        assert len(row["sample_ids"]) == len(row["domains"]) == len(row["seq_lengths"])
        assert row["num_supervised"] == sum(label != IGNORE_INDEX for label in row["labels"])
        start = 0
        for sample_id, length in zip(row["sample_ids"], row["seq_lengths"], strict=True):
            token_ids, loss_mask = truth[sample_id]
            doc = slice(start, start + length)
            assert row["input_ids"][doc] == token_ids.tolist()  # decoding the document gives the sample back
            assert row["position_ids"][doc] == list(range(length))
            expected = np.where(loss_mask == 1, token_ids, IGNORE_INDEX)
            expected[0] = IGNORE_INDEX  # never predicted from the previous document
            assert row["labels"][doc] == expected.tolist()
            seen.update((sample_id, p) for p in range(length))
            start += length
    oversize = "sample-000000"
    expected_positions = collections.Counter(
        (sample_id, p) for sample_id, (ids, _) in truth.items() if sample_id != oversize for p in range(len(ids))
    )
    assert seen == expected_positions
    assert stats["oversize"] == {"policy": "drop", "samples": 1, "dropped_samples": 1, "tokens_removed": seq_len + 5}
    assert stats["fill_vs_lower_bound"] >= 0.99 and stats["rows"] == len(rows)

    manifest = json.loads((tmp_path / "manifest.json").read_text())
    for shard in manifest["shards"]:
        assert hashlib.sha256((tmp_path / shard["path"]).read_bytes()).hexdigest() == shard["sha256"]
    assert sum(s["rows"] for s in manifest["shards"]) == len(rows)
    assert json.loads((tmp_path / "pack_stats.json").read_text()) == stats
    assert not list(tmp_path.glob("spill-*")), "spill files are removed"


def test_packing_is_deterministic_and_seed_only_moves_rows(corpus, tmp_path):
    pack_small(corpus, tmp_path / "a", seed=3)
    pack_small(corpus, tmp_path / "b", seed=3)
    pack_small(corpus, tmp_path / "c", seed=4)
    shas = {
        name: [s["sha256"] for s in json.loads((tmp_path / name / "manifest.json").read_text())["shards"]]
        for name in "abc"
    }
    assert shas["a"] == shas["b"]
    assert shas["a"] != shas["c"]
    as_rows = {name: sorted(tuple(r["sample_ids"]) for r in read_packed(tmp_path / name)) for name in "ac"}
    assert as_rows["a"] == as_rows["c"]


def test_oversize_truncate_keeps_the_head_and_error_names_the_sample(corpus, tmp_path):
    _, truth, seq_len = corpus
    stats = pack_small(corpus, tmp_path, oversize="truncate")
    assert stats["oversize"] == {"policy": "truncate", "samples": 1, "dropped_samples": 0, "tokens_removed": 5}
    row = next(r for r in read_packed(tmp_path) if "sample-000000" in r["sample_ids"])
    assert row["sample_ids"] == ["sample-000000"]
    assert row["input_ids"] == truth["sample-000000"][0][:seq_len].tolist()
    with pytest.raises(ValueError, match=r"tokens-000\.parquet: row 0 \(id 'sample-000000'\) field 'length'"):
        pack_small(corpus, tmp_path / "error", oversize="error")


def test_bad_token_shards_are_named(tmp_path):
    table = pa.table(
        {
            "id": ["a", "b"],
            "domain": ["chat", "chat"],
            "input_ids": pa.array([[1, 2, 3], [4, 5]], type=pa.list_(pa.int32())),
            "loss_mask": pa.array([[0, 1, 1], [1]], type=pa.list_(pa.int8())),
            "length": pa.array([3, 2], type=pa.int32()),
        }
    )
    pq.write_table(table, tmp_path / "tokens-000.parquet")
    with pytest.raises(ValueError, match=r"tokens-000\.parquet: row 1 \(id 'b'\) field 'loss_mask' has 1 entries"):
        pack_tokens(tmp_path, tmp_path / "out", seq_len=16)
    pq.write_table(table.drop_columns(["length"]), tmp_path / "tokens-000.parquet")
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['length'\]"):
        pack_tokens(tmp_path, tmp_path / "out", seq_len=16)
    with pytest.raises(FileNotFoundError):
        pack_tokens(tmp_path / "nothing-here", tmp_path / "out", seq_len=16)


def test_datasets_loads_the_packed_shards(corpus, tmp_path):
    from datasets import load_dataset

    stats = pack_small(corpus, tmp_path)
    files = sorted(str(p) for p in (tmp_path / "packed").glob("*.parquet"))
    dataset = load_dataset("parquet", data_files=files, split="train", cache_dir=str(tmp_path / "hf-cache"))
    assert len(dataset) == stats["rows"]
    assert set(dataset.column_names) >= {"input_ids", "labels", "seq_lengths", "position_ids", "sample_ids"}
    assert sum(dataset["num_tokens"]) == stats["tokens"]


def test_rendered_samples_survive_tokenize_and_pack(tmp_path):
    """Canonical samples → tokenize (embedded tokenizer) → pack: each packed document decodes to its rendered text."""
    from curate.sample_io import write_samples
    from curate.schema import Message, Sample, ToolCall
    from packers.template import render_sample
    from packers.tokenize import tokenize_samples
    from packers.tokenizer import load_tokenizer

    rng = np.random.default_rng(5)
    words = ["packing", "rows", "tokens", "naïve", "归约", "∑", "def", "f(x):", "return", "42", "\n"]
    samples = []
    for i in range(24):
        text = " ".join(rng.choice(words, int(rng.integers(3, 120))))
        messages = [
            Message("user", f"question {i}: {text[:40]}"),
            Message("assistant", text, reasoning_content=f"thinking about {i}" if i % 2 else None),
        ]
        if i % 3 == 0:
            messages += [
                Message("user", "now call the tool"),
                Message("assistant", "", tool_calls=[ToolCall("lookup", {"q": text[:10], "n": i}, id=f"c{i}")]),
                Message("tool", '{"ok": true}', tool_call_id=f"c{i}", name="lookup"),
                Message("assistant", "done"),
            ]
        samples.append(Sample(id=f"s{i:03d}", domain=["chat", "math"][i % 2], source="generated", messages=messages))
    write_samples(tmp_path / "samples" / "part-0.parquet", samples)
    tokenize_samples(tmp_path / "samples", tmp_path / "tokens")
    stats = pack_tokens(tmp_path / "tokens", tmp_path / "packed", seq_len=512, rows_per_shard=2)

    tokenizer = load_tokenizer()
    by_id = {s.id: s for s in samples}
    decoded = {}
    for row in read_packed(tmp_path / "packed"):
        start = 0
        for sample_id, length in zip(row["sample_ids"], row["seq_lengths"], strict=True):
            ids = row["input_ids"][start : start + length]
            decoded[sample_id] = tokenizer.decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False)
            trained = [label for label in row["labels"][start : start + length] if label != IGNORE_INDEX]
            trained_text = tokenizer.decode(trained, skip_special_tokens=False, clean_up_tokenization_spaces=False)
            assert trained_text.endswith("<|im_end|>\n") and "<|im_start|>" not in trained_text  # assistant output
            start += length
    assert stats["oversize"]["samples"] == len(by_id) - len(decoded)
    assert len(decoded) >= 12, "most samples fit in 512 tokens"
    for sample_id, text in decoded.items():
        assert text == render_sample(by_id[sample_id]).text


def test_nothing_left_to_pack_gives_an_empty_valid_output(tmp_path):
    from packers.stats import run_sql

    rng = np.random.default_rng(6)
    write_token_shards(tmp_path / "tokens", np.array([30, 40]), np.array(["chat", "math"]), rng, files=1)
    stats = pack_tokens(tmp_path / "tokens", tmp_path / "out", seq_len=16)
    assert stats["rows"] == 0 and stats["shards"] == 0 and stats["domains"] == {}
    assert stats["oversize"] == {"policy": "drop", "samples": 2, "dropped_samples": 2, "tokens_removed": 70}
    assert run_sql(tmp_path / "out", "SELECT count(*) FROM rows")[1] == [(0,)]
    with pytest.raises(ValueError, match="oversize policy must be one of"):
        pack_tokens(tmp_path / "tokens", tmp_path / "out", seq_len=16, oversize="split")
