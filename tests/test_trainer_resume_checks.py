"""Refusals that keep a run honest, and the loss normalisation they protect.

Resume refuses changed batch/schedule settings; the trainer refuses packed rows made with another tokenizer or with
ids beyond the model's vocabulary, and a tokenizer it could not save at export time, all before the first step;
gradient accumulation gives the loss and the weights of one big micro batch.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import torch
import yaml
from safetensors.torch import load_file

from curate.build import recipe_tokenizer
from curate.recipe import Recipe, load_recipe
from curate.sample_io import write_samples
from curate.schema import Message, Sample
from packers.pack import pack_tokens
from packers.tokenize import tokenize_samples, tokenizer_record
from packers.tokenizer import EMBEDDED_TOKENIZER_DIR, load_tokenizer
from trainer.config import TrainConfig
from trainer.data import PackedDataset, check_tokenizer_matches_model, make_micro_batch
from trainer.loss import IGNORE_INDEX
from trainer.model import PackedCausalLM, build_causal_lm
from trainer.synthetic import synthetic_document, synthetic_rows, write_packed_dir
from trainer.train import train

PROJECT_ROOT = Path(__file__).resolve().parents[1]
VOCAB = 128


def _config(packed_dir: Path, output_dir: Path, vocab_size: int = VOCAB, **batch: int) -> dict:
    return {
        "model": {"tiny": {"arch": "qwen3", "hidden": 32, "layers": 2, "heads": 4, "kv_heads": 2,
                           "intermediate": 64, "vocab_size": vocab_size}},
        "data": {"packed_dir": str(packed_dir)},
        "optim": {"lr": 3e-3, "min_lr": 3e-4, "warmup_steps": 1},
        "batch": {"global_rows": 4, "micro_rows": 1, "max_steps": 3, **batch},
        "checkpoint": {"interval": 3, "export": False},
        "output_dir": str(output_dir),
    }


# ---- resume ---------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(packed dir, output dir holding the step-3 checkpoint of a 3-step run)."""
    root = tmp_path_factory.mktemp("resume")
    packed_dir = write_packed_dir(root / "packed", synthetic_rows(16, 64, (4, 32), vocab_size=VOCAB, seed=3),
                                  rows_per_shard=8, rows_per_group=4)
    train(TrainConfig.from_dict(_config(packed_dir, root / "run")))
    return packed_dir, root / "run"


@pytest.mark.parametrize(("patch", "message"), [
    ({"batch": {"global_rows": 8}}, "global_rows was 4, now 8"),  # step → rows map changes: rows skipped
    ({"batch": {"micro_rows": 2}}, "micro_rows was 1, now 2"),
    ({"batch": {"max_steps": 5}}, "total_steps was 3, now 5"),  # cosine horizon moves
    ({"optim": {"lr": 1e-3}}, "optim.lr was 0.003, now 0.001"),
    ({"optim": {"warmup_steps": 2}}, "optim.warmup_steps was 1, now 2"),
])
def test_resume_refuses_changed_batch_or_schedule(finished_run: tuple[Path, Path], patch: dict, message: str) -> None:
    packed_dir, run_dir = finished_run
    raw = _config(packed_dir, run_dir)
    for section, values in patch.items():
        raw[section] = {**raw[section], **values}
    with pytest.raises(ValueError, match=f"cannot resume from .*step-00000003: .*{message}"):
        train(TrainConfig.from_dict(raw), resume=True)


def test_resume_with_the_same_settings_is_accepted(finished_run: tuple[Path, Path]) -> None:
    packed_dir, run_dir = finished_run
    state = json.loads((run_dir / "checkpoints" / "step-00000003" / "trainer_state.json").read_text())
    assert set(state) == {"step", "settings", "data"}  # nothing written that resume does not read
    result = train(TrainConfig.from_dict(_config(packed_dir, run_dir)), resume=True)
    assert result.final_step == 3 and result.losses == {}


# ---- tokenizer / vocabulary -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Samples → tokenize (embedded tokenizer) → pack: the manifest the trainer reads."""
    root = tmp_path_factory.mktemp("real_pack")
    rng = random.Random(0)
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
    samples = [Sample(id=f"s{i:02d}", domain="chat", source="generated", messages=[
        Message("user", f"question {i}: " + " ".join(rng.choices(words, k=8))),
        Message("assistant", " ".join(rng.choices(words, k=rng.randint(5, 60)))),
    ]) for i in range(16)]
    write_samples(root / "samples" / "part-0.parquet", samples)
    tokenize_samples(root / "samples", root / "tokens")
    pack_tokens(root / "tokens", root / "out", seq_len=256, rows_per_shard=4)
    return root


