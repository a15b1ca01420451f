"""AI provider layer: provider-neutral types, registry, retry, and the built-in providers.

Every public module in this package is imported here, so a new provider is one new
module that decorates its class with `@register(kind, label, default_base_url)`.
"""

import importlib
import pkgutil

from vopix.core.providers.base import (
    PROVIDERS,
    ChatMessage,
    Done,
    HTTPProvider,
    Provider,
    ProviderAuthError,
    ProviderBadResponse,
    ProviderConfig,
    ProviderError,
    ProviderRateLimited,
    ProviderUnavailable,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallEvent,
    ToolSpec,
    Usage,
    list_provider_kinds,
    make_provider,
    provider_kind,
    register,
)
from vopix.core.providers.retry import stream_with_retry

for _mod in pkgutil.iter_modules(__path__):
    if not _mod.name.startswith("_") and _mod.name not in {"base", "retry"}:
        importlib.import_module(f"{__name__}.{_mod.name}")

__all__ = [
    "PROVIDERS",
    "ChatMessage",
    "Done",
    "HTTPProvider",
    "Provider",
    "ProviderAuthError",
    "ProviderBadResponse",
    "ProviderConfig",
    "ProviderError",
    "ProviderRateLimited",
    "ProviderUnavailable",
    "StreamEvent",
    "TextDelta",
    "ToolCall",
    "ToolCallEvent",
    "ToolSpec",
    "Usage",
    "list_provider_kinds",
    "make_provider",
    "provider_kind",
    "register",
    "stream_with_retry",
]
