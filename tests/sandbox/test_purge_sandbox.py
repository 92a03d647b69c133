"""HubEE's purge (API.md §9.4) on the sandbox's adjustable clock: files, archiving, deletion."""

from __future__ import annotations

import io
from datetime import timedelta
from html import unescape
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hubee_portal.hubee import HubEEClient, NotFoundError
from hubee_portal.sandbox import services
from hubee_portal.sandbox.enums import AttachmentStatus, CaseStatus, Party
from hubee_portal.sandbox.models import Case, Subscription
from hubee_portal.sandbox.storage import attachment_path
from tests.factories import AdminFactory, UserFactory
from tests.sandbox.helpers import PDF, etat_civil_files, status_event

SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)


def _reached(case: Case, status: str):
    return case.status_changes.get(status=status).at


def _statuses(case: Case) -> dict[str, str]:
    return {a.file_name: a.status for a in case.attachments.all()}


def _closed(subscription: Subscription) -> Case:
    case = services.deposit_case(subscription, files=etat_civil_files())
    services.osl_close(case)
    case.refresh_from_db()
    return case


def test_subscriptions_get_the_documented_example_values(subscription: Subscription) -> None:
    assert (
        subscription.status_before_file_deletion,
        subscription.time_before_file_deletion,
        subscription.time_before_archiving,
        subscription.time_before_folder_deletion,
    ) == ("SI_RECEIVED", 1, 1, 30)


def test_files_are_deleted_the_day_after_the_delay_from_the_status(
    subscription: Subscription, client: HubEEClient, sandbox_dir: Path
) -> None:
    case = services.deposit_case(subscription, files=etat_civil_files())
    client.create_event(str(case.id), status_event("SI_RECEIVED"))
    # The citizen's complement comes later: the rule is about the deposited files.
    complement = services.osl_attach_deposit(case, [("ajout.pdf", "jf", "application/pdf", PDF)])
    due = _reached(case, "SI_RECEIVED") + 2 * DAY  # timeBeforeFileDeletion (1) + 1 day

    too_early = services.run_purge(now=due)

    assert too_early.files_deleted == 0
    assert set(_statuses(case).values()) == {"RECEIVED"}

    result = services.run_purge(now=due + SECOND)

    assert (result.files_deleted, result.cases_archived, result.cases_deleted) == (2, 0, 0)
    assert set(_statuses(case).values()) == {"DELETED"}
    for attachment in case.attachments.all():
        assert not attachment_path(attachment.id).exists()
        with pytest.raises(NotFoundError) as caught:
            client.download_case_attachment(str(case.id), str(attachment.id), io.BytesIO(), None)
        assert caught.value.hubee_message == "File is not found"
    seen = client.get_case(str(case.id))  # the case itself is still there
    assert {a.status for a in seen.attachments} == {"DELETED"}
    extra = complement.attachments.get()
    sink = io.BytesIO()
    client.download_event_attachment(str(case.id), str(complement.id), str(extra.id), sink, None)
    assert sink.getvalue() == PDF
    assert services.run_purge(now=due + 10 * DAY).files_deleted == 0  # nothing twice


def test_going_past_the_status_counts_and_not_reaching_it_keeps_the_files(
    subscription: Subscription, client: HubEEClient
) -> None:
    skipped = services.deposit_case(subscription, files=etat_civil_files())
    client.create_event(str(skipped.id), status_event("IN_PROGRESS"))
    waiting = services.deposit_case(subscription, files=etat_civil_files())

    services.run_purge(now=timezone.now() + 100 * DAY)

    assert set(_statuses(skipped).values()) == {"DELETED"}
    assert set(_statuses(waiting).values()) == {"RECEIVED"}  # still HUBEE_NOTIFIED


def test_each_demarche_has_its_own_rules(
    subscription: Subscription, strict_subscription: Subscription, client: HubEEClient
) -> None:
    services.set_retention(
        strict_subscription,
        status_before_file_deletion="HUBEE_NOTIFIED",
        time_before_file_deletion=3,
    )
    services.set_retention(subscription, status_before_file_deletion="")
    strict = services.deposit_case(strict_subscription, files=etat_civil_files())
    relaxed = services.deposit_case(subscription, files=etat_civil_files())
    client.create_event(str(relaxed.id), status_event("DONE"))
    deposited = _reached(strict, "HUBEE_NOTIFIED")

    services.run_purge(now=deposited + 4 * DAY)
    assert set(_statuses(strict).values()) == {"RECEIVED"}

    services.run_purge(now=deposited + 4 * DAY + SECOND)
    assert set(_statuses(strict).values()) == {"DELETED"}
    assert set(_statuses(relaxed).values()) == {"RECEIVED"}  # no status: kept until archiving


