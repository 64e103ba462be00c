"""Adapters for chat-shaped sources: OpenAI messages, ShareGPT, typed content, xLAM, Responses items, I/O pairs."""

from curate.adapters.base import Adapter
from curate.adapters.chat.io_pairs import InputOutputAdapter
from curate.adapters.chat.openai_messages import OpenAIMessagesAdapter
from curate.adapters.chat.responses import ResponsesAdapter
from curate.adapters.chat.sharegpt import ShareGPTAdapter
from curate.adapters.chat.toucan import ToucanAdapter
from curate.adapters.chat.typed_content import TypedContentAdapter
from curate.adapters.chat.xlam import XLAMAdapter

ADAPTERS: list[Adapter] = [
    ResponsesAdapter(),
    ToucanAdapter(),
    XLAMAdapter(),
    TypedContentAdapter(),
    ShareGPTAdapter(),
    InputOutputAdapter(),
    OpenAIMessagesAdapter(),
]
