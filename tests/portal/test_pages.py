"""The published pages (issue 21): reachable without login from every page's footer, the
installation's own text rendered without HTML, and complete default drafts filled from the
settings."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from demarches.models import Demarche, PortalPage
from demarches.pages import render_text
from tests.conftest import log_in
from tests.factories import AdminFactory, DemarcheFactory, agent_for

pytestmark = pytest.mark.django_db

FOOTER = (
    "Accessibilité : non conforme",
    "Mentions légales",
    "Données personnelles",
    "Plan du site",
)
STATEMENT_SECTIONS = (
    "<h2>État de conformité</h2>",
    "<h2>Résultats des tests</h2>",
    "<h2>Contenus non accessibles</h2>",
    "<h3>Non-conformités</h3>",
    "<h3>Dérogations pour charge disproportionnée</h3>",
    "<h3>Contenus non soumis à l&#x27;obligation d&#x27;accessibilité</h3>",
    "<h2>Établissement de cette déclaration</h2>",
    "<h2>Retour d&#x27;information et contact</h2>",
    "<h2>Voies de recours</h2>",
)


@pytest.fixture
def demo(settings, tmp_path):
    """What `make run` prepares: the demo's organisation and démarches."""
    settings.HUBEE_DOWNLOAD_ROOT = tmp_path / "telechargements"
    call_command(
        "hubee_demo", "--base-url", "http://127.0.0.1:8000", "--dossiers", "0", stdout=StringIO()
    )
    return Demarche.objects.filter(enabled=True).order_by("name")


@pytest.mark.parametrize("name", ["accessibility", "legal", "privacy", "sitemap"])
def test_pages_open_without_login_and_carry_the_footer(name):
    response = Client().get(reverse(name))
    assert response.status_code == 200
    page = response.content.decode()
    for words in FOOTER:
        assert words in page
    assert "INVALID_TEMPLATE_VARIABLE" not in page


def test_the_statement_has_the_official_sections_and_the_measured_failures(demo):
    page = Client().get(reverse("accessibility")).content.decode()
    for section in STATEMENT_SECTIONS:
        assert section in page, section
    assert "<title>Déclaration d&#x27;accessibilité — Commune de Démoville</title>" in page
    assert "Commune de Démoville s&#x27;engage" in page
    assert "est non conforme avec le référentiel" in page
    # What the page walk measured on the admin pages, and the three recourse channels.
    assert "critère 7.1" in page and "critère 11.1" in page and "critère 10.11" in page
    assert "Libre réponse 71120, 75342 Paris CEDEX 07" in page
    assert '<a href="https://formulaire.defenseurdesdroits.fr/">' in page


def test_the_notice_reads_the_retention_periods_from_the_settings(demo, settings):
    settings.AUDIT_RETENTION_MONTHS = 48
    settings.LOGIN_LOG_RETENTION_MONTHS = 9
    first = demo.first()
    Demarche.objects.filter(pk=first.pk).update(retention_months=7)
    page = Client().get(reverse("privacy")).content.decode()
    for heading in (
        "Finalités",
        "Base légale",
        "Durées de conservation",
        "Destinataires",
        "Vos droits",
    ):
        assert f"<h2>{heading}</h2>" in page
    assert f"<li>{first.name} : 7 mois ;</li>" in page  # first of several, by name
    assert "48 mois, puis suppression automatique" in page
    assert "navigateur, dates) : 9 mois, puis effacé chaque nuit" in page
    assert "14 jours au plus" in page  # SESSION_COOKIE_AGE
    assert "[contact du délégué à la protection des données à indiquer]" in page
    # One line per active démarche, the last one closing the list.
    assert demo.count() >= 2 and page.count(" mois ;</li>") == demo.count() - 1
    assert page.count(" mois.</li>") == 1


def test_the_dpo_and_contact_come_from_the_organisation(demo):
    organisation = demo.first().organisation  # saved as the admin does: the identity follows
    organisation.dpo_contact, organisation.contact = (
        "dpo@demoville.fr",
        "accessibilite@demoville.fr",
    )
    organisation.save()
    privacy = Client().get(reverse("privacy")).content.decode()
    assert '<a href="mailto:dpo@demoville.fr">dpo@demoville.fr</a>' in privacy
    statement = Client().get(reverse("accessibility")).content.decode()
    assert "mailto:accessibilite@demoville.fr" in statement


def test_the_installation_text_replaces_the_draft_and_never_renders_html():
    PortalPage.objects.create(
        slug="mentions-legales",
        text="## Éditeur\n\nMairie <b>de</b> Nice\nhttps://nice.fr/contact\n\n"
        "- <script>alert(1)</script>\n- mairie@nice.fr",
    )
    page = Client().get(reverse("legal")).content.decode()
    assert "<h2>Éditeur</h2>" in page
    assert "<p>Mairie &lt;b&gt;de&lt;/b&gt; Nice<br>" in page
    assert '<a href="https://nice.fr/contact">https://nice.fr/contact</a></p>' in page
    assert "<li>&lt;script&gt;alert(1)&lt;/script&gt;</li>" in page
    assert "<script>alert" not in page
    assert "[nom et fonction à indiquer]" not in page  # the draft is gone


def test_render_text_links_only_web_and_mail_addresses():
    html = render_text("javascript:alert(1) data:text/html,x www.example.fr")
    assert 'href="javascript' not in html and 'href="data' not in html
    assert '<a href="http://www.example.fr">www.example.fr</a>' in html


def test_staff_are_offered_to_write_the_page_and_get_the_draft_in_the_admin(client):
    log_in(client, AdminFactory())
    page = client.get(reverse("privacy")).content.decode()
    add = reverse("admin:demarches_portalpage_add") + "?slug=donnees-personnelles"
    assert f'href="{add}"' in page
    form = client.get(add).content.decode()
    assert "## Durées de conservation" in form


def test_the_site_map_lists_what_the_user_may_reach(client):
    anonymous = Client().get(reverse("sitemap")).content.decode()
    assert reverse("login") in anonymous and reverse("dossiers:list") not in anonymous
    client.force_login(agent_for(DemarcheFactory()))
    agent = client.get(reverse("sitemap")).content.decode()
    assert reverse("dossiers:list") in agent and reverse("admin:index") not in agent
    log_in(client, AdminFactory())
    staff = client.get(reverse("sitemap")).content.decode()
    assert reverse("admin:index") in staff and "Simulateur HubEE" in staff


def test_partial_conformity_shows_its_rate(settings):
    settings.PORTAL_ACCESSIBILITY = "partiellement conforme"
    settings.PORTAL_ACCESSIBILITY_RATE = 62
    page = Client().get(reverse("login")).content.decode()
    assert "Accessibilité : partiellement conforme (62 %)" in page


def test_staff_edit_the_written_page_from_the_page(client):
    page = PortalPage.objects.create(slug="accessibilite", text="Notre déclaration.")
    log_in(client, AdminFactory())
    html = client.get(reverse("accessibility")).content.decode()
    assert reverse("admin:demarches_portalpage_change", args=[page.pk]) in html
    assert "<p>Notre déclaration.</p>" in html
