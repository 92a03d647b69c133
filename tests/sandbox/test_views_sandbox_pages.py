"""The sandbox's staff pages (the OSL side): what a tester sees and does, without JavaScript."""

from __future__ import annotations

from collections.abc import Callable
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from hubee_portal.hubee import HubEEClient, NotFoundError
from hubee_portal.sandbox import content, services
from hubee_portal.sandbox.enums import ActionType, CaseStatus, EventStatus, Party
from hubee_portal.sandbox.models import Case, FaultSettings, Notification, Subscription
from hubee_portal.sandbox.storage import attachment_path
from tests.factories import AdminFactory, UserFactory
from tests.sandbox.helpers import PDF, etat_civil_files, status_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff() -> Client:
    browser = Client()
    browser.force_login(AdminFactory())
    return browser


def _html(response) -> str:
    """The page's HTML, entities decoded (an apostrophe is written &#x27; in variables)."""
    html = response.content.decode()
    assert "INVALID_TEMPLATE_VARIABLE" not in html
    return unescape(html)


def _case_url(case: Case) -> str:
    return reverse("sandbox:osl-case", args=[case.pk])


def _deposited(subscription: Subscription) -> Case:
    return services.deposit_case(
        subscription,
        files=etat_civil_files(),
        applicant={"firstName": "Agathe", "lastName": "Ferrand", "email": None},
    )


# -- access ------------------------------------------------------------------------------------


def test_pages_need_a_login_then_a_staff_account(subscription: Subscription) -> None:
    case = _deposited(subscription)
    urls = [
        reverse("sandbox:osl-home"),
        reverse("sandbox:osl-faults"),
        reverse("sandbox:osl-deposit", args=[subscription.pk]),
        _case_url(case),
    ]
    anonymous = Client()
    agent = Client()
    agent.force_login(UserFactory(username="agent-sans-droits"))

    for url in urls:
        assert anonymous.get(url)["Location"].startswith(reverse("login"))
        assert agent.get(url).status_code == 403
    refused = agent.post(reverse("sandbox:osl-purge", args=[case.pk]))
    assert refused.status_code == 403
    case.refresh_from_db()
    assert not case.purged


def test_actions_need_the_csrf_token(subscription: Subscription) -> None:
    case = _deposited(subscription)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(AdminFactory())

    response = strict.post(reverse("sandbox:osl-close", args=[case.pk]))

    assert response.status_code == 403
    case.refresh_from_db()
    assert case.status == CaseStatus.HUBEE_NOTIFIED


# -- list and deposit --------------------------------------------------------------------------


def test_home_lists_subscriptions_and_cases_with_their_hubee_status(
    staff: Client, subscription: Subscription, strict_subscription: Subscription
) -> None:
    case = _deposited(subscription)
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.IN_PROGRESS)

    html = _html(staff.get(reverse("sandbox:osl-home")))

    assert "Demande d'acte d'état civil (AEC)" in html
    assert "Certificat de décès électronique (CertDC)" in html
    assert case.external_id in html
    assert "Agathe Ferrand" in html
    assert 'En cours <span class="muted">(IN_PROGRESS)</span>' in html
    assert reverse("sandbox:osl-deposit", args=[strict_subscription.pk]) in html


def test_deposit_form_is_prefilled_with_a_fictitious_applicant(
    staff: Client, subscription: Subscription
) -> None:
    response = staff.get(reverse("sandbox:osl-deposit", args=[subscription.pk]))

    form = response.context["form"]
    assert form.initial["prenom"] and form.initial["nom"]
    assert form.initial["courriel"].endswith("@yopmail.com")
    person = services.generated_applicant(form.initial["graine"])
    assert (person.first_name, person.last_name) == (form.initial["prenom"], form.initial["nom"])
    html = _html(response)
    assert f'value="{form.initial["prenom"]}"' in html
    assert '<label for="id_prenom">Prénom du demandeur</label>' in html
    assert "ActeEtatCivil-PDF" in html  # the démarche's attachment types are suggested


