"""Errors shared by the channel protocol modules."""

from __future__ import annotations


class MalformedPayload(ValueError):
    """An inbound webhook body does not have the expected structure.

    The message is short and fixed; it never echoes the offending body, so it is safe
    to log and to return to the caller.
    """
