"""Many dossiers at once (issue 17): the confirmation page, each dossier through the rules and
outbox of a single action in its own transaction, the refusals with their reason, the summary."""

import pytest
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dossiers.exchange.outbound import queue
from dossiers.models import AuditEntry, Dossier, OutgoingEvent
from dossiers.records import assignment
from dossiers.web import bulk
from tests.conftest import log_in
from tests.factories import DemarcheFactory, DossierFactory, agent_for

pytestmark = pytest.mark.django_db
BULK = reverse("dossiers:bulk")
RESULT = reverse("dossiers:bulk-result")
CLOSED_REASON = "Le dossier est clos sur HubEE : plus aucune action n'est possible."
PENDING_REASON = "Un changement de statut est en cours d'envoi à HubEE : attendez son résultat."


@pytest.fixture
def held(monkeypatch) -> list[int]:
    """Deliveries asked for, held back: the outbox rows stay pending."""
    asked: list[int] = []
    monkeypatch.setattr(queue, "request_delivery", asked.append)
    return asked


@pytest.fixture
def office(client):
    demarche = DemarcheFactory(name="Recensement", allows_messages=True)
    me = agent_for(demarche, first_name="Dominique", last_name="Agent")
    colleague = agent_for(demarche, first_name="Claude", last_name="Collègue")
    open_ones = [
        DossierFactory(demarche=demarche, status="IN_PROGRESS", external_id=f"OUVERT-{i}")
        for i in range(4)
    ]
    closed = DossierFactory(demarche=demarche, status="CLOSED", external_id="CLOS-1")
    pending = DossierFactory(demarche=demarche, status="IN_PROGRESS", external_id="ATTENTE-1")
    OutgoingEvent.objects.create(dossier=pending, case_new_status="DONE", author="Claude")
    log_in(client, me)
    return {
        "client": client,
        "demarche": demarche,
        "me": me,
        "colleague": colleague,
        "open": open_ones,
        "closed": closed,
        "pending": pending,
    }


def _params(action, dossiers, **extra):
    return {"action": action, "dossier": [d.pk for d in dossiers], **extra}


def test_the_confirmation_lists_the_selection_and_who_cannot_take_it(office):
    selection = [*office["open"], office["closed"], office["pending"]]
    response = office["client"].get(BULK, _params("traiter", selection))
    assert response.status_code == 200
    plan = response.context["plan"]
    assert {d.external_id for d in plan.able} == {d.external_id for d in office["open"]}
    reasons = {d.external_id: reason for d, reason in plan.refused}
    assert reasons == {"CLOS-1": CLOSED_REASON, "ATTENTE-1": PENDING_REASON}
    page = response.content.decode()
    assert "novalidate" in page
    assert "(obligatoire)" in page
    assert "CLOS-1</a>" in page and "plus aucune action n&#x27;est possible" in page
    assert not OutgoingEvent.objects.exclude(dossier=office["pending"]).exists()


def test_confirmation_is_required_with_a_french_error(office, held):
    params = _params("traiter", office["open"])
    response = office["client"].post(BULK, params)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Cochez la case de confirmation pour continuer." in page
    assert 'role="alert" id="id_confirm_error"' in page
    assert 'aria-describedby="id_confirm_error"' in page
    assert not OutgoingEvent.objects.exclude(dossier=office["pending"]).exists()
    assert held == []


