"""Status actions, messages and returned documents, per démarche rules, through the outbox.

End to end against the sandbox: the agent's POST queues a row, the task (inline in tests)
reads the case and sends it, and the dossier changes only once HubEE accepted.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from dossiers import tasks
from dossiers.exchange import lease
from dossiers.exchange.outbound import delivery, deposit, push, queue
from dossiers.models import AuditEntry, Dossier, OutgoingEvent, PieceJointe
from hubee_portal.hubee import HubEEClient
from hubee_portal.sandbox import services as sandbox
from hubee_portal.sandbox.models import Attachment
from hubee_portal.sandbox.storage import attachment_path
from tests.factories import DemarcheFactory, DossierFactory, agent_for
from tests.views.conftest import received_dossier

pytestmark = pytest.mark.django_db

ALL_RULES = {"allows_messages": True, "allows_add_awaiting": True, "allows_document_return": True}


def make_demarche(portal, code="EtatCivil", *, rules=None, **kwargs):
    """A démarche whose sandbox subscription has the same rules (unless told otherwise)."""
    rules = dict(ALL_RULES if rules is None else rules)
    sandbox_rules = kwargs.pop("sandbox_rules", rules)
    return portal.demarche(code, rules=sandbox_rules, **rules, **kwargs)


def action_url(dossier, slug):
    return reverse("dossiers:action", args=[dossier.pk, slug])


def offered(client, dossier) -> list[str]:
    return [
        action.slug
        for action in client.get(reverse("dossiers:detail", args=[dossier.pk]))
        .context["page"]
        .actions
    ]


def si_events(case) -> list[dict]:
    events = sandbox.case_as_hubee_sees_it(case)["events"]
    return [e for e in events if e["transmitter"]["type"] == "SI"]


# -- what is offered ----------------------------------------------------------------------------


def test_a_demarche_with_every_exchange_offers_every_action(client):
    dossier = DossierFactory(
        status="SI_RECEIVED",
        demarche=DemarcheFactory(**ALL_RULES),
    )
    client.force_login(agent_for(dossier.demarche))
    assert offered(client, dossier) == [
        "prendre-en-charge",
        "demander-complement",
        "traiter",
        "refuser",
        "message",
        "renvoyer-documents",
    ]


def test_certdc_offers_done_only_and_no_message(client):
    demarche = DemarcheFactory(process_code="CERTDC", allow_refused=False)
    dossier = DossierFactory(demarche=demarche, status="SI_RECEIVED")
    client.force_login(agent_for(demarche))
    assert offered(client, dossier) == ["prendre-en-charge", "traiter"]
    page = client.get(reverse("dossiers:detail", args=[dossier.pk])).content.decode()
    assert "Message à l" not in page
    form = client.get(action_url(dossier, "traiter")).context["form"]
    assert "message" not in form.fields


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("HUBEE_NOTIFIED", ["prendre-en-charge", "demander-complement", "traiter", "refuser"]),
        ("IN_PROGRESS", ["demander-complement", "traiter", "refuser"]),
        ("ADD_AWAITING", ["traiter", "refuser"]),
        ("DONE", []),
        ("REFUSED", []),
    ],
)
def test_only_forward_statuses_are_offered(client, status, expected):
    demarche = DemarcheFactory(allows_add_awaiting=True)
    dossier = DossierFactory(demarche=demarche, status=status)
    client.force_login(agent_for(demarche))
    assert offered(client, dossier) == expected


def test_a_closed_case_offers_nothing(client):
    dossier = DossierFactory(demarche=DemarcheFactory(**ALL_RULES), status="CLOSED")
    client.force_login(agent_for(dossier.demarche))
    assert offered(client, dossier) == []
    assert (
        "clos côté usager : plus aucune action n&#x27;est possible"
        in client.get(reverse("dossiers:detail", args=[dossier.pk])).content.decode()
    )


def test_a_pending_status_push_holds_other_status_actions(client):
    dossier = DossierFactory(demarche=DemarcheFactory(allows_messages=True), status="SI_RECEIVED")
    OutgoingEvent.objects.create(dossier=dossier, case_new_status="IN_PROGRESS", author="a")
    client.force_login(agent_for(dossier.demarche))
    assert offered(client, dossier) == ["message"]


def test_the_rules_are_read_again_when_the_push_is_queued(client, monkeypatch):
    """Two agents open « Clore » on the same dossier: the second POST, whose page was checked
    before the first push was queued, queues nothing and says why."""
    monkeypatch.setattr(queue, "request_delivery", lambda pk: None)  # both stay pending
    dossier = DossierFactory(demarche=DemarcheFactory(**ALL_RULES), status="IN_PROGRESS")
    first, second = agent_for(dossier.demarche), agent_for(dossier.demarche)
    from dossiers.records import actions

    checked = [actions.check(dossier, "traiter") for _ in range(2)]  # both pages shown
    queue.perform(dossier, first, checked[0], message="Fait.")
    with pytest.raises(actions.ActionNotAllowed, match="en cours d'envoi"):
        queue.perform(dossier, second, checked[1], message="Fait aussi.")
    assert OutgoingEvent.objects.filter(dossier=dossier).count() == 1

    # Through the view: the form says it, nothing more is queued.
    client.force_login(second)
    response = client.post(action_url(dossier, "message"), {"message": "Bonjour", "confirm": "1"})
    assert response.status_code == 302  # a message is not a status push: it goes through
    # The page's own check passed (as it did before the first push was queued).
    monkeypatch.setattr(actions, "check", lambda d, slug: checked[1])
    response = client.post(action_url(dossier, "traiter"), {"message": "Fait.", "confirm": "1"})
    assert response.status_code == 400
    assert escape("en cours d'envoi à HubEE") in response.content.decode()
    assert OutgoingEvent.objects.filter(dossier=dossier, case_new_status="DONE").count() == 1


@pytest.mark.parametrize(
    ("rules", "status", "slug"),
    [
        ({"allow_refused": False}, "IN_PROGRESS", "refuser"),
        ({"allow_done": False, "allow_refused": True}, "IN_PROGRESS", "traiter"),
        ({"allows_add_awaiting": False}, "IN_PROGRESS", "demander-complement"),
        ({"allows_messages": False}, "IN_PROGRESS", "message"),
        ({"allows_document_return": False}, "IN_PROGRESS", "renvoyer-documents"),
        ({}, "DONE", "refuser"),  # backwards
        ({}, "IN_PROGRESS", "prendre-en-charge"),  # not forward
        ({}, "IN_PROGRESS", "inconnue"),
    ],
)
def test_actions_not_allowed_are_refused_server_side(client, rules, status, slug):
    demarche = DemarcheFactory(**{**ALL_RULES, **rules})
    dossier = DossierFactory(demarche=demarche, status=status)
    client.force_login(agent_for(demarche))
    assert client.get(action_url(dossier, slug)).status_code == 403
    response = client.post(action_url(dossier, slug), {"message": "x", "confirm": "on"})
    assert response.status_code == 403
    assert not OutgoingEvent.objects.exists()


# -- forms --------------------------------------------------------------------------------------


def test_confirmation_is_required(client):
    dossier = DossierFactory(demarche=DemarcheFactory(), status="SI_RECEIVED")
    client.force_login(agent_for(dossier.demarche))
    response = client.post(action_url(dossier, "traiter"), {})
    assert response.status_code == 400
    assert "Cochez la case de confirmation" in response.content.decode()
    assert not OutgoingEvent.objects.exists()


@pytest.mark.parametrize("slug", ["refuser", "demander-complement", "message"])
def test_a_message_is_required_where_the_demarche_accepts_messages(client, slug):
    dossier = DossierFactory(demarche=DemarcheFactory(**ALL_RULES), status="IN_PROGRESS")
    client.force_login(agent_for(dossier.demarche))
    response = client.post(action_url(dossier, slug), {"message": "   ", "confirm": "on"})
    assert response.status_code == 400
    assert "Écrivez le message" in response.content.decode()
    assert not OutgoingEvent.objects.exists()


def test_refused_without_messages_needs_no_message_and_sends_none(portal, login):
    demarche = make_demarche(portal, rules={})
    case, dossier = received_dossier(portal, demarche)
    client = login(agent_for(demarche))
    response = client.post(action_url(dossier, "refuser"), {"message": "ignoré", "confirm": "on"})
    assert response.status_code == 302
    event = si_events(case)[-1]
    assert (event["caseNewStatus"], event["message"]) == ("REFUSED", None)


def test_a_message_longer_than_hubee_accepts_is_refused(client):
    dossier = DossierFactory(demarche=DemarcheFactory(**ALL_RULES), status="IN_PROGRESS")
    client.force_login(agent_for(dossier.demarche))
    response = client.post(action_url(dossier, "message"), {"message": "x" * 1001, "confirm": "on"})
    assert response.status_code == 400


def test_the_action_page_works_without_javascript(client):
    dossier = DossierFactory(demarche=DemarcheFactory(**ALL_RULES), status="IN_PROGRESS")
    client.force_login(agent_for(dossier.demarche))
    page = client.get(action_url(dossier, "refuser")).content.decode()
    assert f'action="{action_url(dossier, "refuser")}"' in page
    assert 'type="checkbox" name="confirm"' in page and "required" in page
    upload = client.get(action_url(dossier, "renvoyer-documents")).content.decode()
    assert 'enctype="multipart/form-data"' in upload and "multiple" in upload


# -- end to end ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slug", "message", "status"),
    [
        ("prendre-en-charge", "", "IN_PROGRESS"),
        ("traiter", "Votre acte vous a été envoyé.", "DONE"),
        ("refuser", "Le demandeur n'est pas concerné.", "REFUSED"),
        ("demander-complement", "Merci de joindre un justificatif de domicile.", "ADD_AWAITING"),
    ],
)
def test_status_actions_reach_hubee(portal, login, slug, message, status):
    demarche = make_demarche(portal, automatic_status="SI_RECEIVED")
    case, dossier = received_dossier(portal, demarche)
    agent = agent_for(demarche, first_name="Dominique", last_name="Agent")
    client = login(agent)
    response = client.post(action_url(dossier, slug), {"message": message, "confirm": "on"})
    assert response.status_code == 302
    assert sandbox.status_pushes(case) == ["SI_RECEIVED", status]
    event = si_events(case)[-1]
    assert event["author"] == "Dominique Agent"
    assert (event["message"] or "") == message
    dossier.refresh_from_db()
    assert dossier.status == status
    outgoing = OutgoingEvent.objects.get(created_by=agent)
    assert (outgoing.state, str(outgoing.hubee_event_id)) == ("sent", event["id"])
    assert AuditEntry.objects.filter(action="status", dossier=dossier, detail=status).exists()
    page = client.get(reverse("dossiers:detail", args=[dossier.pk])).content.decode()
    assert "Transmis à HubEE</span>" in page


def test_a_message_reaches_the_osl_and_keeps_the_status(portal, login):
    demarche = make_demarche(portal, automatic_status="SI_RECEIVED")
    case, dossier = received_dossier(portal, demarche)
    client = login(agent_for(demarche))
    client.post(
        action_url(dossier, "message"), {"message": "Votre dossier est complet.", "confirm": "on"}
    )
    event = si_events(case)[-1]
    assert (event["actionType"], event["message"]) == (
        "SENDING_MESSAGE",
        "Votre dossier est complet.",
    )
    notified = [str(n.event_id) for n in sandbox.osl_notifications(demarche.subscription)]
    assert event["id"] in notified
    dossier.refresh_from_db()
    assert dossier.status == "SI_RECEIVED"


def test_returned_documents_are_deposited_uploaded_then_sent(portal, login):
    demarche = make_demarche(portal, automatic_status="SI_RECEIVED")
    case, dossier = received_dossier(portal, demarche)
    client = login(agent_for(demarche))
    attestation = b"%PDF-1.4 attestation de recensement\n" * 500
    notice = b"Notice explicative\n"
    response = client.post(
        action_url(dossier, "renvoyer-documents"),
        {
            "files": [
                SimpleUploadedFile("attestation.pdf", attestation, "application/pdf"),
                SimpleUploadedFile("../notice.txt", notice, "text/plain"),
            ],
            "attachment_type": "attestation",
            "message": "Voici votre attestation.",
            "confirm": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()
    deposits = [e for e in si_events(case) if e["actionType"] == "ATTACH_DEPOSIT"]
    assert len(deposits) == 1
    deposit = deposits[0]
    assert deposit["status"] == "SENT" and deposit["message"] == "Voici votre attestation."
    assert [(a["fileName"], a["status"], a["type"]) for a in deposit["attachments"]] == [
        ("attestation.pdf", "RECEIVED", "attestation"),
        ("notice.txt", "RECEIVED", "attestation"),
    ]
    ids = [a["id"] for a in deposit["attachments"]]
    assert attachment_path(ids[0]).read_bytes() == attestation
    assert attachment_path(ids[1]).read_bytes() == notice
    # The OSL was told once the deposit was complete.
    assert any(
        n.event_id and str(n.event_id) == deposit["id"]
        for n in sandbox.osl_notifications(demarche.subscription)
    )
    # Our copies join the dossier's attachments and download like the others.
    returned = PieceJointe.objects.filter(dossier=dossier, evenement__direction="sent")
    assert sorted(p.file_name for p in returned) == ["attestation.pdf", "notice.txt"]
    piece = returned.get(file_name="attestation.pdf")
    download = client.get(reverse("dossiers:download", args=[dossier.pk, piece.pk]))
    assert b"".join(download.streaming_content) == attestation
    page = client.get(reverse("dossiers:detail", args=[dossier.pk])).content.decode()
    assert "Envoyée à l&#x27;usager" in page


def test_returned_documents_need_at_least_one_file(client):
    dossier = DossierFactory(demarche=DemarcheFactory(**ALL_RULES), status="IN_PROGRESS")
    client.force_login(agent_for(dossier.demarche))
    response = client.post(action_url(dossier, "renvoyer-documents"), {"confirm": "on"})
    assert response.status_code == 400
    assert not OutgoingEvent.objects.exists()


# -- failures, retries and the never-twice guarantee ---------------------------------------------


def test_status_changes_only_when_hubee_accepts(portal, login):
    # Misconfigured: the portal allows ADD_AWAITING, HubEE does not for this démarche.
    demarche = make_demarche(
        portal,
        automatic_status="SI_RECEIVED",
        sandbox_rules={"allows_messages": True},
    )
    case, dossier = received_dossier(portal, demarche)
    client = login(agent_for(demarche))
    client.post(
        action_url(dossier, "demander-complement"),
        {"message": "Un justificatif ?", "confirm": "on"},
    )
    dossier.refresh_from_db()
    assert dossier.status == "SI_RECEIVED"
    outgoing = OutgoingEvent.objects.get(case_new_status="ADD_AWAITING")
    assert outgoing.state == "failed" and "ADD_AWAITING" in outgoing.last_error
    assert outgoing.failure == "refused"
    assert sandbox.status_pushes(case) == ["SI_RECEIVED"]
    page = client.get(reverse("dossiers:detail", args=[dossier.pk])).content.decode()
    assert "Refusé par HubEE</span>" in page and "Réessayer" in page
    assert "ADD_AWAITING" not in page  # HubEE's own text stays on the staff pages

    # HubEE's configuration is fixed; the agent retries: sent once.
    demarche.subscription.allows_add_awaiting = True
    demarche.subscription.save()
    response = client.post(reverse("dossiers:retry", args=[dossier.pk, outgoing.pk]))
    assert response.status_code == 302
    outgoing.refresh_from_db()
    assert outgoing.state == "sent"
    assert sandbox.status_pushes(case) == ["SI_RECEIVED", "ADD_AWAITING"]
    assert AuditEntry.objects.filter(action="retry").count() == 1


def test_transient_failures_stay_pending_and_are_retried(portal, login):
    demarche = make_demarche(portal, automatic_status="SI_RECEIVED")
    case, dossier = received_dossier(portal, demarche)
    client = login(agent_for(demarche))
    sandbox.set_faults(error_rate=1.0, faults_per_resource=0)  # HubEE answers 5xx to everything
    client.post(action_url(dossier, "traiter"), {"message": "Fini.", "confirm": "on"})
    outgoing = OutgoingEvent.objects.get(case_new_status="DONE")
    assert outgoing.state == "pending" and outgoing.attempts == 1 and outgoing.last_error
    # The retry is on the row: due after the first backoff (30 s), tried by the periodic run.
    assert outgoing.next_attempt_at is not None
    assert abs(
        outgoing.next_attempt_at - (outgoing.updated_at + OutgoingEvent.backoff(1))
    ) < timedelta(seconds=1)
    assert OutgoingEvent.backoff(1) == timedelta(seconds=30)
    assert outgoing.failure == "server"
    page = client.get(reverse("dossiers:detail", args=[dossier.pk])).content.decode()
    assert "En attente d&#x27;envoi</span>" in page
    assert "le portail réessaie tout seul" in page
    assert "Nouvel essai à " in page
    dossier.refresh_from_db()
    assert dossier.status == "SI_RECEIVED"

    sandbox.reset_faults()
    tasks.send_outgoing(dossier.pk)  # what the retry schedule runs
    outgoing.refresh_from_db()
    assert outgoing.state == "sent"
    assert sandbox.status_pushes(case) == ["SI_RECEIVED", "DONE"]


def test_a_push_fails_after_its_attempts_and_can_be_retried(portal, login, settings):
    settings.HUBEE_OUTBOX_MAX_ATTEMPTS = 2
    demarche = make_demarche(portal, automatic_status="SI_RECEIVED")
    case, dossier = received_dossier(portal, demarche)
    client = login(agent_for(demarche))
    sandbox.set_faults(error_rate=1.0, faults_per_resource=0)
    client.post(action_url(dossier, "traiter"), {"confirm": "on"})
    tasks.send_outgoing(dossier.pk)
    outgoing = OutgoingEvent.objects.get(case_new_status="DONE")
    assert (outgoing.state, outgoing.attempts) == ("failed", 2)
    sandbox.reset_faults()
    client.post(reverse("dossiers:retry", args=[dossier.pk, outgoing.pk]))
    assert sandbox.status_pushes(case) == ["SI_RECEIVED", "DONE"]


def test_a_push_waits_while_a_sync_holds_the_demarche(portal, login):
    demarche = make_demarche(portal, automatic_status="SI_RECEIVED")
    case, dossier = received_dossier(portal, demarche)
    client = login(agent_for(demarche))
    from datetime import timedelta

    assert lease.acquire(demarche.pk, "a-running-sync", timedelta(minutes=5))
    client.post(action_url(dossier, "traiter"), {"confirm": "on"})
    assert OutgoingEvent.objects.get(case_new_status="DONE").state == "pending"
    waiting = OutgoingEvent.objects.get(case_new_status="DONE")
    assert waiting.next_attempt_at is None or waiting.next_attempt_at <= timezone.now()  # due
    assert OutgoingEvent.objects.due(timezone.now()).filter(dossier=dossier).exists()
    assert sandbox.status_pushes(case) == ["SI_RECEIVED"]
    lease.release(demarche.pk, "a-running-sync")
    # The sync task sends what is left once it is done with the démarche.
    tasks.sync_demarche_task(demarche.pk)
    assert sandbox.status_pushes(case) == ["SI_RECEIVED", "DONE"]


def test_ambiguous_post_hubee_answered_504_after_recording(portal, login):
    demarche = make_demarche(portal, automatic_status="SI_RECEIVED")
    case, dossier = received_dossier(portal, demarche)
    client = login(agent_for(demarche))
    sandbox.set_faults(drop_response_after_post=True)
    client.post(action_url(dossier, "traiter"), {"message": "Terminé.", "confirm": "on"})
    assert sandbox.status_pushes(case) == ["SI_RECEIVED", "DONE"]
    assert OutgoingEvent.objects.get(case_new_status="DONE").state == "sent"
    assert Dossier.objects.get(pk=dossier.pk).status == "DONE"


class Crash(BaseException):
    """Not an Exception: like a kill -9, nothing may swallow it."""


def crash_instead_of(monkeypatch, owner, name, *, after_call=False):
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        if after_call:
            original(*args, **kwargs)
        raise Crash(name)

    monkeypatch.setattr(owner, name, wrapper)


def test_hubee_accepted_then_the_process_died_before_committing(portal, login, monkeypatch):
    """The outbox's ambiguous case end to end: one event on HubEE after the rerun."""
    demarche = make_demarche(portal, automatic_status="SI_RECEIVED")
    case, dossier = received_dossier(portal, demarche)
    client = login(agent_for(demarche))
    queued = []
    with monkeypatch.context() as patch:
        patch.setattr(queue, "request_delivery", queued.append)
        client.post(action_url(dossier, "traiter"), {"message": "Traité.", "confirm": "on"})
    assert queued == [dossier.pk]
    with monkeypatch.context() as patch:
        crash_instead_of(patch, push, "record_sent")  # HubEE has it, our commit never ran
        with pytest.raises(Crash):
            tasks.send_outgoing(dossier.pk)
    assert sandbox.status_pushes(case) == ["SI_RECEIVED", "DONE"]
    outgoing = OutgoingEvent.objects.get(case_new_status="DONE")
    assert outgoing.state == "pending"
    assert Dossier.objects.get(pk=dossier.pk).status == "SI_RECEIVED"

    tasks.send_outgoing(dossier.pk)  # the rerun

    assert sandbox.status_pushes(case) == ["SI_RECEIVED", "DONE"]  # exactly one DONE
    outgoing.refresh_from_db()
    assert outgoing.state == "sent" and outgoing.attempts == 1
    assert str(outgoing.hubee_event_id) == si_events(case)[-1]["id"]
    assert Dossier.objects.get(pk=dossier.pk).status == "DONE"


