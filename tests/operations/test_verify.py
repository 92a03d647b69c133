"""hubee_verify: a deleted and an altered file are found, a clean run is clean, results are
kept and shown to administrators only."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils.html import escape
from django_q.models import Schedule

from dossiers import tasks
from dossiers.models import IntegrityCheck, PieceJointe
from dossiers.operations import schedules
from tests.conftest import log_in
from tests.factories import UserFactory, agent_for


def run(*args) -> tuple[int, str]:
    from io import StringIO

    out = StringIO()
    try:
        call_command("hubee_verify", *args, stdout=out)
    except SystemExit as exc:
        return exc.code, out.getvalue()
    return 0, out.getvalue()


@pytest.fixture
def stored(hubee):
    demarche = hubee.demarche("EtatCivil")
    hubee.deposit(demarche)
    hubee.deposit(demarche)
    hubee.sync(demarche)
    assert PieceJointe.objects.filter(state="stored").count() == 4
    return demarche


def test_clean_run_is_clean(stored):
    code, out = run()
    assert code == 0
    check = IntegrityCheck.objects.get()
    assert (check.demarche, check.files_checked, check.missing, check.altered) == (stored, 4, 0, 0)
    assert check.details == {"missing": [], "altered": []}
    assert "4 fichier(s) vérifié(s), 0 manquant(s), 0 altéré(s)" in out


def test_finds_a_deleted_and_an_altered_file(stored):
    deleted, altered, *_ = PieceJointe.objects.order_by("pk")
    deleted.absolute_path.unlink()
    path = altered.absolute_path
    path.write_bytes(path.read_bytes() + b"x")
    code, out = run("--demarche", "EtatCivil")
    assert code == 1
    check = IntegrityCheck.objects.get()
    assert (check.files_checked, check.missing, check.altered) == (4, 1, 1)
    assert check.details == {"missing": [deleted.pk], "altered": [altered.pk]}
    assert f"pièce jointe {deleted.pk} manquante" in out
    assert f"pièce jointe {altered.pk} altérée" in out


def test_a_link_out_of_the_folder_or_a_fifo_is_altered_and_never_blocks(stored, tmp_path):
    import os

    linked, fifo, *_ = PieceJointe.objects.order_by("pk")
    outside = tmp_path / "ailleurs.pdf"
    outside.write_bytes(linked.absolute_path.read_bytes())  # same bytes, outside the folder
    linked.absolute_path.unlink()
    linked.absolute_path.symlink_to(outside)
    fifo.absolute_path.unlink()
    os.mkfifo(fifo.absolute_path)  # reading it would wait for a writer for ever
    code, _ = run()
    assert code == 1
    check = IntegrityCheck.objects.get()
    assert check.details == {"missing": [], "altered": [linked.pk, fifo.pk]}


def test_a_check_still_running_is_not_shown_as_passed(stored, client):
    from tests.factories import AdminFactory

    deleted = PieceJointe.objects.order_by("pk").first()
    deleted.absolute_path.unlink()
    run()
    IntegrityCheck.objects.create(demarche=stored)  # started, not finished (or killed)
    log_in(client, AdminFactory())
    page = client.get(reverse("home")).content.decode()
    assert "À examiner" in page


def test_select_by_id_and_unknown(stored, hubee):
    other = hubee.demarche("recensementCitoyen")
    assert run("--demarche", str(other.pk))[0] == 0
    assert list(IntegrityCheck.objects.values_list("demarche", flat=True)) == [other.pk]
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("hubee_verify", "--demarche", "Inconnue")


def test_weekly_schedule_runs_the_check(stored):
    schedules.ensure_schedule()
    schedule = Schedule.objects.get(name=schedules.VERIFY_SCHEDULE_NAME)
    assert (schedule.func, schedule.schedule_type) == ("dossiers.tasks.verify_integrity", "W")
    PieceJointe.objects.first().absolute_path.unlink()
    assert tasks.verify_integrity() == {"checked": 4, "missing": 1, "altered": 0}


def test_dashboard_shows_results_to_admins_only(stored, client, admin_user):
    PieceJointe.objects.first().absolute_path.unlink()
    run()
    log_in(client, admin_user)
    page = client.get(reverse("home")).content.decode()
    assert "Intégrité des fichiers" in page
    assert "À examiner" in page
    log_in(client, agent_for(stored))
    page = client.get(reverse("home")).content.decode()
    assert "Intégrité des fichiers" not in page


def test_an_administrateur_technique_sees_the_integrity_of_its_demarches_only(stored, client):
    PieceJointe.objects.first().absolute_path.unlink()
    run()
    log_in(client, agent_for(stored, is_staff=True))
    page = client.get(reverse("home")).content.decode()
    assert "Intégrité des fichiers" in page and "À examiner" in page
    # Without habilitation: no démarche, no check; « État du portail » shows them all.
    log_in(client, UserFactory(is_staff=True))
    page = client.get(reverse("home")).content.decode()
    assert "Intégrité des fichiers" not in page and escape(stored.name) not in page
    assert reverse("operations") in page