def test_tokenizer_is_recorded_in_tokenize_json_and_pack_manifest(real_pack: Path) -> None:
    expected = tokenizer_record(load_tokenizer())
    assert expected["name_or_path"] == "embedded" and expected["vocab_size"] == len(load_tokenizer())
    assert json.loads((real_pack / "tokens" / "tokenize.json").read_text())["tokenizer"] == expected
    manifest = json.loads((real_pack / "out" / "manifest.json").read_text())
    assert manifest["tokenizer"] == expected
    dataset = PackedDataset(real_pack / "out")
    scanned = max(int(dataset.read_row(i)["input_ids"].max()) for i in range(len(dataset)))
    assert manifest["totals"]["max_token_id"] == scanned == dataset.max_token_id()


def test_rows_beyond_the_model_vocabulary_are_refused_before_training(real_pack: Path, tmp_path: Path) -> None:
    raw = _config(real_pack / "out", tmp_path / "run", vocab_size=256, global_rows=1)
    with pytest.raises(ValueError, match=r"packed rows hold token id \d+ \(tokenized with 'embedded'\), but the "
                                         r"model's vocabulary has 256 entries"):
        train(TrainConfig.from_dict(raw))
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_rows_without_manifest_are_scanned_for_their_largest_id(tmp_path: Path) -> None:
    rows = synthetic_rows(4, 64, (4, 32), vocab_size=VOCAB, seed=1)
    packed_dir = write_packed_dir(tmp_path, rows)
    (tmp_path / "manifest.json").unlink()
    dataset = PackedDataset(packed_dir)
    largest = max(max(row["input_ids"]) for row in rows)
    assert dataset.max_token_id() == largest
    check_tokenizer_matches_model(dataset, largest + 1)
    with pytest.raises(ValueError, match=f"token id {largest}, but the model's vocabulary has {largest} entries"):
        check_tokenizer_matches_model(dataset, largest)


def test_a_different_model_tokenizer_is_refused_naming_both(real_pack: Path, tmp_path: Path) -> None:
    other = load_tokenizer()
    other.add_tokens(["<extra_token>"])  # same ids for every old token, yet not the tokenizer the rows were made with
    other.save_pretrained(tmp_path / "other_tokenizer")
    vocab = len(other) + 4
    raw = _config(real_pack / "out", tmp_path / "refused", vocab_size=vocab, global_rows=1, max_steps=1)
    raw["model"]["tokenizer"] = str(tmp_path / "other_tokenizer")
    with pytest.raises(ValueError, match=r"tokenized with 'embedded' .* but the model's tokenizer is "
                                         rf"'{tmp_path / 'other_tokenizer'}'"):
        train(TrainConfig.from_dict(raw))

    raw = _config(real_pack / "out", tmp_path / "accepted", vocab_size=vocab, global_rows=1, max_steps=1)
    raw["model"]["tokenizer"] = str(EMBEDDED_TOKENIZER_DIR)
    raw["checkpoint"] = {"interval": 0, "export": True, "export_dtype": "float32"}
    result = train(TrainConfig.from_dict(raw))  # compared by content: the path differs from the record's name
    exported = tokenizer_record(load_tokenizer(str(result.export_dir)))
    assert exported["sha256"] == tokenizer_record(load_tokenizer())["sha256"] != tokenizer_record(other)["sha256"]


def test_unloadable_export_tokenizer_fails_before_the_first_step(tmp_path: Path) -> None:
    """Loading it at export time would raise on rank 0 after the last collective, leaving the others hanging."""
    packed_dir = write_packed_dir(tmp_path / "packed", synthetic_rows(4, 64, (4, 32), vocab_size=VOCAB))
    raw = _config(packed_dir, tmp_path / "run", max_steps=1)
    raw["model"]["tokenizer"] = str(tmp_path / "no_such_tokenizer")
    with pytest.raises(ValueError, match="train.model: cannot load tokenizer .*no_such_tokenizer"):
        train(TrainConfig.from_dict(raw))
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_build_tokenizes_with_the_train_model_when_the_recipe_names_no_tokenizer(tmp_path: Path) -> None:
    raw = yaml.safe_load((PROJECT_ROOT / "recipes" / "cascade2_sft.yaml").read_text())
    raw["decontam"]["benchmarks"] = []
    path = tmp_path / "recipe.yaml"
    assert recipe_tokenizer(_recipe(raw, path)) == raw["tokenizer"]["name_or_path"]
    del raw["tokenizer"]["name_or_path"]
    assert recipe_tokenizer(_recipe(raw, path)) == raw["train"]["model"]["tokenizer"]
    del raw["train"]["model"]["tokenizer"]
    assert recipe_tokenizer(_recipe(raw, path)) == raw["train"]["model"]["name_or_path"]
    del raw["train"]
    assert recipe_tokenizer(_recipe(raw, path)) is None  # the embedded tokenizer