def test_deposit_with_generated_files(staff: Client, subscription: Subscription) -> None:
    response = staff.post(
        reverse("sandbox:osl-deposit", args=[subscription.pk]),
        {"prenom": "Zoé", "nom": "Testeur", "courriel": "zoe@example.org", "graine": "42"},
    )

    case = Case.objects.get()
    assert response["Location"] == _case_url(case)
    assert (case.applicant_first_name, case.applicant_last_name) == ("Zoé", "Testeur")
    assert case.applicant_email == "zoe@example.org"
    files = {a.type: attachment_path(a.id).read_bytes() for a in case.attachments.all()}
    assert sorted(files) == ["ActeEtatCivil-PDF", "ActeEtatCivil-XML"]
    assert files["ActeEtatCivil-PDF"].startswith(b"%PDF-1.4")
    xml = files["ActeEtatCivil-XML"].decode()
    assert "<Nom>Testeur</Nom>" in xml and "<Prenom>Zoé</Prenom>" in xml
    # HubEE notified the SI: the portal will receive it at its next sync.
    assert services.pending_si_notifications(subscription) == 1
    page = _html(staff.get(response["Location"]))
    assert "déposé" in page and case.external_id in page


def test_deposit_with_uploaded_files(staff: Client, subscription: Subscription) -> None:
    uploads = [
        SimpleUploadedFile("acte.pdf", PDF, content_type="application/pdf"),
        SimpleUploadedFile("acte.xml", b"<Acte/>", content_type="application/xml"),
    ]

    staff.post(
        reverse("sandbox:osl-deposit", args=[subscription.pk]),
        {
            "prenom": "Yves",
            "nom": "Martin",
            "graine": "7",
            "type_piece": "ActeEtatCivil-PDF",
            "fichiers": uploads,
        },
    )

    case = Case.objects.get()
    stored = {
        a.file_name: (a.type, a.mime_type, attachment_path(a.id).read_bytes())
        for a in case.attachments.all()
    }
    assert stored == {
        "acte.pdf": ("ActeEtatCivil-PDF", "application/pdf", PDF),
        "acte.xml": ("ActeEtatCivil-PDF", "application/xml", b"<Acte/>"),
    }


def test_deposit_with_the_eicar_test_file(staff: Client, subscription: Subscription) -> None:
    """Besides the generated files, the antivirus test file, of the type chosen on the form."""
    staff.post(
        reverse("sandbox:osl-deposit", args=[subscription.pk]),
        {"prenom": "Yves", "nom": "Martin", "type_piece": "ActeEtatCivil-PDF", "eicar": "on"},
    )

    case = Case.objects.get()
    stored = {
        a.file_name: (a.type, a.mime_type, attachment_path(a.id).read_bytes())
        for a in case.attachments.all()
    }
    assert len(stored) == 3  # the XML flux and the PDF summary too
    eicar = stored[content.EICAR_FILE_NAME]
    assert eicar == ("ActeEtatCivil-PDF", "application/octet-stream", content.eicar_bytes())
    assert eicar[2].startswith(b"X5O!P%@AP[4") and len(eicar[2]) == 68


def test_deposit_form_errors_are_shown_and_nothing_is_deposited(
    staff: Client, subscription: Subscription
) -> None:
    response = staff.post(
        reverse("sandbox:osl-deposit", args=[subscription.pk]),
        {
            "prenom": "",
            "nom": "Martin",
            "type_piece": "",
            "fichiers": [SimpleUploadedFile("a.pdf", PDF, content_type="application/pdf")],
        },
    )

    assert response.status_code == 200
    html = _html(response)
    assert "Ce champ est obligatoire." in html
    assert "Indiquez le type de pièce des fichiers envoyés." in html
    assert not Case.objects.exists()


# -- a case, as HubEE sees it ------------------------------------------------------------------


