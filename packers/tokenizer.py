"""Loading the tokenizer: the embedded offline default, or any HF tokenizer by local path or hub id."""

from __future__ import annotations

from pathlib import Path
from typing import Any

EMBEDDED_TOKENIZER_DIR = Path(__file__).parent / "assets" / "tokenizer"
EMBEDDED_NAME = "embedded"


def load_tokenizer(name_or_path: str | None = None) -> Any:
    """A fast (Rust-backed) tokenizer; None or "embedded" → the bundled Nemotron-template BPE (packers/assets).

    Anything else goes to `AutoTokenizer.from_pretrained` (a local directory or a hub id). Only fast tokenizers
    are accepted: batched encoding and character offsets (for loss masks) come from the Rust backend.
    """
    from transformers import AutoTokenizer

    source = str(EMBEDDED_TOKENIZER_DIR) if name_or_path in (None, EMBEDDED_NAME) else name_or_path
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
    except (OSError, ValueError) as err:
        raise ValueError(f"cannot load tokenizer {name_or_path!r}: {err}") from err
    if not getattr(tokenizer, "is_fast", False) or getattr(tokenizer, "backend_tokenizer", None) is None:
        raise ValueError(f"tokenizer {name_or_path!r} is not a fast (tokenizers-backed) tokenizer")
    return tokenizer


def backend(tokenizer: Any) -> Any:
    """A copy of the Rust `tokenizers.Tokenizer` behind a fast tokenizer, set up as transformers calls it.

    transformers encodes chat text without truncation or padding whatever tokenizer.json says; the copy leaves
    the caller's tokenizer untouched.
    """
    from tokenizers import Tokenizer

    rust = Tokenizer.from_str(tokenizer.backend_tokenizer.to_str())
    rust.no_truncation()
    rust.no_padding()
    rust.encode_special_tokens = tokenizer.backend_tokenizer.encode_special_tokens
    return rust


def tokenizer_name(tokenizer: Any) -> str:
    path = getattr(tokenizer, "name_or_path", "") or ""
    return EMBEDDED_NAME if Path(path).resolve() == EMBEDDED_TOKENIZER_DIR.resolve() else path
