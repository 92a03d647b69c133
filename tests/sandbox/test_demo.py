"""`manage.py hubee_demo`: the demo `make run` prepares, and what a newcomer then sees."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

import pytest
import requests
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from demarches.hubee import config_for
from demarches.models import Demarche, HubEEConnection, Organisation
from dossiers.exchange.inbound.listing import sync_demarche
from dossiers.models import Dossier
from hubee_portal.hubee import HubEEClient
from hubee_portal.sandbox import services
from hubee_portal.sandbox.content import SUPPORTED_PROCESS_CODES
from hubee_portal.sandbox.models import Attachment, Case, Subscription
from hubee_portal.sandbox.storage import attachment_path
from hubee_portal.sandbox.transport import SandboxAdapter

pytestmark = pytest.mark.django_db

BASE_URL = "http://127.0.0.1:8000"


@pytest.fixture(autouse=True)
def download_root(settings, tmp_path: Path) -> Path:
    settings.HUBEE_DOWNLOAD_ROOT = tmp_path / "telechargements"
    return settings.HUBEE_DOWNLOAD_ROOT


def run(*args: str) -> str:
    out = StringIO()
    call_command("hubee_demo", *args, stdout=out)
    return out.getvalue()


def _snapshot() -> dict[str, object]:
    return {
        "organisations": list(Organisation.objects.values_list("pk", "name", "siret")),
        "connections": list(HubEEConnection.objects.values_list("pk", "token_url", "api_url")),
        "demarches": list(
            Demarche.objects.values_list("pk", "client_id", "client_secret_encrypted", "enabled")
        ),
        "subscriptions": list(Subscription.objects.values_list("pk", "client_secret")),
        "cases": list(Case.objects.values_list("pk", flat=True)),
        "agents": sorted(Demarche.agents.through.objects.values_list("demarche_id", "user_id")),
    }


def test_first_run_prepares_the_whole_demo(download_root: Path) -> None:
    output = run("--base-url", BASE_URL, "--dossiers", "2")

    organisation = Organisation.objects.get()
    assert organisation.name == "Commune de Démoville"
    assert re.fullmatch(r"\d{14}", organisation.siret)
    connection = HubEEConnection.objects.get()
    assert (connection.name, connection.environment) == ("Bac à sable", "autre")
    assert connection.token_url == f"{BASE_URL}/sandbox/oauth2/token"
    assert connection.api_url == f"{BASE_URL}/sandbox"
    demarches = {d.process_code: d for d in Demarche.objects.all()}
    assert sorted(demarches) == sorted(SUPPORTED_PROCESS_CODES)
    for code, demarche in demarches.items():
        subscription = Subscription.objects.get(process_code=code)
        assert demarche.enabled and demarche.connection == connection
        assert (demarche.client_id, demarche.client_secret) == (
            subscription.client_id,
            subscription.client_secret,
        )
        assert Path(demarche.download_folder) == download_root / "demo" / code
        assert (subscription.si_siret, subscription.si_branch_code) == (
            organisation.siret,
            organisation.code_guichet,
        )
        for rule in ("allows_messages", "allows_add_awaiting", "allows_document_return"):
            assert getattr(subscription, rule) == getattr(demarche, rule), (code, rule)
        assert subscription.cases.count() == 2
        for case in subscription.cases.all():
            files = list(case.attachments.all())
            assert files and all(attachment_path(f.id).stat().st_size == f.size for f in files)
        # One dossier in two carries a JPEG scan, where the démarche has one (previews).
        scans = Attachment.objects.filter(
            case__subscription=subscription, mime_type="image/jpeg", type="scan"
        )
        assert scans.count() == (1 if code in ("EtatCivil", "recensementCitoyen") else 0), code
    certdc = demarches["CERTDC"]
    assert certdc.automatic_status == "IN_PROGRESS"
    assert not (certdc.allows_messages or certdc.allows_document_return)
    assert not certdc.allows_add_awaiting and certdc.final_statuses == ["DONE"]
    assert demarches["EtatCivil"].automatic_status == "SI_RECEIVED"
    assert demarches["EtatCivil"].allows_messages
    assert demarches["recensementCitoyen"].allows_document_return
    assert not demarches["EtatCivil"].allows_document_return
    # The agent, habilitated everywhere; its password shown once, and it works.
    password = re.search(r"mot de passe : (\S+)", output).group(1)
    agent = get_user_model().objects.get(username="agent")
    assert agent.check_password(password) and not agent.is_staff
    assert set(agent.demarches.all()) == set(demarches.values())
    assert "10 télédossiers déposés" in output
    assert f"{BASE_URL}/sandbox/" in output
    # The fake HubEE purges every night, run by the portal's worker like HubEE's own batch.
    from django_q.models import Schedule

    from hubee_portal.demo import seeding

    schedule = Schedule.objects.get(name=seeding.PURGE_SCHEDULE_NAME)
    assert (schedule.func, schedule.schedule_type) == (
        "hubee_portal.sandbox.services.run_purge",
        Schedule.DAILY,
    )


def test_second_run_changes_nothing_and_shows_no_password() -> None:
    run("--base-url", BASE_URL)
    before = _snapshot()

    output = run("--base-url", BASE_URL)

    assert _snapshot() == before
    assert "rien n'a changé" in output
    assert "mot de passe :" not in output
    assert "changepassword agent" in output


def test_a_new_address_moves_the_connection_and_nothing_else() -> None:
    run("--base-url", BASE_URL)
    before = _snapshot()

    output = run("--base-url", "http://127.0.0.1:9000/")

    connection = HubEEConnection.objects.get()
    assert connection.api_url == "http://127.0.0.1:9000/sandbox"
    assert "Complété : adresse de la connexion" in output
    after = _snapshot()
    assert {k: v for k, v in after.items() if k != "connections"} == {
        k: v for k, v in before.items() if k != "connections"
    }


def test_missing_parts_are_mended() -> None:
    run("--dossiers", "1")
    Demarche.objects.get(process_code="JeChangeDeCoordonnees").delete()

    output = run("--dossiers", "1")

    demarche = Demarche.objects.get(process_code="JeChangeDeCoordonnees")
    subscription = Subscription.objects.get(process_code="JeChangeDeCoordonnees")
    assert demarche.client_secret == subscription.client_secret
    assert subscription.cases.count() == 1  # its dossiers were already deposited
    assert "Complété : démarche JeChangeDeCoordonnees" in output


def test_refused_when_the_sandbox_is_off(settings) -> None:
    settings.HUBEE_SANDBOX = False

    with pytest.raises(CommandError, match="HUBEE_SANDBOX"):
        run()

    assert not Demarche.objects.exists()


def test_refused_on_an_address_no_secret_may_go_to() -> None:
    with pytest.raises(CommandError, match="n.est pas un serveur autorisé"):
        run("--base-url", "http://192.168.1.10:8000")

    assert not Demarche.objects.exists()


def test_demo_dossiers_arrive_with_each_demarches_automatic_status() -> None:
    """What `make run`'s worker does within a minute, in-process: every démarche syncs."""
    run("--base-url", BASE_URL, "--dossiers", "2")
    session = requests.Session()
    session.mount(f"{BASE_URL}/", SandboxAdapter())

    for demarche in Demarche.objects.all():
        client = HubEEClient(config_for(demarche), session=session, sleep=lambda s: None)
        outcome = sync_demarche(demarche, client=client, concurrency=1)
        assert outcome.run.status == "ok", outcome.run.message

    assert Dossier.objects.count() == 10
    expected = dict.fromkeys(SUPPORTED_PROCESS_CODES, "SI_RECEIVED") | {"CERTDC": "IN_PROGRESS"}
    for case in Case.objects.select_related("subscription"):
        seen = services.case_as_hubee_sees_it(case)
        assert seen["status"] == expected[case.subscription.process_code]
        dossier = Dossier.objects.get(hubee_case_id=case.id)
        for attachment in case.attachments.all():
            stored = dossier.pieces_jointes.get(hubee_attachment_id=attachment.id)
            assert stored.absolute_path.read_bytes() == attachment_path(attachment.id).read_bytes()
    assert all(services.pending_si_notifications(s) == 0 for s in Subscription.objects.all())