def test_bulk_done_queues_each_dossier_and_lists_the_refused(office, held):
    client = office["client"]
    selection = [*office["open"], office["closed"], office["pending"]]
    response = client.post(
        BULK,
        _params("traiter", selection, message="Votre recensement est enregistré.", confirm="on"),
    )
    assert response.status_code == 302 and response["Location"] == RESULT
    queued = OutgoingEvent.objects.filter(dossier__in=office["open"])
    assert sorted(queued.values_list("case_new_status", flat=True)) == ["DONE"] * 4
    assert set(queued.values_list("message", flat=True)) == {"Votre recensement est enregistré."}
    # Nothing more for the closed one, nothing twice for the one already waiting.
    assert not OutgoingEvent.objects.filter(dossier=office["closed"]).exists()
    assert OutgoingEvent.objects.filter(dossier=office["pending"]).count() == 1
    # Audited as single actions, and sent through the outbox's delivery.
    statuses = AuditEntry.objects.filter(action="status")
    assert sorted(statuses.values_list("dossier_id", flat=True)) == sorted(
        d.pk for d in office["open"]
    )
    assert sorted(held) == sorted(d.pk for d in office["open"])

    summary = client.get(RESULT)
    page = summary.content.decode()
    assert summary.status_code == 200
    assert "4 décisions en attente d&#x27;envoi à HubEE ; 2 dossiers non traités" in page
    refused = {line.dossier.external_id: line.text for line in summary.context["summary"].refused}
    assert refused == {"CLOS-1": CLOSED_REASON, "ATTENTE-1": PENDING_REASON}
    assert len(summary.context["summary"].waiting) == 4
    assert "4 envois en attente d'envoi à HubEE" in page

    # The same bulk again: every dossier now has a pending push, nothing is queued twice.
    again = client.post(BULK, _params("traiter", selection, confirm="on"))
    assert again.status_code == 400
    assert OutgoingEvent.objects.filter(dossier__in=office["open"]).count() == 4
    refused = again.context["plan"].refused
    assert {reason for _dossier, reason in refused} == {CLOSED_REASON, PENDING_REASON}
    assert len(refused) == 6
    assert "rien n'a été fait" in again.content.decode()


def test_a_refusal_by_hubee_since_is_listed_with_its_french_reason(office, held):
    client = office["client"]
    client.post(BULK, _params("traiter", office["open"][:2], confirm="on"))
    first = OutgoingEvent.objects.filter(dossier=office["open"][0]).get()
    OutgoingEvent.objects.filter(pk=first.pk).update(state="failed", failure="closed")
    summary = client.get(RESULT)
    refused = summary.context["summary"].refused
    assert [line.dossier.pk for line in refused] == [office["open"][0].pk]
    page = summary.content.decode()
    assert "Refusé par HubEE" in page
    assert "Le dossier a été clos côté usager : plus aucune action n&#x27;est possible." in page


def test_one_failure_never_rolls_back_the_others(office, held, monkeypatch):
    broken = office["open"][1]
    real = queue.perform

    def perform(dossier, user, action, **kwargs):
        if dossier.pk == broken.pk:
            raise DatabaseError("disk I/O error")
        return real(dossier, user, action, **kwargs)

    monkeypatch.setattr(queue, "perform", perform)
    for dossier in office["open"]:
        Dossier.objects.filter(pk=dossier.pk).update(status="SI_RECEIVED")
    office["client"].post(BULK, _params("prendre-en-charge", office["open"][:1], confirm="on"))
    office["client"].post(BULK, _params("prendre-en-charge", office["open"], confirm="on"))
    queued = set(
        OutgoingEvent.objects.filter(case_new_status="IN_PROGRESS").values_list(
            "dossier_id", flat=True
        )
    )
    assert broken.pk not in queued
    assert {d.pk for d in office["open"]} - {broken.pk} <= queued
    refused = office["client"].get(RESULT).context["summary"].refused
    texts = {line.dossier.pk: line.text for line in refused}
    assert texts[broken.pk] == bulk.PORTAL_ERROR
    assert texts[office["open"][0].pk] == PENDING_REASON  # its first push still waits


def test_refusal_needs_a_message_where_the_demarche_takes_messages(office, held):
    params = _params("refuser", office["open"][:2], confirm="on")
    response = office["client"].post(BULK, params)
    assert response.status_code == 400
    assert "Écrivez le message destiné aux usagers." in response.content.decode()
    assert not OutgoingEvent.objects.filter(dossier__in=office["open"]).exists()
    office["client"].post(BULK, {**params, "message": "Ce service ne traite pas ce cas."})
    assert (
        OutgoingEvent.objects.filter(dossier__in=office["open"], case_new_status="REFUSED").count()
        == 2
    )


