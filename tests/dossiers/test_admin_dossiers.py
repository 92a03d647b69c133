"""The admin of received data: an administrateur technique given a view permission sees only
the dossiers of the démarches they are habilitated on, like on the agent pages."""

import pytest
from django.urls import reverse
from django.utils import timezone

from dossiers.enums import AuditAction, FailureKind
from dossiers.models import AuditEntry, Dossier, NotificationFailure, OutgoingEvent
from dossiers.records import audit
from tests.conftest import log_in
from tests.factories import DemarcheFactory, DossierFactory, staff_with

pytestmark = pytest.mark.django_db

VIEW_DATA = (
    "dossiers.view_dossier",
    "dossiers.view_outgoingevent",
    "dossiers.view_auditentry",
)


@pytest.fixture
def two_demarches():
    a = DemarcheFactory(name="Actes A")
    b = DemarcheFactory(name="Recensement B")
    mine = DossierFactory(demarche=a, applicant_last_name="Visible")
    other = DossierFactory(demarche=b, applicant_last_name="Secret")
    for dossier in (mine, other):
        OutgoingEvent.objects.create(
            dossier=dossier, message=f"Bonjour {dossier.applicant_last_name}", author="x"
        )
        audit.record(None, AuditAction.VIEW, dossier=dossier)
    return a, b, mine, other


def admin_page(client, name, *args) -> str:
    response = client.get(reverse(f"admin:dossiers_{name}", args=args))
    assert response.status_code == 200, name
    return response.content.decode()


def test_view_permissions_show_only_the_habilitated_demarches(client, two_demarches):
    a, _, mine, other = two_demarches
    staff = staff_with(*VIEW_DATA)
    a.agents.add(staff)
    log_in(client, staff)

    dossiers = admin_page(client, "dossier_changelist")
    assert mine.external_id in dossiers
    assert other.external_id not in dossiers
    outgoing = admin_page(client, "outgoingevent_changelist")
    assert mine.external_id in outgoing and other.external_id not in outgoing
    entries = admin_page(client, "auditentry_changelist")
    assert mine.external_id in entries and other.external_id not in entries

    # Reached by their address, B's rows are "not found" (a redirect to the admin's index).
    for name, pk in [
        ("dossier_change", other.pk),
        ("outgoingevent_change", other.envois.get().pk),
        ("auditentry_change", AuditEntry.objects.get(dossier=other).pk),
        ("dossier_history", other.pk),
    ]:
        response = client.get(reverse(f"admin:dossiers_{name}", args=[pk]))
        assert response.status_code == 302, name
        assert "Secret" not in response.content.decode()


def test_a_supervisor_sees_every_demarche_in_the_admin(client, two_demarches):
    _, _, mine, other = two_demarches
    # An entry whose dossier was deleted since keeps only the number.
    AuditEntry.objects.create(username="x", action=AuditAction.VIEW, dossier_ref="DILA-EFFACE")
    log_in(client, staff_with(*VIEW_DATA, "dossiers.view_all_dossiers"))
    dossiers = admin_page(client, "dossier_changelist")
    assert mine.external_id in dossiers and other.external_id in dossiers
    assert "Secret" in admin_page(client, "dossier_change", other.pk)
    entries = admin_page(client, "auditentry_changelist")
    assert other.external_id in entries and "DILA-EFFACE" in entries


def test_audit_entries_without_a_dossier_are_seen_by_any_holder_of_the_view(client):
    dossier = DossierFactory()
    audit.record(None, AuditAction.EXPORT, detail="statut=DONE")
    AuditEntry.objects.create(username="x", action=AuditAction.VIEW, dossier_ref="DILA-EFFACE")
    audit.record(None, AuditAction.VIEW, dossier=dossier)
    log_in(client, staff_with("dossiers.view_auditentry"))
    entries = admin_page(client, "auditentry_changelist")
    assert "statut=DONE" in entries
    assert "DILA-EFFACE" not in entries and dossier.external_id not in entries


def test_a_purged_dossier_stays_in_its_demarche_for_the_audit(client):
    dossier = DossierFactory()
    audit.record(None, AuditAction.VIEW, dossier=dossier)
    Dossier.objects.filter(pk=dossier.pk).update(purged_at=timezone.now())
    staff = staff_with("dossiers.view_auditentry", "dossiers.view_dossier")
    dossier.demarche.agents.add(staff)
    log_in(client, staff)
    assert dossier.external_id in admin_page(client, "auditentry_changelist")
    assert dossier.external_id in admin_page(client, "dossier_changelist")


# -- notifications en échec: acknowledging is its own permission ----------------------------


@pytest.fixture
def given_up():
    return NotificationFailure.objects.create(
        demarche=DemarcheFactory(),
        notification_id="00000000-0000-0000-0000-000000000002",
        kind=FailureKind.NOT_FOUND,
        error="404",
        given_up=True,
    )


def test_the_acknowledge_permission_offers_and_runs_the_action(client, given_up):
    log_in(
        client,
        staff_with("dossiers.view_notificationfailure", "dossiers.acknowledge_notificationfailure"),
    )
    changelist = reverse("admin:dossiers_notificationfailure_changelist")
    assert 'value="acknowledge"' in admin_page(client, "notificationfailure_changelist")
    response = client.post(
        changelist, {"action": "acknowledge", "_selected_action": [given_up.pk]}, follow=True
    )
    assert "1 notification(s) acquittée(s)." in response.content.decode()
    given_up.refresh_from_db()
    assert given_up.resolved_at is not None


def test_the_failure_form_stays_read_only_even_for_a_superuser(admin_client, given_up):
    url = reverse("admin:dossiers_notificationfailure_change", args=[given_up.pk])
    page = admin_client.get(url).content.decode()
    assert 'name="_save"' not in page and 'name="error"' not in page
    admin_client.post(url, {"error": "effacé", "given_up": ""})
    given_up.refresh_from_db()
    assert given_up.error == "404" and given_up.given_up