def test_case_page_shows_what_the_si_did(
    staff: Client, subscription: Subscription, client: HubEEClient
) -> None:
    case = _deposited(subscription)
    client.create_event(str(case.id), status_event("SI_RECEIVED"))
    client.create_event(str(case.id), status_event("DONE", message="Votre acte est envoyé."))

    html = _html(staff.get(_case_url(case)))

    assert 'Traité <span class="muted">(DONE)</span>' in html
    assert "SI_RECEIVED → <strong>DONE</strong>" in html
    assert "Votre acte est envoyé." in html
    assert "par le service instructeur (Agent de test)" in html
    assert html.count("Accuser réception (RECEIVED)") == 2


def test_add_generated_documents_as_the_citizen(staff: Client, subscription: Subscription) -> None:
    case = _deposited(subscription)

    response = staff.post(
        reverse("sandbox:osl-documents", args=[case.pk]), {"message": "Voici mon livret."}
    )

    assert response["Location"] == _case_url(case)
    event = case.events.get()
    assert (event.action_type, event.status, event.message) == (
        ActionType.ATTACH_DEPOSIT,
        EventStatus.SENT,
        "Voici mon livret.",
    )
    attachment = event.attachments.get()
    assert attachment.file_name == "complement-1.pdf"
    assert attachment_path(attachment.id).read_bytes().startswith(b"%PDF-1.4")
    notified = Notification.objects.get(event=event)
    assert notified.recipient_type == Party.SI
    assert "1 pièce ajoutée" in _html(staff.get(response["Location"]))


def test_add_uploaded_documents_answers_a_request_for_complements(
    staff: Client, subscription: Subscription, client: HubEEClient
) -> None:
    case = _deposited(subscription)
    client.create_event(str(case.id), status_event("IN_PROGRESS"))
    client.create_event(str(case.id), status_event("ADD_AWAITING"))
    page = _html(staff.get(_case_url(case)))
    assert "remettre le télédossier au statut" in page

    staff.post(
        reverse("sandbox:osl-documents", args=[case.pk]),
        {
            "type_piece": "jf",
            "renotifier": "on",
            "fichiers": [SimpleUploadedFile("livret.pdf", PDF, content_type="application/pdf")],
        },
    )

    case.refresh_from_db()
    assert case.status == CaseStatus.HUBEE_NOTIFIED
    deposit = case.events.get(action_type=ActionType.ATTACH_DEPOSIT)
    attachment = deposit.attachments.get()
    assert (attachment.file_name, attachment.type) == ("livret.pdf", "jf")
    assert attachment_path(attachment.id).read_bytes() == PDF


def test_message_and_closure(staff: Client, subscription: Subscription) -> None:
    case = _deposited(subscription)

    staff.post(reverse("sandbox:osl-message", args=[case.pk]), {"message": "Bonjour"})
    staff.post(reverse("sandbox:osl-close", args=[case.pk]), {"message": "Usager informé"})

    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
    kinds = list(case.events.values_list("action_type", "message"))
    assert kinds == [
        (ActionType.SENDING_MESSAGE, "Bonjour"),
        (ActionType.STATUS_UPDATE, "Usager informé"),
    ]
    assert services.pending_si_notifications(subscription) == 3  # the case, then two events
    html = _html(staff.get(_case_url(case)))
    assert "Le télédossier est déjà clos." in html


def test_empty_message_is_refused_with_the_form_error(
    staff: Client, subscription: Subscription
) -> None:
    case = _deposited(subscription)

    response = staff.post(reverse("sandbox:osl-message", args=[case.pk]), {"message": ""})

    assert response.status_code == 400
    assert "Ce champ est obligatoire." in _html(response)
    assert not case.events.exists()


def test_demarche_without_messages(staff: Client, strict_subscription: Subscription) -> None:
    case = _deposited(strict_subscription)
    page = _html(staff.get(_case_url(case)))
    assert "Cette démarche n'autorise pas les messages" in page
    assert reverse("sandbox:osl-message", args=[case.pk]) not in page

    # A forged POST gets HubEE's refusal, in French.
    response = staff.post(
        reverse("sandbox:osl-message", args=[case.pk]), {"message": "Bonjour"}, follow=True
    )

    assert "Cette démarche n'autorise pas les messages." in _html(response)
    assert not case.events.exists()


