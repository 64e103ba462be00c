"""Adapters for chat-shaped sources: OpenAI messages, ShareGPT, typed content, xLAM, Responses items, I/O pairs."""

from curate.adapters.base import Adapter

ADAPTERS: list[Adapter] = []
