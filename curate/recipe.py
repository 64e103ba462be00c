"""Recipes: one YAML file that says what to build — sources, filters, dedup, decontamination, the mix, the
tokenizer/packing settings and the trainer's section — validated into dataclasses before anything runs.

Errors name the key path (`mix.code_reasoning.weight: expected a number`). Relative paths resolve against the
recipe's folder, except source paths of a `demo_corpus: true` recipe, which resolve against the demo corpus that
`cascade build` (re)writes into `demo_corpus/` beside the recipe (so the demo recipe runs with no data on disk;
beside the recipe rather than in OUT so that builds into different folders read identical source paths and ids).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from curate.decontam import BenchmarkSpec, DecontamSettings
from curate.dedup import KEEP_POLICIES, DedupSettings
from curate.filters import DomainFilters, parse_filters
from curate.filters.base import settings_from_dict
from curate.schema import DOMAINS
from curate.typed_config import coerce

ExecutorKind = Literal["local", "slurm", "ray"]
# What the packer's entry points take (packers.tokenize.tokenize_samples, packers.pack.pack_tokens).
TOKENIZER_KEYS = ("name_or_path", "thinking", "expand_turns", "batch_size", "shard_rows", "template")
PACK_KEYS = ("seq_len", "oversize", "rows_per_shard")
TOP_KEYS = ("name", "seed", "demo_corpus", "sources", "filters", "dedup", "decontam", "mix", "tokenizer", "pack",
            "executor", "train")


@dataclass
class SourceSpec:
    domain: str
    path: str | None = None  # file or folder (resolved), or None for a hub source
    hub: str | None = None  # ORG/NAME[/CONFIG][:SPLIT]
    format: str = "auto"
    strict: bool = False
    samples: int | None = None  # published size, documentation only (the mix decides how many are used)

    @property
    def spec(self) -> str:
        """What `curate.ingest.ingest` takes."""
        return self.path if self.path is not None else f"hf://{self.hub}"


@dataclass
class DomainMix:
    weight: float | None = None  # share of mix.total
    count: int | None = None  # exact number of samples
    epochs: float | None = None  # multiple of what survived curation (2.0 = every sample twice)
    cap: int | None = None  # at most this many


@dataclass
class MixSettings:
    total: int | None = None  # needed by weights
    shard_rows: int = 4096
    domains: dict[str, DomainMix] = field(default_factory=dict)


@dataclass
class ExecutorSettings:
    kind: ExecutorKind = "local"
    workers: int = 1
    options: dict[str, Any] = field(default_factory=dict)  # passed to datatrove's Slurm/Ray executor


@dataclass
class Recipe:
    name: str
    seed: int
    sources: list[SourceSpec]
    filters: DomainFilters
    dedup: DedupSettings
    decontam: DecontamSettings
    mix: MixSettings
    executor: ExecutorSettings
    tokenizer: dict[str, Any] = field(default_factory=dict)  # keys: TOKENIZER_KEYS (packers.tokenize)
    pack: dict[str, Any] | None = None  # keys: PACK_KEYS (packers.pack); absent = the build stops at the mix
    train: dict[str, Any] = field(default_factory=dict)  # validated by trainer/
    demo_corpus: bool = False
    path: Path | None = None
    sha256: str = ""  # of the recipe file's bytes


def _mapping(value: Any, path: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{path}: expected a mapping, got {type(value).__name__}")
    return value


def _known_keys(value: Any, path: str, known: tuple[str, ...]) -> dict:
    """Raw settings handed to another area's functions: only the keys they take, so typos fail here."""
    value = _mapping(value, path)
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise ValueError(f"{path}.{unknown[0]}: unknown key; known: {', '.join(known)}")
    return dict(value)


def _resolve(base: Path, value: str) -> str:
    p = Path(value).expanduser()
    return str(p if p.is_absolute() else (base / p))


def _sources(raw: Any, base: Path) -> list[SourceSpec]:
    if not isinstance(raw, list) or not raw:
        raise ValueError("sources: expected a non-empty list of {path|hub, domain, format}")
    out = []
    for i, item in enumerate(raw):
        where = f"sources[{i}]"
        item = _mapping(item, where)
        spec = settings_from_dict(SourceSpec, item, where)
        if spec.domain not in DOMAINS:
            raise ValueError(f"{where}.domain: unknown domain {spec.domain!r}; known: {', '.join(DOMAINS)}")
        if (spec.path is None) == (spec.hub is None):
            raise ValueError(f"{where}: give exactly one of path or hub")
        if spec.path is not None:
            spec.path = _resolve(base, spec.path)
        out.append(spec)
    return out


def _mix(raw: Any) -> MixSettings:
    raw = dict(_mapping(raw, "mix"))
    total = raw.pop("total", None)
    shard_rows = raw.pop("shard_rows", 4096)
    mix = settings_from_dict(MixSettings, {"total": total, "shard_rows": shard_rows}, "mix")
    if mix.shard_rows <= 0:
        raise ValueError("mix.shard_rows: must be positive")
    for domain, block in raw.items():
        where = f"mix.{domain}"
        if domain not in DOMAINS:
            raise ValueError(f"{where}: unknown domain; known: total, shard_rows, {', '.join(DOMAINS)}")
        dm = settings_from_dict(DomainMix, block, where)
        given = [k for k in ("weight", "count", "epochs") if getattr(dm, k) is not None]
        if len(given) > 1:
            raise ValueError(f"{where}: give one of weight, count or epochs, not {' and '.join(given)}")
        for k in ("weight", "count", "epochs", "cap"):
            if (v := getattr(dm, k)) is not None and v < 0:
                raise ValueError(f"{where}.{k}: must be >= 0, got {v}")
        if dm.weight is not None and mix.total is None:
            raise ValueError(f"{where}.weight: weights need mix.total (the number of samples to draw)")
        mix.domains[domain] = dm
    return mix