def test_acknowledge_an_si_event(
    staff: Client, subscription: Subscription, client: HubEEClient
) -> None:
    case = _deposited(subscription)
    event = client.create_event(str(case.id), status_event("SI_RECEIVED"))

    staff.post(reverse("sandbox:osl-acknowledge", args=[case.pk, event.id]))

    ours = services.event(event.id)
    assert ours.status == EventStatus.RECEIVED
    # The SI is told (eventStatus RECEIVED), and the button is gone.
    listed = client.list_notifications(25)
    assert [(n.event_id, n.event_status) for n in listed if n.event_id] == [(event.id, "RECEIVED")]
    assert "Accuser réception (RECEIVED)" not in _html(staff.get(_case_url(case)))


def test_purge(staff: Client, subscription: Subscription, client: HubEEClient) -> None:
    case = _deposited(subscription)

    response = staff.post(reverse("sandbox:osl-purge", args=[case.pk]), follow=True)

    html = _html(response)
    assert "purgé : HubEE répond 404" in html
    assert "plus aucune action n'est possible" in html
    with pytest.raises(NotFoundError):
        client.get_case(str(case.id))


def test_attachment_download(staff: Client, subscription: Subscription) -> None:
    case = _deposited(subscription)
    pdf = case.attachments.get(type="ActeEtatCivil-PDF")

    response = staff.get(reverse("sandbox:osl-attachment", args=[case.pk, pdf.pk]))

    assert b"".join(response.streaming_content) == PDF
    assert 'filename="ActeEtatCivil-PDF.pdf"' in response["Content-Disposition"]
    other = _deposited(subscription)
    wrong_case = staff.get(reverse("sandbox:osl-attachment", args=[other.pk, pdf.pk]))
    assert wrong_case.status_code == 404


# -- faults ------------------------------------------------------------------------------------


def test_fault_switches(
    staff: Client, subscription: Subscription, make_client: Callable[..., HubEEClient]
) -> None:
    values = {
        "seed": "3",
        "latency_ms": "0",
        "connection_latency_ms": "0",
        "error_rate": "1",
        "token_lifetime": "120",
        "truncate_downloads": "on",
        "wrong_digest": "on",
        "drop_response_after_post": "on",
        "throttle_rate": "0",
        "throttle_retry_after": "2",
        "faults_per_resource": "1",
    }

    response = staff.post(reverse("sandbox:osl-faults"), {**values, "action": "enregistrer"})

    assert response["Location"] == reverse("sandbox:osl-faults")
    row = FaultSettings.load()
    assert (row.seed, row.error_rate, row.token_lifetime) == (3, 1.0, 120)
    assert row.truncate_downloads and row.wrong_digest and row.drop_response_after_post
    assert (row.throttle_rate, row.throttle_retry_after) == (0.0, 2)
    # The switch is live: the first call of a client gets a 5xx, its retry passes.
    make_client(subscription).list_notifications(25)
    page = _html(staff.get(reverse("sandbox:osl-faults")))
    assert "et 2 réponses 5xx" in page  # the token, then the list: first attempts only

    staff.post(reverse("sandbox:osl-faults"), {"action": "reinitialiser"})
    row = FaultSettings.load()
    assert (row.error_rate, row.truncate_downloads, row.token_lifetime) == (0.0, False, 3600)


def test_invalid_fault_value_is_refused(staff: Client, db: None) -> None:
    response = staff.post(
        reverse("sandbox:osl-faults"),
        {
            "seed": "0",
            "latency_ms": "0",
            "connection_latency_ms": "0",
            "error_rate": "2",
            "token_lifetime": "3600",
            "faults_per_resource": "1",
        },
    )

    assert response.status_code == 400
    assert "inférieure ou égale à 1" in _html(response)
    assert FaultSettings.load().error_rate == 0.0
