"""Text-level checks on the rendered view: datatrove's Gopher repetition filter and length bounds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from datatrove.data import Document
from datatrove.pipeline.filters import GopherRepetitionFilter

from curate.documents import PlainWordTokenizer
from curate.filters.base import Failure, SampleCheck
from curate.schema import Sample


@dataclass
class RepetitionSettings:
    # Looser than Gopher's web-text defaults (0.3/0.3/0.2/0.2/0.2/0.1): conversations legitimately repeat tool
    # arguments and quoted lines; these catch looping generations without flagging ordinary multi-turn chats.
    dup_line_frac: float | None = 0.5
    dup_para_frac: float | None = 0.5
    dup_line_char_frac: float | None = 0.4
    dup_para_char_frac: float | None = 0.4
    top_2_gram_frac: float = 0.25
    dup_10_gram_frac: float = 0.3


class RepetitionCheck(SampleCheck):
    """Degenerate, looping generations (the usual failure of distilled long traces)."""

    key = "repetition"
    name = "👯 repetition"
    Settings = RepetitionSettings

    def __init__(self, settings_by_domain, stage: str = "filter"):
        super().__init__(settings_by_domain, stage)
        self._filters: dict[int, GopherRepetitionFilter] = {}

    def _filter_for(self, s: RepetitionSettings) -> GopherRepetitionFilter:
        if id(s) not in self._filters:
            self._filters[id(s)] = GopherRepetitionFilter(
                dup_line_frac=s.dup_line_frac, dup_para_frac=s.dup_para_frac,
                dup_line_char_frac=s.dup_line_char_frac, dup_para_char_frac=s.dup_para_char_frac,
                top_n_grams=((2, s.top_2_gram_frac),), dup_n_grams=((10, s.dup_10_gram_frac),),
                language=PlainWordTokenizer(),
            )
        return self._filters[id(s)]

    def check(self, sample: Sample, doc: Document, settings: RepetitionSettings) -> Failure | None:
        result = self._filter_for(settings).filter(doc)
        if isinstance(result, tuple) and not result[0]:
            return f"repetition_{result[1]}", f"datatrove GopherRepetitionFilter: {result[1]}"
        return None if result else ("repetition", "datatrove GopherRepetitionFilter")


@dataclass
class LengthSettings:
    min_chars: int = 1
    max_chars: int | None = None
    max_tokens: int | None = None  # needs a token counter (the packer's template + tokenizer)


class LengthCheck(SampleCheck):
    """Character bounds on the rendered view now; token bounds once a counter is passed in."""

    key = "length"
    name = "📏 length"
    Settings = LengthSettings

    def __init__(self, settings_by_domain, stage: str = "filter", count_tokens: Callable[[Sample], int] | None = None):
        super().__init__(settings_by_domain, stage)
        needs_tokens = sorted(d for d, s in self.settings_by_domain.items() if s is not None and s.max_tokens)
        if needs_tokens and count_tokens is None:
            raise ValueError(f"filters.{needs_tokens[0]}.length.max_tokens needs a token counter; none is available")
        self.count_tokens = count_tokens

    def check(self, sample: Sample, doc: Document, settings: LengthSettings) -> Failure | None:
        n = len(doc.text)
        if n < settings.min_chars:
            return "too_short", f"{n} chars < {settings.min_chars}"
        if settings.max_chars is not None and n > settings.max_chars:
            return "too_long", f"{n} chars > {settings.max_chars}"
        if settings.max_tokens is not None and self.count_tokens is not None:
            tokens = self.count_tokens(sample)
            if tokens > settings.max_tokens:
                return "too_many_tokens", f"{tokens} tokens > {settings.max_tokens}"
        return None
