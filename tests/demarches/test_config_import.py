"""`manage.py import_hubee_config`: the official DINUM script's configuration in one step."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from demarches import validators
from demarches.config_import import ConfigFormat, load_config
from demarches.models import Demarche, HubEEConnection, Organisation
from hubee_portal import APPLICATION_NAME, __version__

FIXTURES = Path(__file__).parent / "fixtures"
SIRET = "21000000000017"
OTHER_SIRET = "21000000000025"

SC1_SECRETS = ["S3cr3t-sc1-certdc-7f3a9c", "S3cr3t-sc1-etatcivil-2b8e1d"]
ALL_FIXTURE_SECRETS = [
    *SC1_SECRETS,
    "S3cr3t-v1-certdc-41c7e0",
    "S3cr3t-v1-etatcivil-93d2aa",
    "S3cr3t-statuts-certdc-5e6f70",
    "S3cr3t-statuts-etatcivil-0a1b2c",
    "S3cr3t-v2-certdc-c4d5e6",
    "S3cr3t-v2-recensement-f7a8b9",
]


def install(tmp_path: Path, fixture: str, replace: dict[str, str] | None = None) -> Path:
    """Copy a fixture into a folder of its own, like the script's folder on a server."""
    source = next((FIXTURES / fixture).iterdir())
    folder = tmp_path / "ancien-script"
    folder.mkdir(exist_ok=True)
    text = source.read_text(encoding="utf-8")
    # Absolute download paths of the fixtures must stay inside the test's folder.
    text = text.replace('"/srv/hubee/', f'"{tmp_path}/srv/hubee/')
    for old, new in (replace or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    target = folder / source.name
    target.write_text(text, encoding="utf-8")
    return target


def write(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "ancien-script"
    folder.mkdir(exist_ok=True)
    target = folder / name
    target.write_text(text, encoding="utf-8")
    return target


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_hubee_config", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def run_failing(*args: str) -> str:
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command("import_hubee_config", *args, stdout=out, stderr=err)
    return "\n".join([str(excinfo.value), out.getvalue(), err.getvalue()])


def assert_nothing_imported() -> None:
    assert Demarche.objects.count() == 0
    assert HubEEConnection.objects.count() == 0


@pytest.fixture
def organisation(db) -> Organisation:
    return Organisation.objects.create(name="Commune de Testville", siret=SIRET)


# --- the three formats --------------------------------------------------------------------


@pytest.mark.django_db
def test_import_config_py_of_the_official_script(tmp_path, organisation):
    path = install(tmp_path, "sc1")

    out, _ = run(str(path))

    connection = HubEEConnection.objects.get()
    assert connection.environment == "preproduction"
    assert connection.token_url == "https://auth.bas.hubee.numerique.gouv.fr/oauth2/token"
    assert connection.api_url == "https://api.bas.hubee.numerique.gouv.fr"
    assert connection.editor_name == "COMMUNE DE TESTVILLE"
    assert connection.application_name == "serveur_SI"
    assert connection.software_version == "1.0.1"
    assert connection.batch_size == 20
    assert connection.http_retries == 3

    demarches = {d.process_code: d for d in Demarche.objects.all()}
    assert set(demarches) == {"CERTDC", "EtatCivil"}
    etat_civil = demarches["EtatCivil"]
    assert etat_civil.name == "EtatCivil"
    assert etat_civil.organisation == organisation
    assert etat_civil.connection == connection
    assert etat_civil.client_id == "fake-sc1-etatcivil-client-id"
    assert etat_civil.client_secret == "S3cr3t-sc1-etatcivil-2b8e1d"
    assert "S3cr3t" not in etat_civil.client_secret_encrypted
    expected_folder = path.parent / "data" / "file" / "download" / "EtatCivil"
    assert etat_civil.download_folder == str(expected_folder)
    assert expected_folder.is_dir()
    assert etat_civil.automatic_status == "IN_PROGRESS"
    assert etat_civil.final_statuses == ["DONE", "REFUSED"]
    assert etat_civil.automatic_final_status == ""
    assert etat_civil.enabled is False
    assert "config.py du script officiel" in out
    assert str(expected_folder) in out


@pytest.mark.django_db
def test_import_oldest_config_py_layout(tmp_path, organisation):
    """Older copies: `nombreDeNotifications`, a `credentials` list and `demarcheName`."""
    path = install(
        tmp_path,
        "sc1",
        {
            "'notificationMax': 20": "'nombreDeNotifications': '15'",
            "'demarches' :[": "'credentials' :[",
            "'demarcheNom':'CERTDC'": "'demarcheName':'CERTDC'",
            "'demarcheNom':'EtatCivil'": "'demarcheName':'EtatCivil'",
        },
    )

    run(str(path))

    assert HubEEConnection.objects.get().batch_size == 15
    assert set(Demarche.objects.values_list("process_code", flat=True)) == {"CERTDC", "EtatCivil"}


@pytest.mark.django_db
def test_import_first_toml_version(tmp_path, organisation):
    path = install(tmp_path, "toml_v1")

    out, _ = run(str(path))

    connection = HubEEConnection.objects.get()
    assert connection.environment == "recette"
    assert connection.token_url == "https://auth.basrec.hubee.numerique.gouv.fr/oauth2/token"
    assert connection.api_url == "https://api.basrec.hubee.numerique.gouv.fr"
    assert connection.editor_name == "COMMUNE DE TESTVILLE"
    assert connection.batch_size == 10
    assert connection.http_retries == 2
    certdc = Demarche.objects.get(process_code="CERTDC")
    assert certdc.client_id == "fake-v1-certdc-client-id"
    assert certdc.client_secret == "S3cr3t-v1-certdc-41c7e0"
    assert certdc.download_folder == str(path.parent / "data/file/download/CERTDC")
    assert certdc.automatic_status == "SI_RECEIVED"
    assert certdc.final_statuses == ["DONE", "REFUSED"]
    assert certdc.automatic_final_status == ""
    assert certdc.enabled is False
    assert "premières versions TOML" in out


@pytest.mark.django_db
def test_import_toml_v2(tmp_path, organisation):
    path = install(tmp_path, "toml_v2")

    out, _ = run(str(path))

    connection = HubEEConnection.objects.get()
    assert connection.environment == "production"
    assert connection.token_url == "https://auth.hubee.numerique.gouv.fr/oauth2/token"
    assert connection.api_url == "https://api.hubee.numerique.gouv.fr"
    assert connection.batch_size == 30
    assert connection.http_retries == 4
    recensement = Demarche.objects.get(process_code="recensementCitoyen")
    assert recensement.client_secret == "S3cr3t-v2-recensement-f7a8b9"
    assert recensement.download_folder == str(tmp_path / "srv/hubee/recensement")
    assert recensement.automatic_status == "SENT"
    assert recensement.allow_refused is True
    assert recensement.automatic_final_status == ""
    assert recensement.enabled is False
    certdc = Demarche.objects.get(process_code="CERTDC")
    assert certdc.download_folder == str(path.parent / "downloads/CERTDC")
    assert certdc.automatic_status == "IN_PROGRESS"
    assert "v2.0.0" in out


@pytest.mark.django_db
def test_per_demarche_statuses_override_global_ones(tmp_path, organisation):
    path = install(tmp_path, "toml_v1_statuts")

    out, _ = run(str(path))

    certdc = Demarche.objects.get(process_code="CERTDC")
    etat_civil = Demarche.objects.get(process_code="EtatCivil")
    assert certdc.automatic_status == "IN_PROGRESS"  # global statut_minimal
    assert etat_civil.automatic_status == "SI_RECEIVED"  # its own statut_minimal
    assert "statut à la réception : IN_PROGRESS (statut_minimal)" in out
    assert "statut à la réception : SI_RECEIVED (demarches[2].statut_minimal)" in out
    assert "REFUSED (demarches[2].statut_maximal)" in out


# --- re-import, dry run, paths ------------------------------------------------------------


@pytest.mark.django_db
def test_reimport_updates_the_same_demarches(tmp_path, organisation):
    path = install(tmp_path, "sc1")
    run(str(path))
    etat_civil = Demarche.objects.get(process_code="EtatCivil")
    etat_civil.name = "État civil (nom choisi par l'admin)"
    etat_civil.save()
    connection_pk = HubEEConnection.objects.get().pk

    new_folder = tmp_path / "nouveau" / "EtatCivil"
    path.write_text(
        path.read_text()
        .replace("S3cr3t-sc1-etatcivil-2b8e1d", "S3cr3tNew-sc1-etatcivil-77aa")
        .replace("'data/file/download/EtatCivil/'", f"'{new_folder}'")
    )
    out, _ = run(str(path))

    assert Demarche.objects.count() == 2
    assert HubEEConnection.objects.count() == 1
    assert HubEEConnection.objects.get().pk == connection_pk
    updated = Demarche.objects.get(client_id="fake-sc1-etatcivil-client-id")
    assert updated.pk == etat_civil.pk
    assert updated.client_secret == "S3cr3tNew-sc1-etatcivil-77aa"
    assert updated.download_folder == str(new_folder)
    assert updated.name == "État civil (nom choisi par l'admin)"
    assert "EtatCivil (demarches[2]) — mise à jour" in out
    assert "secret client remplacé" in out
    assert "S3cr3tNew-sc1-etatcivil-77aa" not in out


@pytest.mark.django_db
def test_reimport_allows_the_maximal_status_and_keeps_enabled_flag(tmp_path, organisation):
    path = install(tmp_path, "toml_v1_statuts")
    run(str(path))
    Demarche.objects.filter(process_code="EtatCivil").update(allow_refused=False, enabled=True)
    Demarche.objects.filter(process_code="CERTDC").update(allow_refused=False)

    out, _ = run(str(path))

    etat_civil = Demarche.objects.get(process_code="EtatCivil")
    assert etat_civil.allow_refused is True  # its statut_maximal is REFUSED
    assert etat_civil.enabled is True  # kept: no --enable, no disabling either
    certdc = Demarche.objects.get(process_code="CERTDC")
    assert certdc.allow_refused is False  # its maximal status is DONE: left as the admin set it
    assert certdc.enabled is False
    assert "statut final REFUSED désormais autorisé" in out


def forbid_folder_writes(monkeypatch) -> list[str]:
    """Record every folder creation and probe file (none may happen in a dry run)."""
    writes: list[str] = []
    real_mkdir = os.mkdir

    def mkdir(path, *args, **kwargs):
        writes.append(f"mkdir {path}")
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", mkdir)
    monkeypatch.setattr(
        validators, "write_probe_file", lambda folder: writes.append(f"probe {folder}")
    )
    return writes


@pytest.mark.django_db
def test_dry_run_writes_nothing_and_reports(tmp_path, monkeypatch):
    path = install(tmp_path, "toml_v2")
    writes = forbid_folder_writes(monkeypatch)

    out, _ = run(str(path), "--organisation", SIRET, "--dry-run")

    assert Organisation.objects.count() == 0
    assert_nothing_imported()
    assert "SIMULATION" in out
    assert "rien n'a été enregistré" in out
    assert "serait créée" in out
    assert "CERTDC (demarches[1]) — serait créée" in out
    assert "recensementCitoyen (demarches[2]) — serait créée" in out
    assert str(path.parent / "downloads" / "CERTDC") in out
    assert f"serait créé (vérifié sans rien écrire : {path.parent} accessible en écriture)" in out
    assert f"serait créé (vérifié sans rien écrire : {tmp_path} accessible en écriture)" in out
    assert writes == []
    assert not (path.parent / "downloads").exists()
    assert not (tmp_path / "srv").exists()


@pytest.mark.django_db
def test_dry_run_leaves_an_existing_folder_untouched(tmp_path, organisation, monkeypatch):
    path = install(tmp_path, "sc1")
    folder = path.parent / "data" / "file" / "download" / "EtatCivil"
    folder.mkdir(parents=True)
    writes = forbid_folder_writes(monkeypatch)

    out, _ = run(str(path), "--dry-run")

    assert writes == []
    assert list(folder.iterdir()) == []
    assert "résolu depuis le dossier du fichier) — existant, accessible en écriture" in out
    assert_nothing_imported()


@pytest.mark.django_db
def test_dry_run_reports_a_folder_that_cannot_be_created(tmp_path, organisation, monkeypatch):
    path = install(tmp_path, "sc1")
    (path.parent / "data").write_text("un fichier, pas un dossier")
    writes = forbid_folder_writes(monkeypatch)

    message = run_failing(str(path), "--dry-run")

    assert writes == []
    assert "demarches[1].dossierDeTelechargement (démarche « CERTDC »)" in message
    assert "ne peut pas être créé" in message
    assert f"« {path.parent / 'data'} » n'est pas un dossier" in message
    assert_nothing_imported()


@pytest.mark.django_db
def test_relative_paths_are_resolved_against_the_config_folder(tmp_path, organisation, monkeypatch):
    path = install(tmp_path, "toml_v1")
    elsewhere = tmp_path / "ailleurs"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    out, _ = run(str(path))

    expected = path.parent / "data" / "file" / "download" / "EtatCivil"
    assert Demarche.objects.get(process_code="EtatCivil").download_folder == str(expected)
    assert expected.is_dir()
    assert not (elsewhere / "data").exists()
    assert f"{expected} (chemin relatif « data/file/download/EtatCivil/ »" in out


@pytest.mark.django_db
def test_relative_config_path_is_resolved_too(tmp_path, organisation, monkeypatch):
    path = install(tmp_path, "toml_v1")
    monkeypatch.chdir(tmp_path)

    run(str(path.relative_to(tmp_path)))

    assert Demarche.objects.get(process_code="CERTDC").download_folder == str(
        path.parent / "data/file/download/CERTDC"
    )


# --- broken files import nothing and name the field ---------------------------------------


@pytest.mark.django_db
def test_python_syntax_error_imports_nothing(tmp_path, organisation):
    path = install(tmp_path, "sc1", {"'NombreRetry': 3,": "'NombreRetry': 3,,"})

    message = run_failing(str(path))

    assert_nothing_imported()
    assert "erreur de syntaxe Python (ligne 13" in message
    assert str(path) in message
    assert "rien n'a été importé" in message


@pytest.mark.django_db
def test_toml_syntax_error_imports_nothing(tmp_path, organisation):
    path = install(tmp_path, "toml_v2", {"retry_nb = 4": "retry_nb = = 4"})

    message = run_failing(str(path))

    assert_nothing_imported()
    assert "syntaxe TOML invalide" in message
    assert "line 2" in message
    assert "config.toml" in message


@pytest.mark.django_db
def test_missing_secret_in_second_demarche_imports_nothing(tmp_path, organisation):
    path = install(tmp_path, "sc1", {"'clientSecret':'S3cr3t-sc1-etatcivil-2b8e1d',": ""})

    message = run_failing(str(path))

    assert_nothing_imported()
    assert "config.py, demarches[2].clientSecret (démarche « EtatCivil ») : valeur manquante" in (
        message
    )


@pytest.mark.django_db
def test_empty_secret_in_toml_is_missing(tmp_path, organisation):
    path = install(
        tmp_path,
        "toml_v2",
        {'client_secret = "S3cr3t-v2-recensement-f7a8b9"': 'client_secret = ""'},
    )

    message = run_failing(str(path))

    assert_nothing_imported()
    assert "demarches[2].client_secret (démarche « recensementCitoyen ») : valeur manquante" in (
        message
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fixture", "replace", "field"),
    [
        ("sc1", {"'statusMinimal':'IN_PROGRESS'": "'statusMinimal':'PENDING'"}, "statusMinimal"),
        ("sc1", {"'statusMaximal':'DONE'": "'statusMaximal':'CLOSED'"}, "statusMaximal"),
        (
            "toml_v2",
            {'max_status = "REFUSED"': 'max_status = "ARCHIVED"'},
            "demarches[2].max_status (démarche « recensementCitoyen »)",
        ),
    ],
)
def test_unknown_status_imports_nothing(tmp_path, organisation, fixture, replace, field):
    path = install(tmp_path, fixture, replace)

    message = run_failing(str(path))

    assert_nothing_imported()
    assert f"{field} : statut «" in message
    assert "valeurs possibles" in message


@pytest.mark.django_db
def test_unwritable_folder_imports_nothing(tmp_path, organisation, monkeypatch):
    path = install(tmp_path, "sc1")
    real_probe = validators.write_probe_file

    def probe(folder: Path) -> None:
        if folder.name == "EtatCivil":
            raise PermissionError(13, "Permission non accordée")
        real_probe(folder)

    monkeypatch.setattr(validators, "write_probe_file", probe)

    message = run_failing(str(path))

    assert_nothing_imported()
    assert (
        "demarches[2].dossierDeTelechargement (démarche « EtatCivil ») : Impossible d'écrire"
        in (message)
    )
    assert "Permission non accordée" in message
    # The folders created by the validation were removed with the rollback.
    assert not (path.parent / "data").exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "expression",
    [
        "os.environ['HUBEE_SECRET']",
        "open({marker!r}, 'w').write('exécuté')",
        "__import__('pathlib').Path({marker!r}).touch()",
    ],
)
def test_non_literal_config_py_is_rejected_and_never_executed(tmp_path, organisation, expression):
    marker = tmp_path / "le-fichier-a-ete-execute"
    text = (FIXTURES / "sc1" / "config.py").read_text()
    text = text.replace("'S3cr3t-sc1-etatcivil-2b8e1d'", expression.format(marker=str(marker)))
    text = f"import os\nopen({str(marker)!r}, 'w').write('exécuté')\n" + text
    path = write(tmp_path, "config.py", text)

    message = run_failing(str(path))

    assert not marker.exists()
    assert_nothing_imported()
    assert "demarches[2].clientSecret (ligne" in message
    assert "valeur non littérale" in message


@pytest.mark.django_db
def test_acteur_type_must_be_si(tmp_path, organisation):
    path = install(tmp_path, "sc1", {"'acteurType':'SI'": "'acteurType':'OSL'"})

    message = run_failing(str(path))

    assert_nothing_imported()
    assert "acteurType : « OSL »" in message


@pytest.mark.django_db
def test_out_of_range_batch_size_is_rejected(tmp_path, organisation):
    path = install(tmp_path, "toml_v2", {"max_notifications = 30": "max_notifications = 1000"})

    message = run_failing(str(path))

    assert_nothing_imported()
    assert (
        "max_notifications : le nombre de notifications par lot doit être compris entre 1 et 500"
        in (message)
    )


@pytest.mark.django_db
def test_invalid_url_is_reported_with_the_file_key(tmp_path, organisation):
    path = install(
        tmp_path,
        "toml_v2",
        {
            'token_url = "https://auth.hubee.numerique.gouv.fr/oauth2/token"': (
                'token_url = "pas une url"'
            )
        },
    )

    message = run_failing(str(path))

    assert_nothing_imported()
    assert "environnement.token_url :" in message


# --- identification header, statuses, enabling, organisation -----------------------------


@pytest.mark.django_db
def test_script_application_name_is_replaced_and_said(tmp_path, organisation):
    path = install(tmp_path, "toml_v2")

    out, _ = run(str(path))

    connection = HubEEConnection.objects.get()
    assert connection.application_name == APPLICATION_NAME
    assert connection.software_version == __version__
    assert "script_HUBEE_DINUM 2.0.0" in out
    assert f"remplacé par celui du portail (« {APPLICATION_NAME} {__version__} »)" in out


@pytest.mark.django_db
def test_other_application_name_is_kept_and_not_announced(tmp_path, organisation):
    path = install(tmp_path, "sc1")

    out, _ = run(str(path))

    assert HubEEConnection.objects.get().application_name == "serveur_SI"
    assert "est remplacé" not in out


@pytest.mark.django_db
def test_maximal_status_is_not_automatic_by_default(tmp_path, organisation):
    path = install(tmp_path, "toml_v1_statuts")

    out, _ = run(str(path))

    assert set(Demarche.objects.values_list("automatic_final_status", flat=True)) == {""}
    assert "statut final automatique : aucun — REFUSED" in out
    assert "un agent clôt chaque dossier" in out


@pytest.mark.django_db
def test_keep_automatic_final(tmp_path, organisation):
    path = install(tmp_path, "toml_v1_statuts")

    out, _ = run(str(path), "--keep-automatic-final")

    assert Demarche.objects.get(process_code="CERTDC").automatic_final_status == "DONE"
    etat_civil = Demarche.objects.get(process_code="EtatCivil")
    assert etat_civil.automatic_final_status == "REFUSED"
    assert "REFUSED" in etat_civil.final_statuses
    assert "--keep-automatic-final" in out
    assert "comme le faisait le script" in out


@pytest.mark.django_db
def test_new_demarches_start_disabled_and_summary_says_so(tmp_path, organisation):
    path = install(tmp_path, "sc1")

    out, _ = run(str(path))

    assert not Demarche.objects.filter(enabled=True).exists()
    assert "état : désactivée" in out
    assert "« Tester la connexion »" in out
    assert "ARRÊTEZ D'ABORD LE CRON DE L'ANCIEN SCRIPT" in out


@pytest.mark.django_db
def test_enable(tmp_path, organisation):
    path = install(tmp_path, "sc1")

    out, _ = run(str(path), "--enable")

    assert Demarche.objects.filter(enabled=True).count() == 2
    assert "état : active" in out
    assert "ARRÊTEZ D'ABORD LE CRON DE L'ANCIEN SCRIPT" in out


@pytest.mark.django_db
def test_enable_on_reimport_enables_a_disabled_demarche(tmp_path, organisation):
    path = install(tmp_path, "sc1")
    run(str(path))
    run(str(path))
    assert not Demarche.objects.filter(enabled=True).exists()

    out, _ = run(str(path), "--enable")

    assert Demarche.objects.filter(enabled=True).count() == 2
    assert "modifié : activée" in out


@pytest.mark.django_db
def test_organisation_option_creates_the_organisation(tmp_path):
    path = install(tmp_path, "sc1")

    out, _ = run(str(path), "--organisation", SIRET)

    organisation = Organisation.objects.get()
    assert organisation.siret == SIRET
    assert organisation.name == "COMMUNE DE TESTVILLE"
    assert {d.organisation for d in Demarche.objects.all()} == {organisation}
    assert f"COMMUNE DE TESTVILLE ({SIRET}) — créée (nom tiré de header.editorName)" in out


@pytest.mark.django_db
def test_organisation_option_chooses_among_several(tmp_path, organisation):
    other = Organisation.objects.create(name="Autre commune", siret=OTHER_SIRET)
    path = install(tmp_path, "sc1")

    run(str(path), "--organisation", OTHER_SIRET)

    assert Organisation.objects.count() == 2
    assert set(Demarche.objects.values_list("organisation", flat=True)) == {other.pk}


@pytest.mark.django_db
def test_organisation_is_required_when_ambiguous(tmp_path, organisation):
    Organisation.objects.create(name="Autre commune", siret=OTHER_SIRET)
    path = install(tmp_path, "sc1")

    message = run_failing(str(path))

    assert_nothing_imported()
    assert "--organisation" in message
    assert "plusieurs organisations" in message


@pytest.mark.django_db
def test_organisation_is_required_when_there_is_none(tmp_path):
    path = install(tmp_path, "sc1")

    message = run_failing(str(path))

    assert_nothing_imported()
    assert "aucune organisation" in message


@pytest.mark.django_db
def test_invalid_siret_is_rejected(tmp_path):
    path = install(tmp_path, "sc1")

    message = run_failing(str(path), "--organisation", "123")

    assert Organisation.objects.count() == 0
    assert "--organisation « 123 » : Le SIRET doit comporter exactement 14 chiffres." in message


@pytest.mark.django_db
def test_connection_is_reused_across_imports_with_same_urls(tmp_path, organisation):
    run(str(install(tmp_path, "toml_v1_statuts")))
    other = tmp_path / "autre"
    other.mkdir()
    second = other / "config.toml"
    second.write_text(
        (FIXTURES / "toml_v1_statuts" / "config.toml")
        .read_text()
        .replace("fake-statuts-certdc-client-id", "fake-second-client-id")
        .replace('demarche_nom = "CERTDC"', 'demarche_nom = "AEC"')
        .replace("fake-statuts-etatcivil-client-id", "fake-third-client-id")
        .replace('demarche_nom = "EtatCivil"', 'demarche_nom = "JCC"')
    )

    out, _ = run(str(second))

    assert HubEEConnection.objects.count() == 1
    assert Demarche.objects.count() == 4
    assert "réutilisée" in out


@pytest.mark.django_db
def test_client_id_of_another_organisation_is_refused(tmp_path, organisation):
    Organisation.objects.create(name="Autre commune", siret=OTHER_SIRET)
    path = install(tmp_path, "sc1")
    run(str(path), "--organisation", SIRET)

    message = run_failing(str(path), "--organisation", OTHER_SIRET)

    assert Demarche.objects.filter(organisation__siret=OTHER_SIRET).count() == 0
    assert "demarches[1].clientId (démarche « CERTDC ») : cet identifiant client est déjà" in (
        message
    )


# --- secrets ------------------------------------------------------------------------------


def _assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in ALL_FIXTURE_SECRETS:
            assert secret not in text
            # Not even partially.
            assert secret[-12:] not in text
            assert secret[:20] not in text


@pytest.mark.django_db
@pytest.mark.parametrize("fixture", ["sc1", "toml_v1", "toml_v1_statuts", "toml_v2"])
@pytest.mark.parametrize("extra", [[], ["--dry-run"], ["--enable", "--keep-automatic-final"]])
def test_secrets_never_printed_nor_logged(tmp_path, organisation, caplog, fixture, extra):
    caplog.set_level(logging.DEBUG)
    path = install(tmp_path, fixture)

    out, err = run(str(path), *extra)
    out2, err2 = run(str(path), *extra)  # re-import: the "updated" summary too

    _assert_no_secret(out, err, out2, err2, caplog.text)
    assert "secret client enregistré chiffré, jamais affiché" in out


@pytest.mark.django_db
@pytest.mark.parametrize(
    "replace",
    [
        # A status error in a démarche that has a secret.
        {"'statusMaximal':'DONE'": "'statusMaximal':'S3cr3t-sc1-etatcivil-2b8e1d'"},
        # A syntax error on the line of the secret.
        {
            "'clientSecret':'S3cr3t-sc1-etatcivil-2b8e1d',": (
                "'clientSecret':'S3cr3t-sc1-etatcivil-2b8e1d' 'x':,"
            )
        },
        # A secret that is not a string.
        {"'clientSecret':'S3cr3t-sc1-certdc-7f3a9c',": "'clientSecret':7734,"},
        # The organisation's démarche name pushed past its limits while the secret is known.
        {"'demarcheNom':'EtatCivil'": "'demarcheNom':'" + "E" * 40 + "'"},
    ],
)
def test_secrets_never_in_error_messages(tmp_path, organisation, caplog, replace):
    caplog.set_level(logging.DEBUG)
    path = install(tmp_path, "sc1", replace)

    message = run_failing(str(path))

    assert_nothing_imported()
    _assert_no_secret(message, caplog.text)


def test_missing_file_exits_with_an_error_code(tmp_path):
    """Through manage.py, a CommandError is a non-zero exit with the French message."""
    missing = tmp_path / "config.toml"
    result = subprocess.run(
        [sys.executable, "manage.py", "import_hubee_config", str(missing)],
        cwd=settings.BASE_DIR,
        env={"DJANGO_SETTINGS_MODULE": "tests.settings", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert "Fichier de configuration introuvable" in result.stderr


# --- values copied from the official templates, duplicates, names -------------------------


@pytest.mark.django_db
def test_template_editor_name_is_not_used_as_organisation_name(tmp_path):
    path = install(
        tmp_path, "sc1", {"'editorName':'COMMUNE DE TESTVILLE'": "'editorName':'SI_XYZ'"}
    )

    out, _ = run(str(path), "--organisation", SIRET)

    assert Organisation.objects.get().name == f"Organisation {SIRET}"
    assert "header.editorName vaut « SI_XYZ », la valeur d'exemple du script" in out


@pytest.mark.django_db
def test_template_credentials_are_rejected(tmp_path, organisation):
    path = install(
        tmp_path,
        "toml_v1",
        {
            'client_id = "fake-v1-etatcivil-client-id"': 'client_id = "votreClientId"',
            'client_secret = "S3cr3t-v1-etatcivil-93d2aa"': 'client_secret = "votreClientSecret"',
        },
    )

    message = run_failing(str(path))

    assert_nothing_imported()
    assert "demarches[2].client_id (démarche « EtatCivil ») : valeur d'exemple" in message
    assert "demarches[2].client_secret (démarche « EtatCivil ») : valeur d'exemple" in message
    assert "numérotées à partir de 1" in message


@pytest.mark.django_db
def test_duplicate_client_id_in_the_file_is_rejected(tmp_path, organisation):
    path = install(
        tmp_path,
        "toml_v2",
        {'client_id = "fake-v2-recensement-client-id"': 'client_id = "fake-v2-certdc-client-id"'},
    )

    message = run_failing(str(path))

    assert_nothing_imported()
    assert "demarches[2].client_id (démarche « recensementCitoyen ») : même identifiant client" in (
        message
    )


@pytest.mark.django_db
def test_retries_out_of_range_is_rejected(tmp_path, organisation):
    path = install(tmp_path, "sc1", {"'NombreRetry': 3": "'NombreRetry': 11"})

    message = run_failing(str(path))

    assert_nothing_imported()
    assert "NombreRetry : le nombre de nouvelles tentatives doit être compris entre 0 et 10" in (
        message
    )


@pytest.mark.django_db
def test_connection_name_is_made_unique(tmp_path, organisation):
    HubEEConnection.objects.create(
        name="Préproduction (bas) — importée",
        editor_name="Autre éditeur",
        environment="preproduction",
    )
    path = install(tmp_path, "sc1")

    out, _ = run(str(path))

    connection = Demarche.objects.get(process_code="CERTDC").connection
    assert connection.name == "Préproduction (bas) — importée (2)"
    assert connection.editor_name == "COMMUNE DE TESTVILLE"
    assert "« Préproduction (bas) — importée (2) » — créée" in out


@pytest.mark.django_db
def test_unknown_keys_are_reported_as_warnings(tmp_path, organisation):
    path = install(tmp_path, "toml_v2", {'type_acteur = "SI"': 'type_acteur = "SI"\nproxy = "x"'})

    out, _ = run(str(path))

    assert Demarche.objects.count() == 2
    assert "Avertissements :" in out
    assert "clé(s) inconnue(s) ignorée(s) dans la configuration : proxy" in out


def test_parsing_layer_is_pure_and_hides_secrets_in_repr(tmp_path):
    """No database (no django_db mark) and no folder created: only `apply_config` writes."""
    config = load_config(install(tmp_path, "toml_v2"))

    assert config.format is ConfigFormat.TOML_V2
    assert [d.process_code for d in config.demarches] == ["CERTDC", "recensementCitoyen"]
    assert config.demarches[1].client_secret == "S3cr3t-v2-recensement-f7a8b9"
    assert config.demarches[1].download_folder == tmp_path / "srv/hubee/recensement"
    assert config.replaced_application_name == "script_HUBEE_DINUM"
    _assert_no_secret(repr(config), str(config.demarches))
    assert not (tmp_path / "ancien-script" / "downloads").exists()
    assert not (tmp_path / "srv").exists()


@pytest.mark.django_db
def test_dry_run_reports_a_read_only_mount(tmp_path, organisation, monkeypatch):
    """Root passes os.access everywhere: a read-only file system is read from statvfs."""
    path = install(tmp_path, "sc1")
    writes = forbid_folder_writes(monkeypatch)
    real_statvfs = os.statvfs

    class ReadOnly:
        def __init__(self, result):
            self.f_flag = result.f_flag | os.ST_RDONLY

    monkeypatch.setattr(os, "statvfs", lambda p: ReadOnly(real_statvfs(p)))

    message = run_failing(str(path), "--dry-run")

    assert writes == []
    assert "ne peut pas être créé : Système de fichiers accessible en lecture seulement" in message
    assert f"sur « {path.parent} »" in message