def test_retention_settings_are_checked(subscription: Subscription) -> None:
    with pytest.raises(services.SandboxError):
        services.set_retention(subscription, time_before_purge=2)
    with pytest.raises(ValidationError):
        services.set_retention(subscription, status_before_file_deletion="PURGED")
    with pytest.raises(ValidationError):
        services.set_retention(subscription, time_before_archiving=-1)


def test_closed_cases_are_archived_then_deleted(
    subscription: Subscription, client: HubEEClient
) -> None:
    case = _closed(subscription)
    complement = services.osl_attach_deposit(case, [("ajout.pdf", "jf", "application/pdf", PDF)])
    archiving = case.close_date_time + DAY

    assert services.run_purge(now=archiving - SECOND).cases_archived == 0
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED

    result = services.run_purge(now=archiving)

    assert result.cases_archived == 1
    case.refresh_from_db()
    assert (case.status, case.archive_date_time) == (CaseStatus.ARCHIVED, archiving)
    assert _reached(case, "ARCHIVED") == archiving
    # Archived: read-only, every file deleted, the events' too.
    assert set(_statuses(case).values()) == {"DELETED"}
    assert complement.attachments.get().status == AttachmentStatus.DELETED
    assert client.get_case(str(case.id)).status == "ARCHIVED"

    deletion = archiving + 30 * DAY
    assert services.run_purge(now=deletion - SECOND).cases_deleted == 0
    assert services.run_purge(now=deletion).cases_deleted == 1

    case.refresh_from_db()
    assert case.purged
    with pytest.raises(NotFoundError) as caught:
        client.get_case(str(case.id))
    assert caught.value.hubee_message == "Case is not found"
    # Its notifications (deposit, complement, closure) are still listed, and lead to 404s.
    pending = client.list_notifications(25)
    assert [n.case_id for n in pending] == [str(case.id)] * 3
    for notification in pending[1:]:
        with pytest.raises(NotFoundError):
            client.get_event(str(case.id), str(notification.event_id))
    assert services.run_purge(now=deletion + 100 * DAY) == services.PurgeResult(
        deletion + 100 * DAY
    )


def test_one_run_days_later_does_what_the_daily_runs_would_have_done(
    subscription: Subscription, client: HubEEClient
) -> None:
    closed = _closed(subscription)
    received = services.deposit_case(subscription, files=etat_civil_files())
    client.create_event(str(received.id), status_event("SI_RECEIVED"))

    result = services.run_purge(now=timezone.now() + 31 * DAY)

    assert (result.files_deleted, result.cases_archived, result.cases_deleted) == (4, 1, 1)
    closed.refresh_from_db()
    received.refresh_from_db()
    assert closed.purged and closed.archive_date_time == closed.close_date_time + DAY
    assert not received.purged and received.status == CaseStatus.SI_RECEIVED


def test_reopened_case_is_not_archived(subscription: Subscription) -> None:
    case = _closed(subscription)
    services.osl_attach_deposit(
        case, [("ajout.pdf", "jf", "application/pdf", PDF)], case_new_status="HUBEE_NOTIFIED"
    )

    assert services.run_purge(now=timezone.now() + 5 * DAY).cases_archived == 0
    case.refresh_from_db()
    assert case.status == CaseStatus.HUBEE_NOTIFIED


# -- management command ------------------------------------------------------------------------