DEPOSIT_STEPS = [
    (HubEEClient, "create_event"),  # HubEE has the deposit, we do not know its id
    (deposit, "_remember_remote_ids"),  # ids committed, nothing uploaded
    (HubEEClient, "upload_event_attachment"),  # first file uploaded
    (HubEEClient, "patch_event"),  # published, not recorded
    (push, "record_sent"),
]


@pytest.mark.parametrize(("owner", "name"), DEPOSIT_STEPS, ids=[n for _, n in DEPOSIT_STEPS])
def test_returned_documents_survive_a_crash_at_every_step(portal, login, monkeypatch, owner, name):
    demarche = make_demarche(portal, automatic_status="SI_RECEIVED")
    case, dossier = received_dossier(portal, demarche)
    client = login(agent_for(demarche))
    files = [("a.pdf", b"%PDF a" * 100), ("b.pdf", b"%PDF b" * 200)]
    queued = []
    with monkeypatch.context() as patch:
        patch.setattr(queue, "request_delivery", queued.append)
        client.post(
            action_url(dossier, "renvoyer-documents"),
            {
                "files": [SimpleUploadedFile(n, c, "application/pdf") for n, c in files],
                "confirm": "on",
            },
        )
    with monkeypatch.context() as patch:
        crash_instead_of(patch, owner, name, after_call=True)
        with pytest.raises(Crash):
            tasks.send_outgoing(dossier.pk)

    tasks.send_outgoing(dossier.pk)

    deposits = [e for e in si_events(case) if e["actionType"] == "ATTACH_DEPOSIT"]
    assert len(deposits) == 1
    assert deposits[0]["status"] == "SENT"
    uploaded = {
        a["fileName"]: attachment_path(a["id"]).read_bytes() for a in deposits[0]["attachments"]
    }
    assert uploaded == dict(files)
    assert Attachment.objects.filter(event_id=deposits[0]["id"]).count() == 2
    outgoing = OutgoingEvent.objects.get(action_type="ATTACH_DEPOSIT")
    assert outgoing.state == "sent" and str(outgoing.hubee_event_id) == deposits[0]["id"]
    assert (
        PieceJointe.objects.filter(
            dossier=dossier, evenement__hubee_event_id=deposits[0]["id"]
        ).count()
        == 2
    )


