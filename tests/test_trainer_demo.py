"""The demo's training step: a tiny model on packed rows, and the loss falls."""

from __future__ import annotations

from pathlib import Path

from trainer.data import PackedDataset
from trainer.demo import run_demo_training, vocabulary_for
from trainer.synthetic import synthetic_rows, write_packed_dir


def test_demo_vocabulary_covers_every_token(tmp_path: Path) -> None:
    rows = synthetic_rows(3, 256, (8, 64), vocab_size=1000, seed=2)
    largest = max(max(row["input_ids"]) for row in rows)
    vocab = vocabulary_for(PackedDataset(write_packed_dir(tmp_path, rows)))
    assert vocab > largest and vocab % 64 == 0 and vocab - largest <= 64


def test_demo_training_loss_goes_down(tmp_path: Path) -> None:
    result = run_demo_training(None, tmp_path / "train", steps=8)
    assert result.losses[8] < result.losses[1] - 0.5
    assert (result.export_dir / "model.safetensors").is_file()
