"""End-to-end training: HF export round-trip, exact resume after a kill, and 2-rank torchrun ≡ 1 process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp
import yaml
from safetensors.torch import load_file
from tokenizers import Tokenizer, models
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedTokenizerFast

from trainer.config import ModelConfig, TrainConfig
from trainer.model import build_causal_lm
from trainer.synthetic import synthetic_rows, write_packed_dir
from trainer.train import train

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def _config(packed_dir: Path, output_dir: Path, **batch: int) -> dict:
    return {
        "model": {"tiny": {"arch": "qwen3", "hidden": 32, "layers": 2, "heads": 4, "kv_heads": 2,
                           "intermediate": 64, "vocab_size": 128}},
        "data": {"packed_dir": str(packed_dir)},
        "optim": {"lr": 3e-3, "min_lr": 3e-4, "warmup_steps": 2},
        "batch": {"global_rows": 4, "micro_rows": 1, "max_steps": 6, **batch},
        "checkpoint": {"interval": 3, "export_dtype": "float32"},
        "output_dir": str(output_dir),
    }


@pytest.fixture(scope="module")
def packed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = synthetic_rows(24, 96, (4, 48), vocab_size=128, seed=5)
    return write_packed_dir(tmp_path_factory.mktemp("packed"), rows, rows_per_shard=10, rows_per_group=4)


def _subprocess_env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(PROJECT_ROOT)}


def _logged_losses(output_dir: Path) -> dict[int, float]:
    lines = (output_dir / "metrics.jsonl").read_text().splitlines()
    return {record["step"]: record["loss"] for record in map(json.loads, lines)}


def test_export_loads_with_transformers_and_reproduces_trained_logits(packed_dir: Path, tmp_path: Path) -> None:
    vocabulary = {"<pad>": 0, "<unk>": 1, **{f"t{i}": i for i in range(2, 128)}}
    PreTrainedTokenizerFast(tokenizer_object=Tokenizer(models.WordLevel(vocabulary, unk_token="<unk>")),
                            pad_token="<pad>").save_pretrained(tmp_path / "tokenizer")
    raw_config = _config(packed_dir, tmp_path / "run", max_steps=3)
    raw_config["model"]["tokenizer"] = str(tmp_path / "tokenizer")
    config = TrainConfig.from_dict(raw_config)
    result = train(config)
    assert result.export_dir == tmp_path / "run" / "export"
    assert len(AutoTokenizer.from_pretrained(result.export_dir)) == 128

    # The trained weights, read back from the final DCP checkpoint into a plain (unsharded) model.
    trained = build_causal_lm(config.model, seed=123)
    state = {"model": {f"causal_lm.{k}": v for k, v in trained.state_dict().items()}}
    dcp.load(state, checkpoint_id=tmp_path / "run" / "checkpoints" / "step-00000003")
    trained.load_state_dict({k.removeprefix("causal_lm."): v for k, v in state["model"].items()})
    initial = build_causal_lm(config.model, seed=config.seed)

    exported = AutoModelForCausalLM.from_pretrained(result.export_dir)
    input_ids = torch.randint(0, 128, (2, 40), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        trained_logits = trained(input_ids=input_ids).logits
        torch.testing.assert_close(exported(input_ids=input_ids).logits, trained_logits, rtol=1e-5, atol=1e-5)
        assert not torch.allclose(initial(input_ids=input_ids).logits, trained_logits, atol=1e-3)
        # the export is also a starting point: loaded by path, with per-document attention, unpacked batch rows
        reloaded = build_causal_lm(ModelConfig(name_or_path=str(result.export_dir)), seed=0)
        assert reloaded.config._attn_implementation == "cascade_docs"
        torch.testing.assert_close(reloaded(input_ids=input_ids).logits, trained_logits, rtol=1e-5, atol=1e-5)


def test_resume_after_kill_continues_the_same_run(packed_dir: Path, tmp_path: Path) -> None:
    straight = train(TrainConfig.from_dict(_config(packed_dir, tmp_path / "straight")))

    killed_dir = tmp_path / "killed"
    child = (
        "import json, os, signal, sys\n"
        "from trainer.config import TrainConfig\n"
        "from trainer.train import train\n"
        "def kill_after_third(step):\n"
        "    if step == 3:\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "train(TrainConfig.from_dict(json.loads(sys.argv[1])), on_step_end=kill_after_third)\n"
    )
    process = subprocess.run([sys.executable, "-c", child, json.dumps(_config(packed_dir, killed_dir))],
                             env=_subprocess_env(), capture_output=True, text=True, timeout=300)
    assert process.returncode == -9, process.stderr[-2000:]
    assert not (killed_dir / "export").exists()
    with pytest.raises(ValueError, match="--resume"):
        train(TrainConfig.from_dict(_config(packed_dir, killed_dir)))

    resumed = train(TrainConfig.from_dict(_config(packed_dir, killed_dir)), resume=True)
    assert sorted(resumed.losses) == [4, 5, 6]
    assert _logged_losses(killed_dir) == straight.losses  # steps 1-3 before the kill, 4-6 after the resume
    straight_weights = load_file(straight.export_dir / "model.safetensors")
    resumed_weights = load_file(resumed.export_dir / "model.safetensors")
    assert straight_weights.keys() == resumed_weights.keys()
    for name, tensor in straight_weights.items():
        assert torch.equal(tensor, resumed_weights[name]), name


def test_failing_step_leaves_no_prefetch_thread_and_no_process_group(packed_dir: Path, tmp_path: Path) -> None:
    """The next step's rows are being read in the background when a step fails; both must be gone on return."""
    class StepFailed(Exception):
        pass

    def fail_after_first(step: int) -> None:
        raise StepFailed(step)

    with pytest.raises(StepFailed):
        train(TrainConfig.from_dict(_config(packed_dir, tmp_path / "run")), on_step_end=fail_after_first)
    assert not [t.name for t in threading.enumerate() if t.name.startswith("ThreadPoolExecutor")]
    assert not dist.is_initialized()