def test_no_message_field_where_the_demarche_takes_none(client, held):
    demarche = DemarcheFactory(allows_messages=False)
    dossiers = [DossierFactory(demarche=demarche, status="IN_PROGRESS") for _ in range(2)]
    log_in(client, agent_for(demarche))
    response = client.get(BULK, _params("refuser", dossiers))
    assert "message" not in response.context["form"].fields
    client.post(BULK, _params("refuser", dossiers, confirm="on"))
    assert OutgoingEvent.objects.filter(case_new_status="REFUSED").count() == 2


def test_take_many_a_colleague_keeps_theirs(office):
    client, me, colleague = office["client"], office["me"], office["colleague"]
    theirs = office["open"][0]
    assignment.take(theirs, colleague)
    response = client.get(BULK, _params("je-m-en-occupe", office["open"]))
    reasons = {d.pk: r for d, r in response.context["plan"].refused}
    assert reasons == {theirs.pk: "Déjà pris par Claude Collègue."}
    client.post(BULK, _params("je-m-en-occupe", office["open"], confirm="on"))
    holders = dict(
        Dossier.objects.filter(pk__in=[d.pk for d in office["open"]]).values_list(
            "pk", "assigned_to"
        )
    )
    assert holders[theirs.pk] == colleague.pk
    assert {pk for pk, holder in holders.items() if holder == me.pk} == {
        d.pk for d in office["open"][1:]
    }
    assert AuditEntry.objects.filter(action="take", username=me.username).count() == 3
    summary = client.get(RESULT).context["summary"]
    assert len(summary.done) == 3
    assert [line.text for line in summary.refused] == ["Déjà pris par Claude Collègue."]


def test_hand_many_to_a_colleague(office):
    client, colleague = office["client"], office["colleague"]
    elsewhere = DossierFactory(demarche=DemarcheFactory(), status="IN_PROGRESS")
    office["me"].demarches.add(elsewhere.demarche)
    selection = [*office["open"][:2], elsewhere]
    response = client.get(BULK, _params("confier", selection, agent=colleague.pk))
    reasons = [r for _d, r in response.context["plan"].refused]
    assert reasons == ["Cet agent n'est pas habilité sur la démarche de ce dossier."]
    client.post(BULK, _params("confier", selection, agent=colleague.pk, confirm="on"))
    assert set(Dossier.objects.filter(assigned_to=colleague).values_list("pk", flat=True)) == {
        d.pk for d in office["open"][:2]
    }
    assert AuditEntry.objects.filter(action="assign").count() == 2
    # No agent chosen: said so.
    response = client.get(BULK, _params("confier", selection))
    assert response.status_code == 400
    assert "Choisissez l&#x27;agent" in response.content.decode()


def test_selection_is_bounded_and_limited_to_what_i_see(office, held):
    client = office["client"]
    too_many = {"action": "traiter", "dossier": [str(n) for n in range(1, 102)]}
    response = client.get(BULK, too_many)
    assert response.status_code == 400
    assert "100 au plus" in response.content.decode()
    assert client.get(BULK, {"action": "traiter"}).status_code == 400
    assert client.get(BULK, _params("inconnue", office["open"])).status_code == 400
    hidden = DossierFactory(status="IN_PROGRESS")  # another démarche
    response = client.get(BULK, _params("traiter", [office["open"][0], hidden]))
    assert [d.pk for d in response.context["plan"].able] == [office["open"][0].pk]
    client.post(BULK, _params("traiter", [hidden], confirm="on"))
    assert not OutgoingEvent.objects.filter(dossier=hidden).exists()


def test_the_summary_without_a_bulk(office):
    response = office["client"].get(RESULT)
    assert response.status_code == 200
    assert "Aucune action groupée récente" in response.content.decode()


