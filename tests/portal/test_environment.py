"""A demo or a recette is never mistaken for production (issue 21): a banner on every page, a
tag on every e-mail subject, a deploy check, and a clear error on a wrong value."""

from __future__ import annotations

import pytest
from django.conf import settings as live_settings
from django.core import checks, mail
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse

from demarches import invitations
from dossiers.records import alerts
from hubee_portal import environment
from tests.conftest import log_in
from tests.factories import (
    AdminFactory,
    DemarcheFactory,
    DossierFactory,
    HubEEConnectionFactory,
    agent_for,
)
from tests.portal.test_settings import run

pytestmark = pytest.mark.django_db

BANNER = '<section class="environment-banner" aria-label="Environnement">'


def test_the_demo_shows_its_banner_on_portal_admin_and_error_pages(client):
    assert live_settings.PORTAL_ENVIRONMENT == "demonstration"  # sandbox on: the tests' default
    log_in(client, AdminFactory())
    for path in ("/connexion/", reverse("home"), reverse("admin:index"), "/absente/"):
        page = Client().get(path) if path == "/connexion/" else client.get(path)
        html = page.content.decode()
        assert BANNER in html, path
        assert "DÉMONSTRATION — BAC À SABLE, données fictives" in html
        # Read once as a labelled region, never announced as it changes (no live region).
        banner = html.split(BANNER)[1].split("</section>")[0]
        assert "aria-live" not in banner and "role=" not in banner


@pytest.mark.parametrize(
    ("value", "words"), [("recette", "RECETTE"), ("preproduction", "PRÉPRODUCTION")]
)
def test_recette_and_preproduction_say_so(settings, value, words):
    settings.PORTAL_ENVIRONMENT = value
    html = Client().get("/connexion/").content.decode()
    assert BANNER in html and f"<strong>{words} — " in html


def test_production_has_no_banner(settings):
    settings.PORTAL_ENVIRONMENT = "production"
    assert "environment-banner" not in Client().get("/connexion/").content.decode()


def test_every_mail_subject_is_tagged_outside_production(settings):
    settings.PORTAL_ENVIRONMENT = "recette"
    demarche = DemarcheFactory()
    agent = agent_for(demarche, email="agent@mairie.fr")
    invitations.invite(agent)
    Client().post(reverse("password_reset"), {"email": "agent@mairie.fr"})
    news = alerts.News(dossiers=[], events=[], untreated=[])
    news.dossiers = [DossierFactory(demarche=demarche)]
    alerts._send(agent, news, digest=False)
    subjects = [m.subject for m in mail.outbox]
    assert len(subjects) == 3
    assert all(s.startswith("[RECETTE] ") for s in subjects), subjects
    assert "[RECETTE] [Commune de Nice] Nouveautés : 1 nouveau dossier" in subjects
    settings.PORTAL_ENVIRONMENT = "production"
    invitations.invite(agent)
    assert mail.outbox[-1].subject.startswith("Votre compte sur Commune de Nice")
    # Django's mails to ADMINS (incidents, antivirus, errors): the prefix set at start-up.
    assert live_settings.EMAIL_SUBJECT_PREFIX.startswith("[DÉMONSTRATION] ")


def test_a_wrong_environment_stops_the_start_in_french(tmp_path):
    env = {"DEBUG": "true", "DATA_DIR": str(tmp_path), "ENV_FILE": str(tmp_path / "none")}
    result = run("import django; django.setup()", {**env, "PORTAL_ENVIRONMENT": "prod"})
    assert result.returncode != 0
    assert "PORTAL_ENVIRONMENT vaut production, preproduction, recette ou demonstration" in (
        result.stderr
    )


def _mismatches() -> list[checks.CheckMessage]:
    found = checks.run_checks(include_deployment_checks=True)
    return [m for m in found if m.id == "hubee_portal.W020"]


def test_deploy_check_warns_when_production_serves_a_test_connection(settings):
    settings.PORTAL_ENVIRONMENT = "production"
    recette = HubEEConnectionFactory(name="Recette", environment="recette")
    demarche = DemarcheFactory(name="État civil", connection=recette, enabled=True)
    messages = _mismatches()
    assert len(messages) == 1 and "« État civil »" in messages[0].msg
    demarche.enabled = False
    demarche.save()
    assert _mismatches() == []
    production = HubEEConnectionFactory(
        name="Production",
        environment="production",
        token_url="https://auth.hubee.numerique.gouv.fr/oauth2/token",
        api_url="https://api.hubee.numerique.gouv.fr",
    )
    DemarcheFactory(connection=production, enabled=True)
    assert _mismatches() == []
    settings.PORTAL_ENVIRONMENT = "recette"
    DemarcheFactory(connection=recette, enabled=True)
    assert _mismatches() == []  # the banner says it: nothing to warn about


@pytest.mark.parametrize(
    ("level", "rate", "problem"),
    [("conforme", 0, "pas 'conforme'"), ("partiellement conforme", 0, "de 50 à 99")],
)
def test_a_wrong_accessibility_level_stops_the_start(level, rate, problem):
    with pytest.raises(ImproperlyConfigured, match=problem):
        environment.accessibility(level, rate)
    assert environment.accessibility("partiellement conforme", 62) == ("partiellement conforme", 62)
