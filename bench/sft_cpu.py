"""SFT step time on CPU: our trainer against TRL's SFTTrainer (padding_free), same tiny model, same packed rows.

    .venv/bin/python bench/sft_cpu.py [--rows 16] [--row-tokens 2048] [--batch-rows 4] [--vocab 32768] [--steps 3]

Both sides get identical packed rows (input_ids, labels, seq_lengths), the same Qwen3-shaped model initialised from
the same seed in fp32, the same rows per optimizer step, AdamW, no activation checkpointing, one process. TRL
flattens the batch into one padding-free sequence (transformers derives per-document attention from the restarting
position ids) and computes full L × vocab logits; ours runs per-document attention and the chunked LM head on the
supervised positions only. Step 1 of each is warm-up and not timed. Prints mean step seconds and ours / TRL
(target ≤ 1.0).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trainer.config import TinyModelSpec, TrainConfig  # noqa: E402
from trainer.model import tiny_model_config  # noqa: E402
from trainer.synthetic import synthetic_rows, write_packed_dir  # noqa: E402
from trainer.train import train  # noqa: E402


def model_spec(vocab: int) -> dict:
    return {"arch": "qwen3", "hidden": 128, "layers": 2, "heads": 4, "kv_heads": 2, "intermediate": 256,
            "vocab_size": vocab}


def time_ours(packed_dir: Path, out_dir: Path, args: argparse.Namespace) -> tuple[list[float], list[float]]:
    config = TrainConfig.from_dict({
        "model": {"tiny": model_spec(args.vocab)}, "data": {"packed_dir": str(packed_dir)},
        "optim": {"lr": 1e-4, "min_lr": 1e-4, "warmup_steps": 0},
        "batch": {"global_rows": args.batch_rows, "micro_rows": args.batch_rows, "max_steps": args.steps},
        "parallel": {"activation_checkpointing": False},
        "checkpoint": {"interval": 0, "export": False}, "output_dir": str(out_dir), "log_every": 10**9,
    })
    train(config)
    records = [json.loads(line) for line in (out_dir / "metrics.jsonl").read_text().splitlines()]
    return [r["step_seconds"] for r in records[1:]], [r["loss"] for r in records]


def time_trl(rows: list[dict], out_dir: Path, args: argparse.Namespace) -> tuple[list[float], list[float]]:
    from datasets import Dataset
    from tokenizers import Tokenizer, models
    from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast, TrainerCallback
    from trl import SFTConfig, SFTTrainer

    class StepTimer(TrainerCallback):
        def __init__(self) -> None:
            self.seconds: list[float] = []
            self._start = 0.0

        def on_step_begin(self, *_args, **_kwargs) -> None:
            self._start = time.perf_counter()

        def on_step_end(self, *_args, **_kwargs) -> None:
            self.seconds.append(time.perf_counter() - self._start)

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(tiny_model_config(TinyModelSpec(**model_spec(args.vocab))),
                                             dtype=torch.float32, attn_implementation="sdpa")
    dataset = Dataset.from_list([{k: r[k] for k in ("input_ids", "labels", "seq_lengths")} for r in rows])
    sft_config = SFTConfig(
        output_dir=str(out_dir), per_device_train_batch_size=args.batch_rows, gradient_accumulation_steps=1,
        max_steps=args.steps, learning_rate=1e-4, lr_scheduler_type="constant", padding_free=True,
        dataset_kwargs={"skip_prepare_dataset": True}, max_length=None, logging_steps=1, save_strategy="no",
        report_to="none", use_cpu=True, dataloader_num_workers=0, gradient_checkpointing=False,
        adam_beta2=0.98, weight_decay=0.1, max_grad_norm=1.0, seed=0, disable_tqdm=True,
    )
    timer = StepTimer()
    # The rows are already tokenized and packed; TRL only needs a tokenizer object for its pad id.
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer(models.WordLevel({"<pad>": 0, "<unk>": 1}, unk_token="<unk>")), pad_token="<pad>")
    trainer = SFTTrainer(model=model, args=sft_config, train_dataset=dataset, processing_class=tokenizer,
                         callbacks=[timer])
    trainer.train()
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    return timer.seconds[1:], losses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=16)
    parser.add_argument("--row-tokens", type=int, default=2048)
    parser.add_argument("--batch-rows", type=int, default=4)
    parser.add_argument("--vocab", type=int, default=32768)
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()
    console = Console()

    with tempfile.TemporaryDirectory() as tmp:
        rows = synthetic_rows(args.rows, args.row_tokens, (64, args.row_tokens // 2), args.vocab, seed=0)
        packed_dir = write_packed_dir(Path(tmp) / "data", rows)
        tokens = sum(r["num_tokens"] for r in rows) / len(rows) * args.batch_rows
        console.print(f"{args.batch_rows} rows x ~{args.row_tokens} tokens per step (~{tokens:,.0f} tokens), "
                      f"vocab {args.vocab}, {args.steps} steps each (first not timed), torch threads "
                      f"{torch.get_num_threads()}")
        ours_seconds, ours_losses = time_ours(packed_dir, Path(tmp) / "ours", args)
        trl_seconds, trl_losses = time_trl(rows, Path(tmp) / "trl", args)

    table = Table(title="SFT step time, CPU")
    for column in ("trainer", "mean step s", "tokens/s", "first loss"):
        table.add_column(column)
    ours_mean, trl_mean = statistics.mean(ours_seconds), statistics.mean(trl_seconds)
    table.add_row("cascade (ours)", f"{ours_mean:.3f}", f"{tokens / ours_mean:,.0f}", f"{ours_losses[0]:.4f}")
    table.add_row("TRL SFTTrainer padding_free", f"{trl_mean:.3f}", f"{tokens / trl_mean:,.0f}",
                  f"{trl_losses[0]:.4f}")
    console.print(table)
    ratio = ours_mean / trl_mean
    console.print(f"step time ours / TRL = {ratio:.3f} (target <= 1.0: {'met' if ratio <= 1.0 else 'NOT met'})")


if __name__ == "__main__":
    main()
