"""Training config validation, the LR schedule, and the packed-row loader's determinism and rank split."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from trainer.config import BatchConfig, ModelConfig, OptimConfig, TinyModelSpec, TrainConfig
from trainer.data import PackedDataset, PackedRowLoader, balanced_assignment, make_micro_batch
from trainer.launch import load_train_config
from trainer.metrics import FlopModel
from trainer.model import build_causal_lm
from trainer.synthetic import synthetic_rows, write_packed_dir

MINIMAL = {"model": {"tiny": {"arch": "qwen3"}}, "data": {"packed_dir": "runs/x"}}


def test_defaults_mirror_cascade2_sft() -> None:
    config = TrainConfig.from_dict(MINIMAL)
    assert (config.batch.global_rows, config.optim.lr, config.optim.min_lr) == (64, 5e-5, 5e-6)
    assert (config.optim.beta2, config.optim.weight_decay, config.optim.warmup_steps) == (0.98, 0.1, 200)
    assert config.batch.epochs == 1.5


@pytest.mark.parametrize(("patch", "key"), [
    ({"optim": {"lrr": 1e-5}}, "train.optim.lrr"),
    ({"optim": {"lr": "fast"}}, "train.optim.lr"),
    ({"batch": {"global_rows": 2.5}}, "train.batch.global_rows"),
    ({"model": {"tiny": {"arch": "gpt2"}}}, "train.model.tiny.arch"),
    ({"model": {"tiny": {"arch": "llama"}, "name_or_path": "x"}}, "train.model"),
    ({"data": {}}, "train.data.packed_dir"),
    ({"parallel": {"mixed_precision": "fp8"}}, "train.parallel.mixed_precision"),
])
def test_bad_config_names_the_key(patch: dict, key: str) -> None:
    with pytest.raises(ValueError, match=key.replace(".", r"\.")):
        TrainConfig.from_dict({**MINIMAL, **patch})


def test_yaml_config_file_with_overrides(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    path.write_text("model: {tiny: {arch: llama}}\ndata: {packed_dir: p}\noptim: {lr: 5e-5}\n")  # 5e-5: a YAML str
    config = load_train_config(path, max_steps=7, output_dir="out")
    assert (config.optim.lr, config.batch.max_steps, config.output_dir) == (5e-5, 7, "out")
    path.write_text(yaml.safe_dump({**MINIMAL, "seed": "one"}))
    with pytest.raises(ValueError, match=r"train\.yaml: train\.seed"):
        load_train_config(path)


def test_schedule_warms_up_then_decays_to_the_floor() -> None:
    optim = OptimConfig(lr=1.0, min_lr=0.1, warmup_steps=4)
    lrs = [optim.lr_at(step, 20) for step in range(20)]
    assert lrs[:4] == [0.25, 0.5, 0.75, 1.0]
    assert all(a >= b for a, b in zip(lrs[3:], lrs[4:], strict=False))
    assert math.isclose(lrs[-1], 0.1)


def test_batch_split_must_divide() -> None:
    assert BatchConfig(global_rows=8, micro_rows=2).accumulation_steps(2) == 2
    with pytest.raises(ValueError, match="global_rows=6"):
        BatchConfig(global_rows=6, micro_rows=2).accumulation_steps(2)


def test_balanced_assignment_equal_counts_and_lpt_balance() -> None:
    costs = [100.0, 1.0, 1.0, 1.0, 90.0, 2.0, 3.0, 80.0]
    bins = balanced_assignment(costs, 2)
    assert sorted(i for b in bins for i in b) == list(range(8))
    assert [len(b) for b in bins] == [4, 4]
    best = min(max(sum(costs[i] for i in half), sum(costs) - sum(costs[i] for i in half))
               for half in itertools.combinations(range(8), 4))
    assert max(sum(costs[i] for i in b) for b in bins) == best  # optimal on this instance (brute force)
    contiguous = max(sum(costs[:4]), sum(costs[4:]))
    assert best < contiguous


def test_loader_is_deterministic_and_ranks_partition_each_global_batch(tmp_path: Path) -> None:
    dataset = PackedDataset(write_packed_dir(tmp_path, synthetic_rows(20, 64, (4, 40), 100), rows_per_shard=7))
    batch = BatchConfig(global_rows=4, micro_rows=1)
    loaders = [PackedRowLoader(dataset, batch, rank, 2, seed=3) for rank in range(2)]
    steps = loaders[0].steps_per_epoch
    assert steps == 5
    epoch_rows = []
    for step in range(steps):
        per_rank = [loader.rank_rows(step) for loader in loaders]
        assert sorted(per_rank[0] + per_rank[1]) == sorted(loaders[0].global_batch(step))
        epoch_rows += per_rank[0] + per_rank[1]
    assert sorted(epoch_rows) == list(range(20))  # one epoch visits every row once
    unbalanced = [PackedRowLoader(dataset, batch, rank, 2, seed=3, balance_attention=False) for rank in range(2)]
    assert unbalanced[0].rank_rows(2) + unbalanced[1].rank_rows(2) == loaders[0].global_batch(2)
    again = PackedRowLoader(dataset, batch, 1, 2, seed=3)
    assert again.rank_rows(7) == loaders[1].rank_rows(7)
    assert loaders[0].global_batch(steps) != loaders[0].global_batch(0)  # next epoch reshuffles
    with pytest.raises(ValueError, match="seed"):
        PackedRowLoader(dataset, batch, 0, 2, seed=4).check_resume(loaders[0].state_dict())


def test_micro_batch_restarts_positions_and_masks_document_starts() -> None:
    rows = [{"input_ids": [5, 6, 7, 8, 9], "labels": [5, 6, 7, 8, 9], "seq_lengths": [2, 3]},
            {"input_ids": [1, 2, 3], "labels": [-100, -100, 3], "seq_lengths": [3]}]
    micro_batch = make_micro_batch(rows)
    assert micro_batch.position_ids_1L.tolist() == [[0, 1, 0, 1, 2, 0, 1, 2]]
    assert micro_batch.cu_seqlens_N.tolist() == [0, 2, 5, 8]
    assert micro_batch.max_seqlen == 3 and micro_batch.attention_cost == 4 + 9 + 9
    # targets 6 (from 5 at 0), 8 and 9 (from 7, 8 at 2, 3), 3 (from 2 at 6); 7 and 1 start documents
    assert micro_batch.target_S.tolist() == [6, 8, 9, 3]
    assert micro_batch.predictor_index_S.tolist() == [0, 2, 3, 6]


def test_inconsistent_row_names_the_file(tmp_path: Path) -> None:
    rows = [{"input_ids": [1, 2, 3], "labels": [1, 2, 3], "seq_lengths": [2]}]
    (tmp_path / "packed").mkdir()
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "packed" / "bad.parquet")
    with pytest.raises(ValueError, match=r"bad\.parquet: row 0"):
        PackedDataset(tmp_path).read_row(0)
    with pytest.raises(ValueError, match="no packed shards"):
        PackedDataset(tmp_path / "empty")


def test_recipe_trains_on_its_current_build_and_refuses_a_stale_one(tmp_path: Path) -> None:
    recipe_path = tmp_path / "recipe.yaml"
    recipe_path.write_text("name: tiny\nseed: 0\nsources:\n  - {path: data.jsonl, domain: chat}\n"
                           "train:\n  model: {tiny: {arch: llama}}\n  batch: {global_rows: 2}\n")
    build_dir = tmp_path / "build"
    write_packed_dir(build_dir, synthetic_rows(4, 32, (4, 16), 64))
    recipe_sha256 = hashlib.sha256(recipe_path.read_bytes()).hexdigest()
    files = [{"path": "mix/samples/00000.parquet"}, {"path": "packed/part-00000.parquet"}]
    (build_dir / "manifest.json").write_text(json.dumps({"recipe_sha256": recipe_sha256, "files": files}))

    config = load_train_config(recipe_path, build=False, build_dir=str(build_dir))
    assert Path(config.data.packed_dir) == build_dir and config.output_dir == str(build_dir / "train")
    assert config.batch.global_rows == 2 and len(PackedDataset(config.data.packed_dir)) == 4

    recipe_path.write_text(recipe_path.read_text().replace("global_rows: 2", "global_rows: 4"))
    with pytest.raises(ValueError, match=r"stale .*cascade build"):
        load_train_config(recipe_path, build=False, build_dir=str(build_dir))


def test_flop_model_counts_body_attention_and_head_separately() -> None:
    spec = TinyModelSpec(arch="llama", hidden=32, layers=3, heads=4, kv_heads=2, intermediate=64, vocab_size=100)
    causal_lm = build_causal_lm(ModelConfig(tiny=spec), seed=0)
    flops = FlopModel.of(causal_lm)
    embeddings = 2 * 100 * 32  # input embeddings and the untied LM head
    assert flops.body_params == sum(p.numel() for p in causal_lm.parameters()) - embeddings
    assert (flops.attention_layers, flops.attention_width) == (3, 32)
    one_document = flops.step_flops(tokens=10, supervised_tokens=4, attention_cost=100.0)
    assert one_document == 6 * flops.body_params * 10 + 6 * 3 * 32 * 100 + 6 * 32 * 100 * 4
    # the same 10 tokens as two documents of 5: a quarter of the attention work less
    assert one_document - flops.step_flops(10, 4, 50.0) == 6 * 3 * 32 * 50


def test_cascade_train_reports_a_bad_key(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cli import app

    path = tmp_path / "train.yaml"
    path.write_text(yaml.safe_dump({**MINIMAL, "optim": {"learning_rate": 1e-5}}))
    result = CliRunner().invoke(app, ["train", str(path)])
    assert result.exit_code == 2
    assert "train.optim.learning_rate: unknown key" in result.output


def test_example_config_loads_and_shows_the_defaults() -> None:
    path = Path(__file__).resolve().parents[1] / "trainer" / "configs" / "example.yaml"
    config = load_train_config(path)
    defaults = TrainConfig.from_dict(MINIMAL)
    for section in ("optim", "batch", "parallel", "checkpoint"):
        assert getattr(config, section) == getattr(defaults, section), section
    assert config.data.balance_attention == defaults.data.balance_attention


def test_recipe_rebuilds_its_mix_when_the_source_data_changes(tmp_path: Path) -> None:
    def chats(n: int, start: int = 0) -> str:
        return "".join(json.dumps({"messages": [{"role": "user", "content": f"question number {i} " * 3},
                                                {"role": "assistant", "content": f"answer {i} " * 5}]}) + "\n"
                       for i in range(start, start + n))

    (tmp_path / "data.jsonl").write_text(chats(6))
    recipe_path = tmp_path / "recipe.yaml"
    recipe_path.write_text("name: tiny\nseed: 0\nsources:\n  - {path: data.jsonl, domain: chat}\n"
                           "pack: {seq_len: 256}\ntrain:\n  model: {tiny: {arch: llama}}\n")
    build_dir = tmp_path / "build"

    def documents() -> int:
        config = load_train_config(recipe_path, build=True, build_dir=str(build_dir))
        return sum(len(PackedDataset(config.data.packed_dir).read_row(i)["seq_lengths"])
                   for i in range(len(PackedDataset(config.data.packed_dir))))

    assert documents() == 6
    with (tmp_path / "data.jsonl").open("a") as f:
        f.write(chats(4, start=6))
    assert documents() == 10