def test_a_deposit_cut_off_during_its_post_waits_then_is_sent_once(
    portal, login, monkeypatch, settings
):
    """Killed while POSTing the deposit, no answer: HubEE may still create it, so the rerun
    waits for the HTTP timeouts (without counting an attempt), then deposits once."""
    import time_machine
    from django.utils import timezone

    settings.HUBEE_CONNECT_TIMEOUT, settings.HUBEE_READ_TIMEOUT = 10, 120
    demarche = make_demarche(portal, automatic_status="SI_RECEIVED")
    case, dossier = received_dossier(portal, demarche)
    client = login(agent_for(demarche))
    with monkeypatch.context() as patch:
        patch.setattr(queue, "request_delivery", lambda pk: None)
        client.post(
            action_url(dossier, "renvoyer-documents"),
            {"files": [SimpleUploadedFile("a.pdf", b"%PDF a", "application/pdf")], "confirm": "on"},
        )
    with monkeypatch.context() as patch:
        crash_instead_of(patch, HubEEClient, "create_event")  # before HubEE got it
        with pytest.raises(Crash):
            tasks.send_outgoing(dossier.pk)
    outgoing = OutgoingEvent.objects.get(action_type="ATTACH_DEPOSIT")
    assert (outgoing.attempts, outgoing.last_error) == (1, push.UNFINISHED_ATTEMPT)

    start = timezone.now()
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        tasks.send_outgoing(dossier.pk)
    outgoing.refresh_from_db()
    assert outgoing.state == "pending" and outgoing.attempts == 1  # postponed, not counted
    assert [e for e in si_events(case) if e["actionType"] == "ATTACH_DEPOSIT"] == []
    assert outgoing.next_attempt_at >= start + timedelta(seconds=130)

    with time_machine.travel(start + timedelta(seconds=131), tick=False):
        tasks.send_outgoing(dossier.pk)
    deposits = [e for e in si_events(case) if e["actionType"] == "ATTACH_DEPOSIT"]
    assert len(deposits) == 1 and deposits[0]["status"] == "SENT"
    outgoing.refresh_from_db()
    assert (outgoing.state, outgoing.attempts, outgoing.last_error) == ("sent", 2, "")