def test_command_runs_the_purge_days_later(subscription: Subscription) -> None:
    case = _closed(subscription)
    out = StringIO()

    call_command("hubee_sandbox_purge", "--days-later", "2", stdout=out)

    assert "2 fichier(s) supprimé(s), 1 télédossier(s) archivé(s), 0 télédossier(s)" in (
        out.getvalue()
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.ARCHIVED and not case.purged
    call_command("hubee_sandbox_purge", "--days-later", "32", stdout=StringIO())
    case.refresh_from_db()
    assert case.purged


def test_command_refuses_a_negative_clock_and_a_disabled_sandbox(
    subscription: Subscription, settings
) -> None:
    case = _closed(subscription)
    with pytest.raises(CommandError):
        call_command("hubee_sandbox_purge", "--days-later", "-1")
    settings.HUBEE_SANDBOX = False
    with pytest.raises(CommandError):
        call_command("hubee_sandbox_purge", "--days-later", "40")
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED


def test_status_history_records_who_moved_the_case(
    subscription: Subscription, client: HubEEClient
) -> None:
    case = services.deposit_case(subscription, files=etat_civil_files())
    client.create_event(str(case.id), status_event("SI_RECEIVED"))
    client.patch_case(str(case.id), "IN_PROGRESS")
    services.osl_close(case)

    assert list(case.status_changes.values_list("status", flat=True)) == [
        "HUBEE_NOTIFIED",
        "SI_RECEIVED",
        "IN_PROGRESS",
        "CLOSED",
    ]
    assert case.events.filter(transmitter_type=Party.OSL).count() == 1


# -- staff pages -------------------------------------------------------------------------------


@pytest.fixture
def staff(db: None) -> Client:
    browser = Client()
    browser.force_login(AdminFactory())
    return browser


def test_purge_page_shows_each_demarche_rules(
    staff: Client, subscription: Subscription, strict_subscription: Subscription
) -> None:
    services.set_retention(strict_subscription, time_before_folder_deletion=90)

    response = staff.get(reverse("sandbox:osl-purge-rules"))

    html = unescape(response.content.decode())
    assert response.status_code == 200
    assert "Lancer la purge de HubEE" in html
    assert "Certificat de décès électronique (CertDC)" in html
    forms = {row["object"].pk: row["form"] for row in response.context["subscriptions"]}
    assert forms[strict_subscription.pk]["time_before_folder_deletion"].value() == 90
    assert forms[subscription.pk]["status_before_file_deletion"].value() == "SI_RECEIVED"
    assert f'id="id_{subscription.pk}_time_before_archiving"' in html  # ids stay unique
    home = unescape(staff.get(reverse("sandbox:osl-home")).content.decode())
    assert "suppression 90 jours après l'archivage" in home


def test_run_the_purge_as_if_days_later_from_the_page(
    staff: Client, subscription: Subscription
) -> None:
    case = _closed(subscription)

    response = staff.post(reverse("sandbox:osl-purge-rules"), {"jours": "31"}, follow=True)

    html = unescape(response.content.decode())
    assert "2 fichier(s) supprimé(s), 1 télédossier(s) archivé(s), 1 télédossier(s)" in html
    case.refresh_from_db()
    assert case.purged and case.status == CaseStatus.ARCHIVED


def test_wrong_number_of_days_is_refused(staff: Client, subscription: Subscription) -> None:
    case = _closed(subscription)

    response = staff.post(reverse("sandbox:osl-purge-rules"), {"jours": "-3"})

    assert response.status_code == 400
    assert "supérieure ou égale à 0" in unescape(response.content.decode())
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED


def test_change_a_demarche_rules_from_the_page(
    staff: Client, subscription: Subscription, strict_subscription: Subscription
) -> None:
    url = reverse("sandbox:osl-retention", args=[strict_subscription.pk])
    values = {
        "status_before_file_deletion": "",
        "time_before_file_deletion": "0",
        "time_before_archiving": "2",
        "time_before_folder_deletion": "10",
    }

    response = staff.post(url, values)

    assert response["Location"] == reverse("sandbox:osl-purge-rules")
    strict_subscription.refresh_from_db()
    assert (
        strict_subscription.status_before_file_deletion,
        strict_subscription.time_before_archiving,
        strict_subscription.time_before_folder_deletion,
    ) == ("", 2, 10)
    subscription.refresh_from_db()
    assert subscription.time_before_archiving == 1  # the other démarche is untouched

    refused = staff.post(url, {**values, "time_before_archiving": "-1"})
    assert refused.status_code == 400
    strict_subscription.refresh_from_db()
    assert strict_subscription.time_before_archiving == 2


def test_purge_pages_are_for_staff_with_the_csrf_token(subscription: Subscription) -> None:
    case = _closed(subscription)
    retention_url = reverse("sandbox:osl-retention", args=[subscription.pk])
    agent = Client()
    agent.force_login(UserFactory(username="agent-sans-droits"))
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(AdminFactory())

    assert Client().get(reverse("sandbox:osl-purge-rules"))["Location"].startswith(reverse("login"))
    assert agent.get(reverse("sandbox:osl-purge-rules")).status_code == 403
    assert agent.post(reverse("sandbox:osl-purge-rules"), {"jours": "40"}).status_code == 403
    assert agent.post(retention_url, {"time_before_archiving": "0"}).status_code == 403
    assert strict.post(reverse("sandbox:osl-purge-rules"), {"jours": "40"}).status_code == 403
    assert strict.get(retention_url).status_code == 405

    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
