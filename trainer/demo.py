"""A short CPU training run of a tiny Llama on packed rows, printing the loss as it falls (`make demo`'s last step).

    python -m trainer.demo [PACKED_DIR] --out runs/demo/train     (no PACKED_DIR: synthetic rows)

The demo mix is packed into 262,144-token rows; a CPU step over one such row with long agentic documents takes
minutes, so the demo takes the mix's documents of at most `row_tokens` tokens, packs them first-fit into rows of
`row_tokens` (same format, same loss masks), and trains a 2-layer, 64-wide model on those for `steps` steps with the
real trainer (FSDP2 in a one-process world, per-document attention, chunked loss, checkpoint and HF export).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from trainer.config import TrainConfig
from trainer.data import PackedDataset
from trainer.synthetic import synthetic_rows, write_packed_dir
from trainer.train import TrainResult, train


def demo_config(packed_dir: Path, output_dir: Path, vocab_size: int, steps: int) -> TrainConfig:
    return TrainConfig.from_dict({
        "model": {"tiny": {"arch": "llama", "hidden": 64, "layers": 2, "heads": 4, "kv_heads": 2,
                           "intermediate": 128, "vocab_size": vocab_size}},
        "data": {"packed_dir": str(packed_dir)},
        "optim": {"lr": 3e-3, "min_lr": 3e-4, "warmup_steps": 2},
        "batch": {"global_rows": 4, "micro_rows": 2, "max_steps": steps},
        "parallel": {"activation_checkpointing": False},
        "checkpoint": {"interval": 0, "export_dtype": "float32"},
        "output_dir": str(output_dir),
    })


def short_document_rows(dataset: PackedDataset, row_tokens: int, max_rows: int) -> list[dict]:
    """Documents of ≤ row_tokens tokens from the packed rows, re-packed first-fit into rows of row_tokens."""
    rows: list[dict] = []
    current = _empty_row()
    for index in range(len(dataset)):
        row = dataset.read_row(index)
        starts = np.concatenate([[0], np.cumsum(row["seq_lengths"])])
        for start, end in zip(starts[:-1].tolist(), starts[1:].tolist(), strict=True):
            length = end - start
            if length > row_tokens or length < 2:
                continue
            if sum(current["seq_lengths"]) + length > row_tokens:
                rows.append(_finish(current))
                current = _empty_row()
                if len(rows) == max_rows:
                    return rows
            current["input_ids"] += row["input_ids"][start:end].tolist()
            current["labels"] += row["labels"][start:end].tolist()
            current["seq_lengths"].append(length)
            current["position_ids"] += list(range(length))
    if current["seq_lengths"]:
        rows.append(_finish(current))
    return rows


def _empty_row() -> dict:
    return {"input_ids": [], "labels": [], "seq_lengths": [], "position_ids": []}


def _finish(row: dict) -> dict:
    count = len(row["seq_lengths"])
    return {**row, "sample_ids": [f"demo-{i}" for i in range(count)], "domains": ["demo"] * count,
            "num_tokens": len(row["input_ids"]), "num_supervised": sum(t != -100 for t in row["labels"])}


def run_demo_training(packed_dir: Path | None, output_dir: Path, steps: int = 16,
                      row_tokens: int = 1024) -> TrainResult:
    """Train briefly and print whether the loss went down; `packed_dir` None uses synthetic rows."""
    with tempfile.TemporaryDirectory() as tmp:
        if packed_dir is None:
            rows = synthetic_rows(4 * steps, row_tokens, (16, row_tokens // 4), vocab_size=512, seed=0)
        else:
            rows = short_document_rows(PackedDataset(packed_dir), row_tokens, max_rows=4 * steps)
            if len(rows) < 4:
                raise ValueError(f"{packed_dir}: fewer than 4 rows of documents <= {row_tokens} tokens for the demo")
        vocab_size = max(max(row["input_ids"]) for row in rows) + 1
        demo_rows = write_packed_dir(Path(tmp), rows)
        result = train(demo_config(demo_rows, output_dir, vocab_size, steps))
    first, last = result.losses[1], result.losses[max(result.losses)]
    print(f"demo training: loss {first:.3f} -> {last:.3f} over {len(result.losses)} steps "
          f"({'went down' if last < first else 'did NOT go down'}); HF export in {result.export_dir}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("packed_dir", nargs="?", type=Path, default=None, help="packed rows (a build folder)")
    parser.add_argument("--out", type=Path, default=Path("runs/demo/train"))
    parser.add_argument("--steps", type=int, default=16)
    args = parser.parse_args()
    run_demo_training(args.packed_dir, args.out, steps=args.steps)


if __name__ == "__main__":
    main()
