"""Deploy checks (`manage.py check --deploy`) on where the portal talks to HubEE.

They live in `demarches`, the configuration domain: it owns the HubEE connections and the
rules on their URLs, which HUBEE_SANDBOX relaxes (http and loopback are accepted while it is
on). Each check is a function registered below with `deploy=True` and returns a list of
messages; ids are `hubee_portal.E<nnn>` (errors) and `hubee_portal.W<nnn>` (warnings), each used
once, and every message says in French what to do.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

SANDBOX_IN_PRODUCTION = "hubee_portal.E001"


def _in_production() -> bool:
    return not settings.DEBUG


@checks.register(checks.Tags.security, deploy=True)
def sandbox_off_in_production(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The fake HubEE answers anyone and lets connections use http and loopback URLs."""
    if not (_in_production() and settings.HUBEE_SANDBOX):
        return []
    return [
        checks.Error(
            "Le bac à sable HubEE (HUBEE_SANDBOX) est actif alors que DEBUG est désactivé : un "
            "faux HubEE est servi sous /sandbox/ et les connexions HubEE peuvent viser des "
            "adresses http ou locales.",
            hint="En production, retirez HUBEE_SANDBOX du .env (ou mettez HUBEE_SANDBOX=false). "
            "Le bac à sable sert au développement et à la démonstration sur un poste de travail "
            "(DEBUG=true, comme le fait `make run`).",
            id=SANDBOX_IN_PRODUCTION,
        )
    ]
