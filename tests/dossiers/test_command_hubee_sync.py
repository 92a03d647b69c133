"""`manage.py hubee_sync` never contacts HubEE for a disabled démarche, even when named."""

from __future__ import annotations

import shutil
from io import StringIO
from pathlib import Path

import pytest
import requests
from django.core.management import call_command

from demarches.models import Demarche, Organisation
from dossiers.models import Dossier
from hubee_portal.sandbox import services as sandbox
from tests.factories import OrganisationFactory

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

    monkeypatch.setattr("dossiers.exchange.inbound.sync.client_for", client_for)
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

    monkeypatch.setattr("dossiers.exchange.inbound.sync.client_for", client_for)

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
