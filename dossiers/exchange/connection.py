"""The exchange's one way to a démarche's HubEE client. Callers look it up on this module
(`connection.client_for(...)`), so that a test points the whole exchange at the sandbox by
patching `dossiers.exchange.connection.client_for` once."""

from __future__ import annotations

from demarches.hubee import client_for

__all__ = ["client_for"]
