"""The error of the OSL-side actions."""

from __future__ import annotations


class SandboxError(ValueError):
    """An OSL-side action the sandbox refuses; the message is for people (French)."""
