"""The bundled FSDP2 SFT trainer: packed rows → per-document attention → chunked loss → checkpoints → HF export.

One concern per module: config (typed settings), model (HF causal LM + packed wrapper), attention (per-document
kernels), loss (chunked LM head + CE), parallel (process group, FSDP2), data (packed-row loader), checkpoint (DCP),
export (HF safetensors), metrics (JSONL, console, MFU), train (the loop), launch/commands (`cascade train`),
demo (the `make demo` run), synthetic (packed rows for tests and benches); hybrid, mamba_segments and moe
make Nemotron-H (Mamba-2 + MoE) models safe to train on packed rows.
"""
