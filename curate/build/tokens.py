"""The recipe's tokenizer in a build: the filter's template token count and the tokenize + pack stage."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from curate.recipe import Recipe

if TYPE_CHECKING:
    from curate.build.stages import Progress


class TemplateTokenCounter:
    """Tokens of a sample after the chat template, with the recipe's tokenizer (the `length.max_tokens` check).

    Picklable: the tokenizer loads lazily inside whichever worker process runs the filter.
    """

    def __init__(self, tokenizer: str | None, thinking: bool | None):
        self.tokenizer, self.thinking = tokenizer, thinking
        self._encoder: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {"tokenizer": self.tokenizer, "thinking": self.thinking, "_encoder": None}

    def __call__(self, sample: Any) -> int:
        if self._encoder is None:
            from packers.tokenize import SampleEncoder
            from packers.tokenizer import load_tokenizer

            self._encoder = SampleEncoder(load_tokenizer(self.tokenizer), self.thinking)
        return len(self._encoder.encode([sample]).input_ids[0])


def recipe_tokenizer(recipe: Recipe) -> str | None:
    """The tokenizer the mix is tokenized with: `tokenizer.name_or_path`, else the model it will train
    (`train.model.tokenizer`, then `train.model.name_or_path`), else None (the embedded one), so rows of a recipe
    that names only its model are never tokenized for another vocabulary."""
    model = (recipe.train or {}).get("model")
    model = model if isinstance(model, dict) else {}
    return recipe.tokenizer.get("name_or_path") or model.get("tokenizer") or model.get("name_or_path")


def tokenize_and_pack(recipe: Recipe, mix_dir: Path, out: Path, progress: Progress) -> Path:
    """Render + tokenize the mix (packers.tokenize) and pack it into `OUT/packed/` (packers.pack) when the recipe
    has a `pack:` section; otherwise the mix folder is the build's output. Skipped when already done."""
    if recipe.pack is None:
        return mix_dir
    from packers.pack import pack_tokens
    from packers.tokenize import tokenize_samples

    tokens_dir, done = out / "tokenize", out / "tokenize" / ".done"
    settings = dict(recipe.tokenizer)
    settings.pop("template", None)  # the template follows the tokenizer (packers.template); kept for readers
    if not done.is_file():
        progress("tokenize", "running")
        settings.pop("name_or_path", None)
        stats = tokenize_samples(mix_dir / "samples", tokens_dir, tokenizer=recipe_tokenizer(recipe), **settings)
        done.write_text(f"{stats['documents']}\n")
    progress("tokenize", "done")
    if not (out / "packed" / ".done").is_file():
        progress("pack", "running")
        pack_tokens(tokens_dir, out, seed=recipe.seed, **recipe.pack)
        (out / "packed" / ".done").write_text("packed\n")
    progress("pack", "done")
    return out / "packed"
