"""Adapters for SWE agentic / agentless sources and natural-language proof sources."""

from curate.adapters.base import Adapter

ADAPTERS: list[Adapter] = []