def _recipe(raw: dict, path: Path) -> Recipe:
    path.write_text(yaml.safe_dump(raw))
    return load_recipe(path)


# ---- loss normalisation ---------------------------------------------------------------------------------------------

def _row(documents: list[tuple[int, int]], seed: int) -> dict:
    """A packed row of (length, supervised tokens at its end) documents."""
    rng = random.Random(seed)
    row = {name: [] for name in ("input_ids", "labels", "seq_lengths", "position_ids", "sample_ids", "domains")}
    for index, (length, supervised) in enumerate(documents):
        input_ids, _ = synthetic_document(rng, length, VOCAB)
        row["input_ids"] += input_ids
        row["labels"] += [IGNORE_INDEX] * (length - supervised) + input_ids[length - supervised:]
        row["seq_lengths"].append(length)
        row["position_ids"] += list(range(length))
        row["sample_ids"].append(f"row{seed}-doc{index}")
        row["domains"].append("chat")
    row["num_tokens"] = len(row["input_ids"])
    row["num_supervised"] = sum(label != IGNORE_INDEX for label in row["labels"])
    return row


def test_step_loss_is_global_token_sum_over_global_count_for_any_accumulation(tmp_path: Path) -> None:
    """One global batch of 4 rows with 2 … 90 supervised tokens: 4 micro batches of 1 row (with and without deferred
    gradient sync) and 1 micro batch of 4 rows give the same losses and weights, Σ row loss sums / Σ counts.

    A mean-of-means bug (each micro batch normalised by its own count, then averaged) weights the 2-token row like the
    90-token row; its value is computed below and differs from the step loss by far more than the tolerance."""
    rows = [_row([(96, 90)], 0), _row([(40, 2), (40, 1)], 1), _row([(64, 30)], 2), _row([(30, 5), (60, 10)], 3)]
    packed_dir = write_packed_dir(tmp_path / "packed", rows, rows_per_shard=4, rows_per_group=2)
    def raw_config(name: str, **batch: int) -> dict:
        raw = _config(packed_dir, tmp_path / name, global_rows=4, max_steps=3, **batch)
        raw["model"]["tiny"]["extra"] = {"initializer_range": 0.5}  # per-token losses that differ between rows
        return raw

    runs = {}
    for name, micro_rows, defer in [("one_micro", 4, True), ("accum", 1, True), ("accum_sync_each", 1, False)]:
        raw = raw_config(name, micro_rows=micro_rows)
        raw["checkpoint"] = {"interval": 0, "export": True, "export_dtype": "float32"}
        raw["parallel"] = {"defer_grad_sync": defer}
        runs[name] = train(TrainConfig.from_dict(raw))

    config = TrainConfig.from_dict(raw_config("unused"))
    initial = PackedCausalLM(build_causal_lm(config.model, config.seed))
    with torch.no_grad():
        loss_sums = [float(initial(**make_micro_batch([row]).model_inputs(torch.device("cpu")))) for row in rows]
    counts = [row["num_supervised"] for row in rows]
    global_mean = sum(loss_sums) / sum(counts)
    mean_of_means = sum(s / n for s, n in zip(loss_sums, counts, strict=True)) / len(rows)

    tolerance = 1e-5  # relative; float32 sums in a different order
    assert abs(mean_of_means - global_mean) > 100 * tolerance * global_mean  # the bug would be visible
    for name, result in runs.items():
        assert result.losses[1] == pytest.approx(global_mean, rel=tolerance), name
        for step, loss in runs["one_micro"].losses.items():
            assert result.losses[step] == pytest.approx(loss, rel=tolerance), (name, step)
    reference = load_file(runs["one_micro"].export_dir / "model.safetensors")
    for name in ("accum", "accum_sync_each"):
        weights = load_file(runs[name].export_dir / "model.safetensors")
        for key, tensor in reference.items():
            # Adam divides by √v, so summation-order noise on near-zero gradient coordinates grows to ~1e-5 (of a
            # 3e-3 step); a wrongly weighted gradient moves weights by the order of the learning rate.
            torch.testing.assert_close(weights[key], tensor, rtol=1e-5, atol=5e-5, msg=f"{name}: {key}")
