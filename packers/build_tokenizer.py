"""Build the embedded default tokenizer (packers/assets/tokenizer/) — run once, commit the result.

A small byte-level BPE trained with the `tokenizers` library on the Python standard library's own sources and
docs (code plus plenty of English prose in docstrings and pydoc topics), so it works offline, needs no download
and is reproducible from this script: `python -m packers.build_tokenizer`. It carries the Nemotron-3-Nano chat
template and its special tokens as single tokens; eos and pad are `<|im_end|>` (DESIGN §3).
"""

from __future__ import annotations

import argparse
import sysconfig
from collections.abc import Iterator
from pathlib import Path

from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers

from packers.template import NEMOTRON_TEMPLATE_PATH, NEMOTRON_TRAINING_TEMPLATE_PATH

ASSET_DIR = Path(__file__).parent / "assets" / "tokenizer"
CONTROL_TOKENS = ("<|im_start|>", "<|im_end|>")
TEMPLATE_TOKENS = (
    "<think>", "</think>", "<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>", "<tools>", "</tools>",
)
VOCAB_SIZE = 12288
CORPUS_BYTES = 6_000_000
MODEL_MAX_LENGTH = 262_144


def corpus_files() -> list[Path]:
    """Sorted stdlib sources (deterministic order), topics docs first for English prose."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = [stdlib / "pydoc_data" / "topics.py"]
    files += sorted(p for p in stdlib.glob("*.py") if p.is_file())
    return [f for f in files if f.is_file()]


def corpus_lines(max_bytes: int = CORPUS_BYTES) -> Iterator[str]:
    # The template's own scaffolding, repeated so its words (assistant, tool_response, parameter=) get merges.
    yield NEMOTRON_TEMPLATE_PATH.read_text() * 20
    total = 0
    for path in corpus_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        yield text
        total += len(text)
        if total >= max_bytes:
            return


def train(vocab_size: int = VOCAB_SIZE) -> Tokenizer:
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=[],
    )
    tokenizer.train_from_iterator(corpus_lines(), trainer=trainer)
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in CONTROL_TOKENS])
    tokenizer.add_tokens([AddedToken(t, special=False, normalized=False) for t in TEMPLATE_TOKENS])
    return tokenizer


def build(out_dir: Path = ASSET_DIR, vocab_size: int = VOCAB_SIZE) -> Path:
    """Train and save as a transformers tokenizer directory loadable offline with from_pretrained."""
    from transformers import PreTrainedTokenizerFast

    hf_tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=train(vocab_size),
        eos_token="<|im_end|>",
        pad_token="<|im_end|>",
        model_max_length=MODEL_MAX_LENGTH,
        clean_up_tokenization_spaces=False,
    )
    hf_tokenizer.chat_template = NEMOTRON_TEMPLATE_PATH.read_text()
    out_dir.mkdir(parents=True, exist_ok=True)
    hf_tokenizer.save_pretrained(str(out_dir))
    # The training variant (with {% generation %} marks) travels beside it for mask checks through transformers.
    (out_dir / "chat_template_training.jinja").write_text(NEMOTRON_TRAINING_TEMPLATE_PATH.read_text())
    return out_dir


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ASSET_DIR)
    parser.add_argument("--vocab-size", type=int, default=VOCAB_SIZE)
    args = parser.parse_args()
    print(build(args.out, args.vocab_size))
