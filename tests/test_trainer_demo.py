"""The demo's training step: short documents re-packed faithfully, and the loss falls."""

from __future__ import annotations

from pathlib import Path

from trainer.data import PackedDataset
from trainer.demo import run_demo_training, short_document_rows
from trainer.synthetic import synthetic_rows, write_packed_dir


def _documents(rows: list[dict]) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    documents = []
    for row in rows:
        start = 0
        for length in row["seq_lengths"]:
            end = start + length
            documents.append((tuple(row["input_ids"][start:end]), tuple(row["labels"][start:end])))
            start = end
    return documents


def test_short_document_rows_keep_exactly_the_short_documents(tmp_path: Path) -> None:
    rows = synthetic_rows(6, 2048, (8, 900), vocab_size=200, seed=3)
    repacked = short_document_rows(PackedDataset(write_packed_dir(tmp_path, rows)), row_tokens=512, max_rows=1000)
    assert all(row["num_tokens"] <= 512 and row["num_tokens"] == sum(row["seq_lengths"]) for row in repacked)
    expected = sorted(doc for doc in _documents(rows) if len(doc[0]) <= 512)
    assert sorted(_documents(repacked)) == expected and expected


def test_demo_training_loss_goes_down(tmp_path: Path) -> None:
    result = run_demo_training(None, tmp_path / "train", steps=8, row_tokens=512)
    assert result.losses[8] < result.losses[1] - 0.5
    assert (result.export_dir / "model.safetensors").is_file()