def test_a_refused_upload_withdraws_the_deposit(portal, login, monkeypatch):
    demarche = make_demarche(portal, automatic_status="SI_RECEIVED")
    case, dossier = received_dossier(portal, demarche)
    client = login(agent_for(demarche))
    from hubee_portal.hubee import BadRequestError

    def refuse(*args, **kwargs):
        raise BadRequestError("HubEE refused the file", status_code=400)

    monkeypatch.setattr(HubEEClient, "upload_event_attachment", refuse)
    client.post(
        action_url(dossier, "renvoyer-documents"),
        {
            "files": [SimpleUploadedFile("a.exe", b"MZ", "application/octet-stream")],
            "confirm": "on",
        },
    )
    outgoing = OutgoingEvent.objects.get(action_type="ATTACH_DEPOSIT")
    assert outgoing.state == "failed" and outgoing.hubee_event_id is None
    assert [e for e in si_events(case) if e["actionType"] == "ATTACH_DEPOSIT"] == []


def test_documents_that_cannot_be_stored_are_reported_and_nothing_is_queued(client, monkeypatch):
    from dossiers.records import storage

    dossier = DossierFactory(demarche=DemarcheFactory(**ALL_RULES), status="IN_PROGRESS")
    client.force_login(agent_for(dossier.demarche))
    real = storage.write_atomic
    calls = []

    def second_fails(path, write):
        calls.append(path)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(path, write)

    monkeypatch.setattr(storage, "write_atomic", second_fails)
    response = client.post(
        action_url(dossier, "renvoyer-documents"),
        {
            "files": [
                SimpleUploadedFile("a.pdf", b"%PDF a", "application/pdf"),
                SimpleUploadedFile("b.pdf", b"%PDF b", "application/pdf"),
            ],
            "confirm": "on",
        },
    )
    assert response.status_code == 400
    assert "pas pu être enregistrés" in response.content.decode()
    assert not OutgoingEvent.objects.exists()
    assert not calls[0].exists()  # the first file was removed again


def test_the_sync_leaves_a_backed_off_push_to_its_retry(portal, login):
    demarche = make_demarche(portal, automatic_status="SI_RECEIVED")
    case, dossier = received_dossier(portal, demarche)
    client = login(agent_for(demarche))
    sandbox.set_faults(error_rate=1.0, faults_per_resource=0)
    client.post(action_url(dossier, "traiter"), {"confirm": "on"})
    sandbox.reset_faults()
    # The retry is due in 30 s: the sync that runs now does not spend an attempt on it.
    assert delivery.deliver_due(demarche).tried == 0
    assert OutgoingEvent.objects.get(case_new_status="DONE").attempts == 1
    OutgoingEvent.objects.filter(dossier=dossier).update(next_attempt_at=timezone.now())
    assert delivery.deliver_due(demarche).tried == 1
    assert sandbox.status_pushes(case) == ["SI_RECEIVED", "DONE"]
