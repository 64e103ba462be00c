"""Assistant-only loss masks: trained character spans → token masks, and per-turn expansion of samples.

`token_mask` reproduces transformers' `return_assistant_tokens_mask` exactly: a token is trained when its character
offsets overlap a `{% generation %}` span. It looks up only the tokens at span edges (so the cost grows with the
number of turns, not tokens) and falls back to transformers' full offsets scan where the edges are unusual.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from curate.schema import Message, Sample

TRAIN_FROM_KEY = "train_from_message"


def _scan_mask(offsets: list[tuple[int, int]], spans: tuple[tuple[int, int], ...]) -> np.ndarray:
    """transformers' own single pass: every token overlapping a span is trained."""
    mask = np.zeros(len(offsets), dtype=np.int8)
    span_idx = 0
    for token_idx, (start, end) in enumerate(offsets):
        while span_idx < len(spans) and start >= spans[span_idx][1]:
            span_idx += 1
        if span_idx == len(spans):
            break
        if end > spans[span_idx][0]:
            mask[token_idx] = 1
    return mask


def token_mask(encoding: Any, spans: tuple[tuple[int, int], ...]) -> np.ndarray:
    """int8 mask over `encoding`'s tokens (a tokenizers.Encoding), 1 where a token overlaps a trained span."""
    n_tokens = len(encoding)
    mask = np.zeros(n_tokens, dtype=np.int8)
    for start, end in spans:
        first = encoding.char_to_token(start) if end > start else None
        last = encoding.char_to_token(end - 1) if end > start else None
        if first is None or last is None:
            return _scan_mask(encoding.offsets, spans)
        # Several tokens can share one character (a multi-byte char split into byte tokens): widen to all of them.
        while first > 0 and encoding.token_to_chars(first - 1)[1] > start:
            first -= 1
        while last + 1 < n_tokens and encoding.token_to_chars(last + 1)[0] < end:
            last += 1
        mask[first:last + 1] = 1
    return mask


def _carries_reasoning(msg: Message) -> bool:
    return bool((msg.reasoning_content or "").strip()) or "</think>" in msg.content


def needs_expansion(sample: Sample) -> bool:
    """True when history truncation would drop reasoning: an assistant turn with reasoning before the last user."""
    last_user = max((i for i, m in enumerate(sample.messages) if m.role == "user"), default=-1)
    return any(m.role == "assistant" and _carries_reasoning(m) for m in sample.messages[:last_user])


def expand_turns(sample: Sample) -> list[Sample]:
    """One sample per user-delimited segment, so every assistant turn is trained once with its reasoning intact.

    Segment k is the conversation up to (not including) the next user message; its meta carries
    `train_from_message` so only the segment's own assistant turns are trained (earlier turns are context, rendered
    with their reasoning truncated exactly as the template does). Samples that lose nothing pass through unchanged.
    """
    if not needs_expansion(sample):
        return [sample]
    users = [i for i, m in enumerate(sample.messages) if m.role == "user"]
    bounds = sorted({0, *users}) + [len(sample.messages)]
    out = []
    for k in range(len(bounds) - 1):
        start, stop = bounds[k], bounds[k + 1]
        if not any(m.role == "assistant" for m in sample.messages[start:stop]):
            continue
        meta = {**sample.meta, TRAIN_FROM_KEY: start}
        out.append(replace(sample, id=f"{sample.id}-t{len(out)}", messages=sample.messages[:stop], meta=meta))
    return out


def trained_spans(sample: Sample, spans: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    """The spans of the assistant turns at or after the sample's `train_from_message` (all when absent)."""
    train_from = sample.meta.get(TRAIN_FROM_KEY)
    if train_from is None:
        return spans
    assistant_idx = [i for i, m in enumerate(sample.messages) if m.role == "assistant"]
    if len(assistant_idx) != len(spans):
        raise ValueError(f"sample {sample.id}: the template marked {len(spans)} trained spans for "
                         f"{len(assistant_idx)} assistant turns, so turns cannot be expanded with it")
    return tuple(span for i, span in zip(assistant_idx, spans, strict=True) if i >= train_from)
