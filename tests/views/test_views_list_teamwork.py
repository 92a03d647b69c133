"""The list made for agents (issue 17): one sort control in French, badges by meaning, « Mes
dossiers », « Attribué à », « Libre », the citizen's new messages, failed sends, « Plus de
filtres », the skip link — and a query count that does not grow with the data or the filter."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from dossiers.models import DossierView, OutgoingEvent
from dossiers.records import assignment
from tests.conftest import log_in
from tests.factories import DemarcheFactory, DossierFactory, EvenementFactory, agent_for

pytestmark = pytest.mark.django_db
URL = reverse("dossiers:list")


def listed(response) -> list[str]:
    return [d.external_id for d in response.context["page_obj"]]


def row_of(page: str, external_id: str) -> str:
    """The table row of a dossier, from its link to the end of the row."""
    return page.split(f">{external_id}</a>", 1)[1].split("</tr>", 1)[0]


@pytest.fixture
def team(client):
    demarche = DemarcheFactory(name="Recensement")
    me = agent_for(demarche, first_name="Dominique", last_name="Agent")
    colleague = agent_for(demarche, first_name="Claude", last_name="Collègue")
    agent_for(DemarcheFactory(name="Autre"), first_name="Sacha", last_name="Ailleurs")
    now = timezone.now()
    mine = DossierFactory(
        demarche=demarche, external_id="MIEN-1", received_at=now - timedelta(hours=1)
    )
    theirs = DossierFactory(
        demarche=demarche, external_id="COLLEGUE-1", received_at=now - timedelta(hours=2)
    )
    free = DossierFactory(demarche=demarche, external_id="LIBRE-1", received_at=now)
    done = DossierFactory(demarche=demarche, external_id="TRAITE-1", status="DONE", received_at=now)
    assignment.take(mine, me)
    assignment.take(theirs, colleague)
    log_in(client, me)
    return {
        "client": client,
        "me": me,
        "colleague": colleague,
        "mine": mine,
        "theirs": theirs,
        "free": free,
        "done": done,
    }


def test_one_sort_control_in_french(team):
    page = team["client"].get(URL).content.decode()
    assert 'name="tri"' not in page  # no « Trier par » select: the headers sort
    for label in ("Date de réception", "Numéro de télédossier", "Demandeur", "Statut"):
        assert f"{label} <span" in page or f">{label}</a>" in page, label
    for english in ("Received", "Numero", "Demarche", "(décroissant)"):
        assert english not in page
    form = team["client"].get(URL).context["filter"].form
    labels = dict(form.fields["tri"].choices)
    assert labels["received"] == "Date de réception"
    assert labels["-received"] == "Date de réception (décroissant)"
    assert labels["demarche"] == "Démarche"


def test_a_sort_survives_filtering(team):
    page = team["client"].get(URL, {"tri": "-numero"}).content.decode()
    assert '<input type="hidden" name="tri" value="-numero">' in page


@pytest.mark.parametrize(
    ("status", "css", "word"),
    [
        ("SI_RECEIVED", "todo", "Reçu"),
        ("IN_PROGRESS", "progress", "En cours"),
        ("ADD_AWAITING", "waiting", "En attente de compléments"),
        ("DONE", "done", "Traité"),
        ("REFUSED", "refused", "Refusé"),
        ("CLOSED", "closed", "Clos"),
        ("SI_INTG_ERROR", "error", "Erreur d'intégration"),
    ],
)
def test_badges_by_meaning_each_with_its_word(client, status, css, word):
    demarche = DemarcheFactory()
    DossierFactory(demarche=demarche, status=status, external_id="BADGE-1")
    log_in(client, agent_for(demarche))
    row = row_of(client.get(URL).content.decode(), "BADGE-1")
    assert f'<span class="badge {css}">{escape(word)}</span>' in row


def test_the_ends_and_the_starts_do_not_share_a_colour():
    from dossiers.web.templatetags.portal import status_badge

    css = {s: status_badge(s).split('"')[1] for s in ("SI_RECEIVED", "IN_PROGRESS")}
    assert css["SI_RECEIVED"] != css["IN_PROGRESS"]
    ends = {status_badge(s).split('"')[1] for s in ("DONE", "REFUSED", "CLOSED")}
    assert len(ends) == 3


def test_my_dossiers_and_the_assigned_to_filter(team):
    client = team["client"]
    response = client.get(URL, {"attribue": "moi"})
    assert listed(response) == ["MIEN-1"]
    assert response.context["mine"] == {"count": 1, "current": True}
    page = response.content.decode()
    assert "<title>Mes dossiers — Commune de Nice</title>" in page
    assert 'aria-current="page">Mes dossiers (1)</a>' in page
    assert sorted(listed(client.get(URL, {"attribue": "personne"}))) == ["LIBRE-1", "TRAITE-1"]
    colleague = team["colleague"]
    assert listed(client.get(URL, {"attribue": colleague.pk})) == ["COLLEGUE-1"]
    # Choices: me, nobody, each agent of my démarches — not an agent of another démarche.
    choices = dict(response.context["filter"].form.fields["attribue"].choices)
    assert choices["moi"] == "Moi"
    assert choices["personne"].startswith("Personne")
    assert "Claude Collègue" in choices.values()
    assert "Sacha Ailleurs" not in choices.values()
    # An agent id that is not a choice is a form error, not a crash.
    assert listed(client.get(URL, {"attribue": "999999"})) is not None


def test_the_assigned_column_and_free_dossiers_to_treat(team):
    page = team["client"].get(URL).content.decode()
    assert "Attribué à</th>" in page
    assert 'data-label="Attribué à">Moi</td>' in row_of(page, "MIEN-1")
    assert "Claude Collègue" in row_of(page, "COLLEGUE-1")
    free = row_of(page, "LIBRE-1")
    assert '<span class="badge free">Libre</span>' in free
    # A treated dossier nobody holds is not « to take ».
    assert "Libre" not in row_of(page, "TRAITE-1")
    assert 'class=" free"' in page or 'class="unread free"' in page


def test_new_citizen_message_mark_and_filter(team):
    client, me = team["client"], team["me"]
    mine, theirs = team["mine"], team["theirs"]
    for dossier in (mine, theirs, team["free"], team["done"]):
        DossierView.objects.create(user=me, dossier=dossier, viewed_at=timezone.now())
    assert listed(client.get(URL, {"message": "nouveau"})) == []
    # The citizen writes on one, after my view; an operator status on the other is no message.
    DossierView.objects.filter(user=me).update(viewed_at=timezone.now() - timedelta(minutes=5))
    EvenementFactory(dossier=mine, action_type="SENDING_MESSAGE")
    EvenementFactory(dossier=theirs, action_type="STATUS_UPDATE", message="")
    assert listed(client.get(URL, {"message": "nouveau"})) == ["MIEN-1"]
    page = client.get(URL).content.decode()
    assert "Nouveau message de l'usager</span>" in row_of(page, "MIEN-1")
    assert "Nouveau message de l'usager</span>" not in row_of(page, "COLLEGUE-1")
    # Read: no longer new.
    client.get(reverse("dossiers:detail", args=[mine.pk]))
    assert listed(client.get(URL, {"message": "nouveau"})) == []


def test_a_citizen_message_on_a_dossier_never_opened_is_new(team):
    EvenementFactory(dossier=team["free"], action_type="ATTACH_DEPOSIT")
    assert listed(team["client"].get(URL, {"message": "nouveau"})) == ["LIBRE-1"]


def test_failed_send_is_named_and_filtered(team):
    OutgoingEvent.objects.create(
        dossier=team["free"],
        case_new_status="IN_PROGRESS",
        author="Agent",
        state="failed",
        failure="refused",
    )
    response = team["client"].get(URL, {"envoi": "refuse"})
    assert listed(response) == ["LIBRE-1"]
    page = response.content.decode()
    assert '<option value="refuse" selected>Envoi en échec</option>' in page
    assert '<span class="badge error">Envoi en échec</span>' in row_of(page, "LIBRE-1")


def test_the_main_status_filter_and_more_filters(team):
    client = team["client"]
    response = client.get(URL)
    main = [value for value, _ in response.context["filter"].form.fields["status"].choices]
    assert main == ["", "SI_RECEIVED", "IN_PROGRESS", "ADD_AWAITING", "DONE", "REFUSED", "CLOSED"]
    other = dict(response.context["filter"].form.fields["statut_hubee"].choices)
    assert set(other) == {
        "",
        "HUBEE_RECEIVED",
        "HUBEE_COMPLETED",
        "HUBEE_NOTIFIED",
        "SENT",
        "SI_INTG_ERROR",
        "ARCHIVED",
    }
    page = response.content.decode()
    assert '<details class="more-filters">' in page  # closed while none is set
    more = page.split('<details class="more-filters">', 1)[1].split("</details>", 1)[0]
    assert 'name="statut_hubee"' in more and 'name="recu_depuis"' in more
    assert 'name="status"' not in more
    # Set: the disclosure opens.
    team["free"].status = "HUBEE_NOTIFIED"
    team["free"].save()
    response = client.get(URL, {"statut_hubee": "HUBEE_NOTIFIED"})
    assert listed(response) == ["LIBRE-1"]
    assert '<details class="more-filters" open>' in response.content.decode()
    # A link written with the old single filter (the dashboard's) still works.
    assert listed(client.get(URL, {"status": "HUBEE_NOTIFIED"})) == ["LIBRE-1"]
    assert listed(client.get(URL, {"status": "DONE"})) == ["TRAITE-1"]


def test_skip_link_to_the_results(team):
    page = team["client"].get(URL).content.decode()
    content = page.split('id="contenu"', 1)[1]
    assert '<a class="skip-link" href="#resultats">Aller aux résultats</a>' in content
    assert 'id="resultats"' in content


def test_bulk_selection_on_the_list(team):
    client = team["client"]
    page = client.get(URL).content.decode()
    assert f'<form method="get" action="{reverse("dossiers:bulk")}" id="selection"' in page
    assert page.count('type="checkbox" name="dossier"') == 4
    assert " checked>" not in page.split('id="selection"', 1)[1]
    # Without JavaScript: the link reloads the page with every box checked.
    assert "tout=1" in page and "Tout sélectionner sur cette page" in page
    checked = client.get(URL, {"tout": "1"}).content.decode()
    assert checked.count(" checked><label") == 4
    assert "Tout désélectionner" in checked
    assert "Claude Collègue</option>" in page  # « Confier à » offers the team


def _queries(client, params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(URL, params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "params",
    [
        {"attribue": "moi"},
        {"attribue": "personne", "message": "nouveau", "envoi": "refuse"},
        {"statut_hubee": "HUBEE_NOTIFIED", "tri": "-demarche", "tout": "1"},
    ],
    ids=["mine", "free-new-failed", "more-filters"],
)
def test_query_count_is_constant_with_the_new_filters(client, settings, params):
    settings.DOSSIERS_PER_PAGE = 25
    demarches = [DemarcheFactory(), DemarcheFactory()]
    me = agent_for(*demarches)
    log_in(client, me)

    def grow(n):
        for i in range(n):
            dossier = DossierFactory(demarche=demarches[i % 2])
            EvenementFactory(dossier=dossier)
            agent = agent_for(demarches[i % 2])
            assignment.take(dossier, me if i % 3 == 0 else agent)

    grow(2)
    small = _queries(client, params)
    grow(40)
    large = _queries(client, params)
    assert small == large
    assert large <= 12
