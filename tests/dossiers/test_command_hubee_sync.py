"""`manage.py hubee_sync` never contacts HubEE for a disabled démarche, even when named."""

from __future__ import annotations

import re
import shutil
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
import requests
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from demarches.models import Demarche, Organisation
from dossiers.models import Dossier, OutgoingEvent
from dossiers.records import alerts
from hubee_portal.hubee import HubEEClient, TransientError
from hubee_portal.sandbox import services as sandbox
from tests.factories import OrganisationFactory, agent_for

pytestmark = pytest.mark.django_db

CONFIG_FIXTURES = Path(__file__).parents[1] / "demarches" / "fixtures"


def sync(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("hubee_sync", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return exc.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


@pytest.fixture
def contacted(hubee, monkeypatch) -> list[str]:
    """The names of the démarches for which a HubEE client was made (before any request)."""
    names: list[str] = []

    def client_for(demarche):
        names.append(demarche.name)
        return hubee.client(demarche)

    monkeypatch.setattr("dossiers.exchange.connection.client_for", client_for)
    return names


def named(demarche: Demarche, name: str) -> Demarche:
    Demarche.objects.filter(pk=demarche.pk).update(name=name)
    demarche.name = name
    return demarche


def two_etat_civil(hubee) -> tuple[Demarche, Demarche]:
    """The same process code in two organisations: one enabled, one switched off."""
    on = named(hubee.demarche("EtatCivil", client_id="client-mairie-a"), "Mairie A")
    other_town = OrganisationFactory(name="Commune de Grasse", siret="21060069600013")
    off = hubee.demarche("EtatCivil", client_id="client-mairie-b", organisation=other_town)
    off = named(off, "Mairie B")
    Demarche.objects.filter(pk=off.pk).update(enabled=False)
    hubee.deposit(on)
    hubee.deposit(off)
    return on, off


def test_named_code_syncs_only_the_enabled_demarche(hubee, contacted):
    on, off = two_etat_civil(hubee)

    code, out, _ = sync("--demarche", "EtatCivil")

    assert code == 0
    assert contacted == ["Mairie A"]
    assert "Mairie B (EtatCivil) : désactivée, non synchronisée" in out
    assert "Mairie A (EtatCivil) : 1 notification(s), 1 dossier(s) créé(s)" in out
    assert list(Dossier.objects.values_list("demarche__name", flat=True)) == ["Mairie A"]
    assert sandbox.pending_si_notifications(off.subscription) == 1


def test_only_disabled_demarches_named_exits_1_without_contacting_hubee(hubee, contacted):
    _, off = two_etat_civil(hubee)

    for value in (str(off.pk), "EtatCivil"):
        Demarche.objects.update(enabled=False)
        code, out, err = sync("--demarche", value)

        assert code == 1
        assert "Mairie B (EtatCivil) : désactivée, non synchronisée" in out
        assert "rien n'a été synchronisé" in err
    assert contacted == []
    assert Dossier.objects.count() == 0
    assert sandbox.pending_si_notifications(off.subscription) == 1


def test_demarche_disabled_while_another_syncs_is_not_contacted(hubee, monkeypatch):
    first = named(hubee.demarche("CERTDC"), "A - décès")
    second = named(hubee.demarche("EtatCivil"), "B - état civil")
    hubee.deposit(first)
    hubee.deposit(second)
    contacted: list[str] = []

    def client_for(demarche):
        # An administrator clicks « Désactiver » on the second while the first syncs.
        Demarche.objects.filter(pk=second.pk).update(enabled=False)
        contacted.append(demarche.name)
        return hubee.client(demarche)

    monkeypatch.setattr("dossiers.exchange.connection.client_for", client_for)

    code, out, _ = sync()

    assert code == 0
    assert contacted == ["A - décès"]
    assert Dossier.objects.get().demarche_id == first.pk
    assert "B - état civil (EtatCivil) : désactivée, non synchronisée" in out
    assert sandbox.pending_si_notifications(second.subscription) == 1


def test_imported_demarche_stays_off_until_enabled(tmp_path, monkeypatch):
    """The README promises an imported démarche stays off: its credentials never leave."""
    Organisation.objects.create(name="Commune de Testville", siret="21000000000017")
    folder = tmp_path / "ancien-script"
    shutil.copytree(CONFIG_FIXTURES / "sc1", folder)
    call_command("import_hubee_config", str(folder / "config.py"), stdout=StringIO())
    sent: list[str] = []

    def no_network(adapter, request, *args, **kwargs):
        sent.append(request.url)
        raise requests.ConnectionError("réseau coupé par le test")

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", no_network)

    code, out, _ = sync("--demarche", "EtatCivil")
    assert code == 1
    assert "EtatCivil (EtatCivil) : désactivée, non synchronisée" in out

    code, out, _ = sync()
    assert code == 0
    assert "Aucune démarche active : rien à synchroniser." in out
    assert sent == []


# -- one entry point: sync, then the outbox, then the alerts (issue 12, bug 2) -----------------


def agent_push(dossier: Dossier, status: str, *, due: bool = True) -> OutgoingEvent:
    """An agent's decision left in the outbox (the worker was down when it was taken)."""
    return OutgoingEvent.objects.create(
        dossier=dossier,
        case_new_status=status,
        author="Agent Martin",
        next_attempt_at=timezone.now() - timedelta(seconds=1) if due else None,
    )


def test_hubee_sync_by_hand_delivers_pending_pushes_and_sends_the_alerts(hubee, contacted):
    demarche = hubee.demarche(automatic_status="SI_RECEIVED")
    case = hubee.deposit(demarche)
    hubee.sync(demarche)
    dossier = Dossier.objects.get()
    push = agent_push(dossier, "DONE")
    agent = agent_for(demarche, email="immediat@mairie.fr")
    alerts.set_alert_mode(agent, "immediate")
    hubee.deposit(demarche)  # news for the agent

    code, out, _ = sync()

    assert code == 0
    push.refresh_from_db()
    assert (push.state, push.next_attempt_at) == ("sent", None)
    assert sandbox.status_pushes(case) == ["SI_RECEIVED", "DONE"]
    assert [m.to for m in mail.outbox] == [["immediat@mairie.fr"]]
    assert "1 nouveau dossier" in mail.outbox[0].subject
    assert ", 0 envoi(s) en attente, " in out


def test_the_summary_counts_the_pushes_still_pending_and_exits_0(hubee, contacted, monkeypatch):
    demarche = hubee.demarche(automatic_status="SI_RECEIVED")
    case = hubee.deposit(demarche)
    hubee.sync(demarche)
    push = agent_push(Dossier.objects.get(), "DONE")

    def down(self, *args, **kwargs):
        raise TransientError("HubEE injoignable", status_code=503)

    monkeypatch.setattr(HubEEClient, "create_event", down)
    code, out, _ = sync()

    assert code == 0  # a push waiting for its retry is not a failure of the sync
    push.refresh_from_db()
    assert (push.state, push.attempts) == ("pending", 1)
    assert push.next_attempt_at > timezone.now()  # backed off
    assert sandbox.status_pushes(case) == ["SI_RECEIVED"]
    assert re.search(
        r"^Terminé en [\d.]+ s : 1 démarche\(s\), 0 dossier\(s\) créé\(s\) \([\d.]+/s\), "
        r"0 fichier\(s\), 0 notification\(s\) en échec en attente, 1 envoi\(s\) en attente, "
        r"0 démarche\(s\) injoignable\(s\), 0 démarche\(s\) interrompue\(s\)\.$",
        out,
        re.MULTILINE,
    ), out


def test_a_push_not_due_yet_waits_for_its_time(hubee, contacted):
    demarche = hubee.demarche(automatic_status="SI_RECEIVED")
    case = hubee.deposit(demarche)
    hubee.sync(demarche)
    push = agent_push(Dossier.objects.get(), "DONE")
    later = timezone.now() + timedelta(minutes=2)
    OutgoingEvent.objects.filter(pk=push.pk).update(next_attempt_at=later)

    code, out, _ = sync()

    assert code == 0
    push.refresh_from_db()
    assert (push.state, push.attempts, push.next_attempt_at) == ("pending", 0, later)
    assert sandbox.status_pushes(case) == ["SI_RECEIVED"]
    assert ", 1 envoi(s) en attente, " in out


def test_exit_codes(hubee, contacted, monkeypatch):
    demarche = hubee.demarche()
    hubee.deposit(demarche)
    assert sync()[0] == 0  # everything handled

    hubee.deposit(demarche)
    with monkeypatch.context() as patch:

        def down(self, case_id):
            raise TransientError("HubEE injoignable", status_code=503)

        patch.setattr(HubEEClient, "get_case", down)
        code, out, _ = sync()
    assert code == 1  # a notification failed: left for the next run
    assert "1 notification(s) en échec en attente" in out

    Demarche.objects.filter(pk=demarche.pk).update(client_secret_encrypted="")
    broken = hubee.demarche("recensementCitoyen", real_secret="mauvais-secret")
    hubee.deposit(broken)
    code, out, _ = sync()
    assert code == 2  # a démarche could not connect
    assert "1 démarche(s) injoignable(s)" in out