def _confirmation_queries(client, dossiers) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(BULK, _params("traiter", dossiers))
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("action", ["traiter", "je-m-en-occupe", "confier"])
def test_the_confirmation_page_query_count_does_not_grow(office, action):
    demarche = office["demarche"]
    client = office["client"]
    few = [DossierFactory(demarche=demarche, status="IN_PROGRESS") for _ in range(3)]
    many = few + [DossierFactory(demarche=demarche, status="IN_PROGRESS") for _ in range(97)]
    for dossier in many[::7]:
        OutgoingEvent.objects.create(dossier=dossier, case_new_status="DONE", author="Claude")
    extra = {"agent": office["colleague"].pk} if action == "confier" else {}

    def count(dossiers):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(BULK, _params(action, dossiers, **extra))
        assert response.status_code == 200
        return len(ctx.captured_queries)

    small, large = count(few), count(many)
    assert small == large
    assert large <= 12


def test_a_reply_template_completed_for_each_citizen(office, held):
    from demarches.models import ReplyTemplate

    refusal = ReplyTemplate.objects.create(
        demarche=office["demarche"],
        name="Hors délai",
        purpose="refusal",
        text="Bonjour {prenom} {nom}, votre demande {numero} est arrivée hors délai.",
    )
    ReplyTemplate.objects.create(
        demarche=office["demarche"], name="Pièce", purpose="complement", text="Envoyez {numero}."
    )
    params = _params("refuser", office["open"][:2])
    form = office["client"].get(BULK, params).context["form"]
    assert [label for _, label in form.fields["reply_template"].choices] == [
        "Aucun : le message ci-dessus",
        "Hors délai",
    ]
    # Both, or neither: a French error each, nothing queued.
    both = office["client"].post(
        BULK, {**params, "message": "Non.", "reply_template": refusal.pk, "confirm": "on"}
    )
    assert "pas les deux" in both.content.decode()
    neither = office["client"].post(BULK, {**params, "confirm": "on"})
    assert "ou choisissez un modèle de réponse" in neither.content.decode()
    assert not OutgoingEvent.objects.filter(case_new_status="REFUSED").exists()

    response = office["client"].post(
        BULK, {**params, "reply_template": refusal.pk, "confirm": "on"}
    )
    assert response.status_code == 302
    sent = {
        row.dossier.external_id: row.message
        for row in OutgoingEvent.objects.filter(case_new_status="REFUSED").select_related("dossier")
    }
    assert sent == {
        d.external_id: f"Bonjour Camille {d.applicant_last_name}, votre demande {d.external_id} "
        "est arrivée hors délai."
        for d in office["open"][:2]
    }


def test_no_template_across_demarches_and_none_too_long(office, held):
    from demarches.models import ReplyTemplate

    other = DossierFactory(
        demarche=DemarcheFactory(allows_messages=True), status="IN_PROGRESS", external_id="AUTRE-1"
    )
    office["demarche"].agents.add(office["me"])
    other.demarche.agents.add(office["me"])
    ReplyTemplate.objects.create(demarche=office["demarche"], name="A", purpose="all", text="x")
    mixed = office["client"].get(BULK, _params("traiter", [office["open"][0], other]))
    assert "reply_template" not in mixed.context["form"].fields

    # A template that, completed, exceeds HubEE's limit for one dossier: that one is refused.
    long_name = DossierFactory(
        demarche=office["demarche"], status="IN_PROGRESS", applicant_last_name="N" * 255
    )
    template = ReplyTemplate.objects.create(
        demarche=office["demarche"], name="Long", purpose="all", text="{nom} " + "x" * 800
    )
    outcome = bulk.run(
        bulk.BULK_ACTIONS["traiter"],
        [office["open"][0].pk, long_name.pk],
        office["me"],
        template=template,
    )
    assert [pk for pk, _ in outcome.queued] == [office["open"][0].pk]
    assert outcome.refused == [(long_name.pk, bulk.TEMPLATE_TOO_LONG)]
