"""RGPD retention: expired dossiers lose files and personal data, the others are untouched, a
dry run changes nothing, the anonymous trace and the audit log remain."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from dossiers import tasks
from dossiers.enums import AuditAction
from dossiers.models import AuditEntry, Dossier, Evenement, PieceJointe, PurgeRun
from tests.factories import (
    AdminFactory,
    DemarcheFactory,
    DossierFactory,
    EvenementFactory,
    PieceJointeFactory,
)

pytestmark = pytest.mark.django_db
NOW = timezone.now()


def dossier(demarche, status, closed_days_ago, name):
    d = DossierFactory(
        demarche=demarche,
        status=status,
        applicant_last_name=name,
        applicant_email=f"{name.lower()}@ex.fr",
        raw={"applicant": {"lastName": name}},
        partner_attributes=f"<x>{name}</x>",
        hubee_closed_at=NOW - timedelta(days=closed_days_ago) if closed_days_ago else None,
    )
    PieceJointeFactory(dossier=d, file_name=f"{name}.pdf", content=b"%PDF " + name.encode())
    EvenementFactory(dossier=d, message=f"Bonjour, {name}", raw={"message": name})
    return d


@pytest.fixture
def dossiers():
    demarche = DemarcheFactory(retention_months=12)
    old = dossier(demarche, "DONE", 400, "Ancien")
    recent = dossier(demarche, "REFUSED", 100, "Recent")
    open_ = dossier(demarche, "IN_PROGRESS", None, "Ouvert")
    # Open for long, never final: kept whatever its age.
    Dossier.objects.filter(pk=open_.pk).update(updated_at=NOW - timedelta(days=900))
    AuditEntry.objects.create(
        username="agent", action=AuditAction.VIEW, dossier=old, dossier_ref=old.external_id
    )
    return demarche, old, recent, open_


def snapshot():
    return (
        list(Dossier.objects.order_by("pk").values()),
        list(PieceJointe.objects.order_by("pk").values()),
        list(Evenement.objects.order_by("pk").values()),
    )


def test_dry_run_changes_nothing(dossiers):
    _, old, *_ = dossiers
    before = snapshot()
    files = sorted(p.name for p in old.folder.iterdir())
    out = StringIO()
    call_command("hubee_purge", "--dry-run", stdout=out)
    assert snapshot() == before
    assert sorted(p.name for p in old.folder.iterdir()) == files
    assert not PurgeRun.objects.exists()
    text = out.getvalue()
    assert f"Dossier {old.pk} " in text and "serait purgé" in text
    assert "Simulation : 1 dossier(s), 1 fichier(s)" in text


def test_expired_lose_files_and_personal_data(dossiers):
    _, old, recent, open_ = dossiers
    old_path = PieceJointe.objects.get(dossier=old).absolute_path
    external_id = old.external_id
    keep = {d.pk: d for d in Dossier.objects.exclude(pk=old.pk)}
    keep_pieces = list(PieceJointe.objects.exclude(dossier=old).values())
    call_command("hubee_purge", stdout=StringIO())

    assert not old_path.exists()
    assert not old.folder.exists()
    old.refresh_from_db()
    assert old.purged_at is not None
    assert (old.applicant_first_name, old.applicant_last_name, old.applicant_email) == ("", "", "")
    assert old.raw == {} and old.partner_attributes == ""
    assert not PieceJointe.objects.filter(dossier=old).exists()
    event = Evenement.objects.get(dossier=old)
    assert (event.message, event.raw) == ("", {})
    # The anonymous trace: hash of the external id, dates and statuses.
    assert old.external_id == hashlib.sha256(external_id.encode()).hexdigest()
    assert old.status == "DONE" and old.received_at and old.hubee_closed_at
    assert event.action_type == "SENDING_MESSAGE"
    # Others untouched, files included.
    for d in Dossier.objects.exclude(pk=old.pk):
        assert d.applicant_last_name == keep[d.pk].applicant_last_name
        assert d.purged_at is None
    assert list(PieceJointe.objects.exclude(dossier=old).values()) == keep_pieces
    for piece in PieceJointe.objects.all():
        assert piece.absolute_path.exists()
    # The audit log keeps its own period.
    assert AuditEntry.objects.filter(dossier=old).count() == 1
    run = PurgeRun.objects.get()
    assert (run.dossiers_purged, run.files_deleted) == (1, 1)
    assert run.details["dossiers"] == [old.pk]
    # A second run has nothing left to do.
    call_command("hubee_purge", stdout=StringIO())
    assert PurgeRun.objects.order_by("-pk").first().dossiers_purged == 0


def test_expiry_follows_the_demarche_retention(dossiers):
    demarche, old, recent, _ = dossiers
    demarche.retention_months = 3
    demarche.save()
    tasks.purge_expired_dossiers()
    assert set(Dossier.objects.filter(purged_at__isnull=False).values_list("pk", flat=True)) == {
        old.pk,
        recent.pk,
    }


def test_purged_dossiers_leave_the_agent_pages(dossiers, client):
    _, old, *_ = dossiers
    client.force_login(AdminFactory())
    call_command("hubee_purge", stdout=StringIO())
    assert client.get(reverse("dossiers:detail", args=[old.pk])).status_code == 404
    listed = [d.pk for d in client.get(reverse("dossiers:list")).context["page_obj"]]
    assert old.pk not in listed and len(listed) == 2


def test_retention_is_validated():
    demarche = DemarcheFactory.build(retention_months=0)
    with pytest.raises(ValidationError) as error:
        demarche.full_clean(exclude=["organisation", "connection", "download_folder"])
    assert "retention_months" in error.value.message_dict


def test_daily_schedule_and_admin_page(dossiers, client):
    demarche, *_ = dossiers
    tasks.ensure_schedule()
    schedule = Schedule.objects.get(name=tasks.PURGE_SCHEDULE_NAME)
    assert (schedule.func, schedule.schedule_type) == ("dossiers.tasks.purge_expired_dossiers", "D")
    schedule.next_run = NOW + timedelta(days=1)
    schedule.save()
    client.force_login(AdminFactory())
    page = client.get(reverse("admin:demarches_demarche_change", args=[demarche.pk]))
    text = page.content.decode()
    assert "Conservation : 12 mois après un statut final" in text
    assert f"{timezone.localtime(schedule.next_run):%d/%m/%Y à %H:%M}" in text
    assert "1 dossier(s) à purger à cette date" in text


def test_final_date_from_the_event_when_hubee_gives_none(dossiers):
    demarche, *_ = dossiers
    d = dossier(demarche, "CLOSED", None, "Evenement")
    EvenementFactory(
        dossier=d, case_new_status="CLOSED", hubee_created_at=NOW - timedelta(days=500)
    )
    with time_machine.travel(NOW, tick=False):
        tasks.purge_expired_dossiers()
    d.refresh_from_db()
    assert d.purged_at is not None