def _dedup(raw: Any) -> DedupSettings:
    settings = settings_from_dict(DedupSettings, _mapping(raw, "dedup"), "dedup")
    if settings.keep not in KEEP_POLICIES:
        raise ValueError(f"dedup.keep: expected one of {', '.join(KEEP_POLICIES)}, got {settings.keep!r}")
    if settings.keep == "score" and not settings.score_field:
        raise ValueError("dedup.score_field: required when dedup.keep is score")
    if not 0.0 < settings.threshold <= 1.0:
        raise ValueError(f"dedup.threshold: must be in (0, 1], got {settings.threshold}")
    for key in ("include_answer", "common_shingles"):
        for i, d in enumerate(getattr(settings, key)):
            if d not in DOMAINS:
                raise ValueError(f"dedup.{key}[{i}]: unknown domain {d!r}")
    for d in settings.scope_keys:
        if d not in DOMAINS:
            raise ValueError(f"dedup.scope_keys.{d}: unknown domain")
    if settings.common_min_docs < 2 or settings.common_sample < 1:
        raise ValueError("dedup.common_min_docs must be >= 2 and dedup.common_sample >= 1")
    return settings


def _decontam(raw: Any, base: Path) -> DecontamSettings:
    raw = dict(_mapping(raw, "decontam"))
    benchmarks = raw.pop("benchmarks", None) or []
    settings = settings_from_dict(DecontamSettings, raw, "decontam")
    if settings.scope not in ("prompt", "all"):
        raise ValueError(f"decontam.scope: expected prompt or all, got {settings.scope!r}")
    if settings.n < 1:
        raise ValueError("decontam.n: must be >= 1")
    if not isinstance(benchmarks, list):
        raise ValueError("decontam.benchmarks: expected a list of {name, path, field}")
    for i, item in enumerate(benchmarks):
        spec = settings_from_dict(BenchmarkSpec, _mapping(item, f"decontam.benchmarks[{i}]"),
                                  f"decontam.benchmarks[{i}]")
        spec.path = _resolve(base, spec.path)
        settings.benchmarks.append(spec)
    return settings


def _executor(raw: Any) -> ExecutorSettings:
    raw = dict(_mapping(raw, "executor"))
    kind, workers = raw.pop("kind", "local"), raw.pop("workers", 1)
    settings = settings_from_dict(ExecutorSettings, {"kind": kind, "workers": workers}, "executor")
    if settings.workers < 1:
        raise ValueError("executor.workers: must be >= 1")
    settings.options = raw
    return settings


def parse_recipe(raw: Any, base: Path, demo_root: Path | None = None) -> Recipe:
    """Validate a loaded recipe mapping; `demo_root` is where demo-corpus source paths resolve."""
    raw = _mapping(raw, "recipe")
    unknown = sorted(set(raw) - set(TOP_KEYS))
    if unknown:
        raise ValueError(f"{unknown[0]}: unknown recipe key; known: {', '.join(TOP_KEYS)}")
    for key in ("name", "sources"):
        if key not in raw:
            raise ValueError(f"{key}: required")
    if not isinstance(raw["name"], str) or not raw["name"]:
        raise ValueError("name: expected a non-empty string")
    seed = coerce(raw.get("seed", 0), int, "seed")
    if seed < 0:  # numpy's seed sequences take only non-negative entropy
        raise ValueError(f"seed: must be >= 0, got {seed}")
    demo = coerce(raw.get("demo_corpus", False), bool, "demo_corpus")
    return Recipe(
        name=raw["name"], seed=seed,
        sources=_sources(raw["sources"], (demo_root or base) if demo else base),
        filters=parse_filters(raw.get("filters"), "filters"),
        dedup=_dedup(raw.get("dedup")), decontam=_decontam(raw.get("decontam"), base), mix=_mix(raw.get("mix")),
        executor=_executor(raw.get("executor")),
        tokenizer=_known_keys(raw.get("tokenizer"), "tokenizer", TOKENIZER_KEYS),
        pack=_known_keys(raw["pack"], "pack", PACK_KEYS) if "pack" in raw else None,
        train=_mapping(raw.get("train"), "train"), demo_corpus=demo,
    )


def load_recipe(path: str | Path, demo_root: str | Path | None = None) -> Recipe:
    """Read and validate a recipe file; ValueError names the file and the offending key path."""
    path = Path(path)
    data = path.read_bytes()
    try:
        raw = yaml.safe_load(data)
    except yaml.YAMLError as e:
        raise ValueError(f"{path}: not valid YAML: {e}") from e
    try:
        recipe = parse_recipe(raw, path.resolve().parent, Path(demo_root) if demo_root else None)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from e
    recipe.path, recipe.sha256 = path, hashlib.sha256(data).hexdigest()
    return recipe
