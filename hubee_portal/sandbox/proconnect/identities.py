"""The test identities of the fake ProConnect. The first ones are the demo's agent
(`make run`): the same e-mail and the SIRET of the « Commune de Démoville »."""

from __future__ import annotations

from dataclasses import dataclass, replace

DEMOVILLE_SIRET = "21999999000019"  # hubee_portal.demo.seeding.ORGANISATION_SIRET
DEMOVILLE = "Commune de Démoville"
DEMO_AGENT_EMAIL = "agent@demoville.test"
# A fictitious identity provider of ProConnect (its idp_id).
IDP_ID = "3f1c9a3e-5b8d-4d2e-9f0a-bac0a5ab1e01"


@dataclass(frozen=True)
class Identity:
    key: str
    given_name: str
    usual_name: str
    email: str
    siret: str
    organization_label: str
    sub: str
    mfa: bool = False
    idp_id: str = IDP_ID

    @property
    def acr(self) -> str:
        return "eidas1-mfa" if self.mfa else "eidas1"

    @property
    def amr(self) -> list[str]:
        return ["pwd", "otp", "mfa"] if self.mfa else ["pwd"]

    @property
    def label(self) -> str:
        factor = "avec double authentification" if self.mfa else "mot de passe seul"
        return f"{self.given_name} {self.usual_name} — {self.organization_label}, {factor}"


DEMO_AGENT = Identity(
    "agent",
    "Dominique",
    "Agent",
    DEMO_AGENT_EMAIL,
    DEMOVILLE_SIRET,
    DEMOVILLE,
    sub="b7a0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0",
)
IDENTITIES = [
    DEMO_AGENT,
    # The same person, signed in with a second factor (the same sub: the same identity).
    replace(DEMO_AGENT, key="agent-mfa", mfa=True),
    Identity(
        "inconnu",
        "Alix",
        "Inconnu",
        "alix.inconnu@demoville.test",
        DEMOVILLE_SIRET,
        DEMOVILLE,
        sub="0c2f4e6a8b0d2f4a6c8e0a2c4e6a8c0e2a4c6e8a0c2e4a6c8e0a2c4e6a8c0e2a",
    ),
    Identity(
        "autre-siret",
        "Sacha",
        "Voisin",
        "sacha.voisin@autreville.test",
        "21888888800017",
        "Commune d'Autreville",
        sub="9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c",
    ),
]
BY_KEY = {identity.key: identity for identity in IDENTITIES}