def test_trainer_entry_point_exit_status_is_the_runs(tmp_path: Path) -> None:
    """`python -m trainer.train` (what torchrun runs) ends without interpreter finalisation; its status still says
    what happened: 2 and one `error:` line for a user mistake."""
    process = subprocess.run([sys.executable, "-m", "trainer.train", str(tmp_path / "missing.yaml")],
                             env=_subprocess_env(), capture_output=True, text=True, timeout=120, cwd=PROJECT_ROOT)
    assert process.returncode == 2, process.stderr[-2000:]
    assert process.stderr.strip().splitlines() == [f"error: {tmp_path / 'missing.yaml'}: no such config or recipe file"]


@pytest.mark.slow
def test_two_rank_torchrun_equals_one_process(packed_dir: Path, tmp_path: Path) -> None:
    """Rank 1 builds the model on the meta device and receives rank 0's weights; the rows are split by Σ len²."""
    raw_config = _config(packed_dir, tmp_path / "single", max_steps=3)
    raw_config["model"]["tiny"]["tie_embeddings"] = True  # shared embedding/head weight through sharding and init
    single = train(TrainConfig.from_dict(raw_config))

    config_path = tmp_path / "train.yaml"
    config_path.write_text(yaml.safe_dump({**raw_config, "output_dir": str(tmp_path / "unused")}))
    two_rank_dir = tmp_path / "two_ranks"
    process = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "cli.py"), "train", str(config_path), "--nproc-per-node", "2",
         "--out", str(two_rank_dir)],
        env=_subprocess_env(), capture_output=True, text=True, timeout=300, cwd=PROJECT_ROOT,
    )
    assert process.returncode == 0, process.stdout[-2000:] + process.stderr[-3000:]
    assert "world size 2" in process.stdout

    two_rank_losses = _logged_losses(two_rank_dir)
    assert sorted(two_rank_losses) == [1, 2, 3]
    for step, loss in single.losses.items():
        assert two_rank_losses[step] == pytest.approx(loss, rel=1e-5), step
    single_weights = load_file(single.export_dir / "model.safetensors")
    two_rank_weights = load_file(two_rank_dir / "export" / "model.safetensors")
    for name, tensor in single_weights.items():
        torch.testing.assert_close(two_rank_weights[name], tensor, rtol=1e-4, atol=1e-5, msg=name)
