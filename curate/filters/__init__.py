"""Domain-aware filters (DESIGN §1): one datatrove step per concern, configured per domain by the recipe.

Recipe form (`filters:`): a `default` block applies to every domain; a domain block adds checks or overrides
their settings, and `check: false` switches a default check off for that domain:

    filters:
      default: {structure: {}, length: {max_chars: 400000}}
      code_reasoning: {reasoning: {}, python_code: {}}
      chat: {reasoning: false}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from curate.filters.base import SampleCheck, settings_from_dict
from curate.filters.code import PythonCodeCheck
from curate.filters.proofs import ProofCheck
from curate.filters.reasoning import ReasoningCheck
from curate.filters.structure import StructureCheck
from curate.filters.swe import SweCheck
from curate.filters.text import LengthCheck, RepetitionCheck
from curate.filters.tools import ToolCallCheck
from curate.schema import DOMAINS, Sample

# Cheap structural checks first, so the costlier ones see fewer samples; the order is part of the reject reasons.
CHECKS: dict[str, type[SampleCheck]] = {
    c.key: c
    for c in (StructureCheck, LengthCheck, ReasoningCheck, ToolCallCheck, PythonCodeCheck, ProofCheck, SweCheck,
              RepetitionCheck)
}

DomainFilters = dict[str, dict[str, Any]]  # domain -> check key -> settings dataclass


def parse_filters(raw: Any, path: str = "filters") -> DomainFilters:
    """Validate a recipe `filters:` block into per-domain settings for every domain."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise ValueError(f"{path}: expected a mapping of domain -> checks")
    for domain, block in raw.items():
        if domain != "default" and domain not in DOMAINS:
            raise ValueError(f"{path}.{domain}: unknown domain; known: default, {', '.join(DOMAINS)}")
        if block is not None and not isinstance(block, Mapping):
            raise ValueError(f"{path}.{domain}: expected a mapping of check -> settings")
        for key in block or {}:
            if key not in CHECKS:
                raise ValueError(f"{path}.{domain}.{key}: unknown check; known: {', '.join(CHECKS)}")
    default = raw.get("default") or {}
    out: DomainFilters = {}
    for domain in DOMAINS:
        merged: dict[str, Any] = {}
        own = raw.get(domain) or {}
        for key in CHECKS:
            base, over = default.get(key, False), own.get(key, None)
            where = f"{path}.{domain if key in own else 'default'}.{key}"
            if over is False or (over is None and base is False):
                continue
            if isinstance(base, Mapping) and isinstance(over, Mapping):
                value = {**base, **over}
            else:
                value = over if over is not None else base
            merged[key] = settings_from_dict(CHECKS[key].Settings, value, where)
        out[domain] = merged
    return out


def build_filter_steps(
    filters: DomainFilters, count_tokens: Callable[[Sample], int] | None = None, stage: str = "filter"
) -> list[SampleCheck]:
    """One step per check used by any domain, in CHECKS order."""
    steps: list[SampleCheck] = []
    for key, cls in CHECKS.items():
        by_domain = {d: checks[key] for d, checks in filters.items() if key in checks}
        if not by_domain:
            continue
        if cls is LengthCheck:
            steps.append(LengthCheck(by_domain, stage, count_tokens=count_tokens))
        else:
            steps.append(cls(by_domain, stage))
    return steps


__all__ = ["CHECKS", "DomainFilters", "SampleCheck", "build_filter_steps", "parse_filters"]
