#!/usr/bin/env bash
# One prepared run for a lent H200 (the whole device budget is 15 minutes, start included; this takes ~4-6).
#
#   bash bench/gpu_sft.sh            (on the device machine, from the repository root; writes to $OUT or runs/gpu_sft)
#
# 1. Correctness of the GPU attention path: varlen (flash-attn or torch.nn.attention.varlen) against causal SDPA run
#    per document, bf16, GQA, forward and gradients.
# 2. The real trainer (`python -m trainer.train`, FSDP2 in a one-GPU world, bf16 params / fp32 reduce, activation
#    checkpointing, chunked loss) on a Qwen3-0.6B-shaped model built from its config (no hub): 28 layers, hidden
#    1024, 16 heads / 8 KV heads of 128, MLP 3072, vocab 151,936 (0.6B parameters), on synthetic packed rows of
#    64K tokens (4 rows a step) and of 256K tokens (1 row a step), documents of 256-32K tokens: 256K tokens a step.
# Prints per case tokens/s, peak GPU memory and MFU (model FLOPs from the real document lengths, Σ len², against the
# H200's 989 TFLOP/s dense bf16), the mean over steps 3-6; writes gpu_sft_summary.json and the metrics to $OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
RESULTS=${OUT:-runs/gpu_sft}
WORK=$(mktemp -d /tmp/gpu_sft.XXXXXX)
mkdir -p "$RESULTS"
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
$PY -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__)"

echo "== 1. varlen attention == per-document SDPA (bf16, GQA) =="
$PY - <<'EOF'
import torch
import torch.nn.functional as F
from trainer.attention import document_attention_forward

torch.manual_seed(0)
lengths = [1, 700, 4096, 33, 9000]
cu = torch.tensor([0] + torch.tensor(lengths).cumsum(0).tolist(), dtype=torch.int32, device="cuda")
L = sum(lengths)
q = torch.randn(1, 16, L, 128, device="cuda", dtype=torch.bfloat16, requires_grad=True)
k = torch.randn(1, 8, L, 128, device="cuda", dtype=torch.bfloat16, requires_grad=True)
v = torch.randn(1, 8, L, 128, device="cuda", dtype=torch.bfloat16, requires_grad=True)
out, _ = document_attention_forward(None, q, k, v, None, scaling=128 ** -0.5, cu_seq_lens_q=cu, max_length_q=max(lengths))
out.float().square().sum().backward()
grads = [t.grad.clone() for t in (q, k, v)]
for t in (q, k, v):
    t.grad = None
refs, start = [], 0
for n in lengths:
    refs.append(F.scaled_dot_product_attention(q[:, :, start:start + n], k[:, :, start:start + n],
                v[:, :, start:start + n], is_causal=True, enable_gqa=True, scale=128 ** -0.5))
    start += n
ref = torch.cat(refs, 2).transpose(1, 2)
ref.float().square().sum().backward()
errors = [(out.float() - ref.float()).abs().max().item()]
errors += [(g.float() - t.grad.float()).abs().max().item() / t.grad.float().abs().max().item() for g, t in zip(grads, (q, k, v))]
print("max |out diff| %.3e, relative grad diff q/k/v %.3e %.3e %.3e" % tuple(errors))
assert errors[0] < 2e-2 and max(errors[1:]) < 2e-2, "varlen attention disagrees with per-document SDPA"
EOF

echo "== 2. trainer throughput =="
$PY - "$WORK" "$RESULTS" <<'EOF'
import json, statistics, subprocess, sys, time
from pathlib import Path
import yaml
from trainer.synthetic import synthetic_rows, write_packed_dir

work, results = Path(sys.argv[1]), Path(sys.argv[2])
model = {"tiny": {"arch": "qwen3", "hidden": 1024, "layers": 28, "heads": 16, "kv_heads": 8, "head_dim": 128,
                  "intermediate": 3072, "vocab_size": 151936, "tie_embeddings": True}}
cases = [("64K rows x4", 65536, 4), ("256K rows x1", 262144, 1)]
summary = []
for name, row_tokens, global_rows in cases:
    tag = f"{row_tokens // 1024}k"
    rows = synthetic_rows(global_rows * 6, row_tokens, (256, 32768), vocab_size=151936, seed=1)
    packed = write_packed_dir(work / f"data{tag}", rows, rows_per_group=1)
    config = {"model": model, "data": {"packed_dir": str(packed)},
              "optim": {"lr": 5e-5, "min_lr": 5e-6, "warmup_steps": 2},
              "batch": {"global_rows": global_rows, "micro_rows": 1, "max_steps": 6},
              "parallel": {"activation_checkpointing": True, "mixed_precision": "bf16"},
              "checkpoint": {"interval": 0, "export": False}, "output_dir": str(work / f"run{tag}")}
    config_path = work / f"train{tag}.yaml"
    config_path.write_text(yaml.safe_dump(config))
    start = time.time()
    subprocess.run([sys.executable, "-m", "trainer.train", str(config_path)], check=True, timeout=420)
    records = [json.loads(line) for line in (work / f"run{tag}" / "metrics.jsonl").read_text().splitlines()]
    timed = records[2:]
    summary.append({
        "case": name, "tokens_per_step": records[-1]["tokens"], "wall_s": round(time.time() - start, 1),
        "tokens_per_s": round(statistics.mean(r["tokens_per_second"] for r in timed)),
        "step_s": round(statistics.mean(r["step_seconds"] for r in timed), 3),
        "tflops_per_gpu": round(statistics.mean(r["tflops_per_gpu"] for r in timed), 1),
        "mfu": round(statistics.mean(r["mfu"] for r in timed if r["mfu"] is not None), 4)
        if any(r["mfu"] is not None for r in timed) else None,
        "peak_memory_gib": round(max(r["peak_memory_gib"] or 0.0 for r in records), 1),
        "losses": [round(r["loss"], 4) for r in records],
    })
    (results / f"metrics_{tag}.jsonl").write_text((work / f"run{tag}" / "metrics.jsonl").read_text())
(results / "gpu_sft_summary.json").write_text(json.dumps(summary, indent=2))
print(f"{'case':<14}{'tokens/s':>12}{'step s':>9}{'TFLOP/s':>9}{'MFU':>8}{'peak GiB':>10}")
for s in summary:
    mfu = f"{s['mfu']:.1%}" if s["mfu"] is not None else "n/a"
    print(f"{s['case']:<14}{s['tokens_per_s']:>12,}{s['step_s']:>9}{s['tflops_per_gpu']:>9}{mfu:>8}"
          f"{s['peak_memory_gib']:>10}")
EOF
rm -rf "$WORK"
