"""Services of the configuration domain.

`apply_config()` writes an `ImportedConfig` (the official script's configuration, parsed by
`demarches.config_import`) in one transaction: the organisation, the HubEE connection and the
démarches, each validated by `full_clean()` exactly as the admin validates them. It returns an
`ImportReport` that `format_report()` turns into the French summary. Nothing here ever prints,
logs or raises a client secret.

`connection_destination_changed()` and `demarche_moved()` are called after a change of where
secrets are sent (a connection's token or API URL, a démarche's connection): they log the old
and new URLs and disable the démarches concerned until their secret is entered again.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from demarches import crypto, validators
from demarches.config_import import (
    PLACEHOLDER_EDITOR_NAMES,
    ConfigImportError,
    ImportedConfig,
    ImportedDemarche,
    failure_message,
    scrub_secrets,
    shown,
)
from demarches.enums import Environment, FinalStatus
from demarches.models import Demarche, HubEEConnection, Organisation
from demarches.validators import validate_siret
from hubee_portal import APPLICATION_NAME, __version__

logger = logging.getLogger(__name__)


@dataclass
class DemarcheOutcome:
    imported: ImportedDemarche
    created: bool
    pk: int
    name: str
    enabled: bool
    automatic_status: str
    final_statuses: list[str]
    automatic_final_status: str
    folder_existed: bool
    changes: list[str] = field(default_factory=list)
    moved_from: HubEEConnection | None = None  # its connection before, when the import moved it


@dataclass
class ImportReport:
    config: ImportedConfig
    dry_run: bool
    keep_automatic_final: bool
    enable: bool
    organisation: str = ""
    organisation_created: bool = False
    organisation_named_after: str = ""
    connection: str = ""
    connection_created: bool = False
    connection_changes: list[str] = field(default_factory=list)
    token_url: str = ""
    api_url: str = ""
    editor_name: str = ""
    application_name: str = ""
    software_version: str = ""
    batch_size: int = 0
    http_retries: int = 0
    demarches: list[DemarcheOutcome] = field(default_factory=list)

    @property
    def created_count(self) -> int:
        return sum(1 for d in self.demarches if d.created)

    @property
    def updated_count(self) -> int:
        return sum(1 for d in self.demarches if not d.created)


def apply_config(
    config: ImportedConfig,
    *,
    organisation_siret: str | None = None,
    dry_run: bool = False,
    keep_automatic_final: bool = False,
    enable: bool = False,
) -> ImportReport:
    """Write the configuration in one transaction: everything or nothing.

    Validation is the models' `full_clean()`, as in the admin; it creates the download folders
    to prove they are writable, and removes them again (when still empty) if the import fails.
    A dry run writes nothing: the folders are checked without being created.
    """
    report = ImportReport(
        config=config, dry_run=dry_run, keep_automatic_final=keep_automatic_final, enable=enable
    )
    new_roots = _missing_roots(d.download_folder for d in config.demarches)
    existed = {d.position: d.download_folder.is_dir() for d in config.demarches}
    try:
        with transaction.atomic(), _folder_checks(dry_run):
            _apply(config, report, organisation_siret, existed)
            if dry_run:
                transaction.set_rollback(True)
    except ConfigImportError as exc:
        if not dry_run:
            _remove_empty_trees(new_roots)
        raise ConfigImportError(scrub_secrets(exc.message, config.secrets), exc.problems) from None
    except BaseException:
        if not dry_run:
            _remove_empty_trees(new_roots)
        raise
    if not dry_run:
        for outcome in report.demarches:
            if outcome.moved_from is not None:
                # Logged like a move in the admin; the secret came with it, from the file.
                demarche_moved(
                    Demarche.objects.select_related("connection").get(pk=outcome.pk),
                    outcome.moved_from,
                    secret_replaced=True,
                    by="la commande import_hubee_config",
                )
        logger.info(
            "Configuration HubEE importée depuis %s : %d démarche(s) créée(s), %d mise(s) à jour "
            "(organisation %s, connexion %s).",
            config.path,
            report.created_count,
            report.updated_count,
            report.organisation,
            report.connection,
        )
    return report


def _folder_checks(dry_run: bool) -> contextlib.AbstractContextManager[None]:
    return validators.no_writes() if dry_run else contextlib.nullcontext()


def _apply(
    config: ImportedConfig,
    report: ImportReport,
    organisation_siret: str | None,
    existed: dict[int, bool],
) -> None:
    organisation = _organisation(config, report, organisation_siret)
    connection = _connection(config, report)
    for imported in config.demarches:
        report.demarches.append(
            _demarche(
                config, report, imported, organisation, connection, existed[imported.position]
            )
        )


def _fail(config: ImportedConfig, problems: list[str]) -> ConfigImportError:
    problems = [scrub_secrets(p, config.secrets) for p in problems]
    return ConfigImportError(failure_message(config.path, problems), problems)


def _full_clean(
    config: ImportedConfig, instance: Any, labels: dict[str, str], default_label: str
) -> None:
    try:
        instance.full_clean()
    except ValidationError as exc:
        problems = []
        for field_name, messages in exc.message_dict.items():
            label = labels.get(field_name) or default_label
            problems.append(f"{label} : {' '.join(messages)}")
        raise _fail(config, problems) from None


def _organisation(config: ImportedConfig, report: ImportReport, siret: str | None) -> Organisation:
    if siret is not None:
        siret = siret.strip()
        try:
            validate_siret(siret)
        except ValidationError as exc:
            raise _fail(
                config, [f"--organisation « {shown(siret)} » : {' '.join(exc.messages)}"]
            ) from None
        organisation = Organisation.objects.filter(siret=siret).first()
        if organisation is None:
            editor = config.editor_name
            if editor and editor not in PLACEHOLDER_EDITOR_NAMES:
                name = editor
                report.organisation_named_after = config.fields["editor_name"]
            else:
                name = f"Organisation {siret}"
            organisation = Organisation(name=name, siret=siret)
            _full_clean(
                config,
                organisation,
                {"name": config.fields["editor_name"], "siret": "--organisation"},
                "--organisation",
            )
            organisation.save()
            report.organisation_created = True
    else:
        organisations = list(Organisation.objects.order_by("name")[:11])
        if len(organisations) != 1:
            if not organisations:
                detail = "aucune organisation n'existe encore"
            else:
                listed = ", ".join(f"{o.name} ({o.siret})" for o in organisations[:10])
                detail = f"plusieurs organisations existent : {listed}"
            raise _fail(
                config,
                [
                    f"--organisation : {detail} ; indiquez le SIRET de l'organisation qui reçoit "
                    "ces démarches avec --organisation SIRET (elle est créée si elle n'existe pas)"
                ],
            )
        organisation = organisations[0]
    report.organisation = str(organisation)
    return organisation


def _same_url(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")


def _connection(config: ImportedConfig, report: ImportReport) -> HubEEConnection:
    connection = next(
        (
            c
            for c in HubEEConnection.objects.order_by("pk")
            if _same_url(c.token_url, config.token_url)
            and _same_url(c.api_url, config.api_url)
            and c.editor_name == config.editor_name
        ),
        None,
    )
    wanted = {
        "application_name": config.application_name,
        "software_version": config.software_version,
        "batch_size": config.batch_size,
        "http_retries": config.http_retries,
    }
    labels = {
        "application_name": "applicationName",
        "software_version": "softwareVersion",
        "batch_size": "taille des lots",
        "http_retries": "nouvelles tentatives",
    }
    if connection is None:
        environment = config.environment
        connection = HubEEConnection(
            name=_connection_name(config, environment),
            environment=environment,
            token_url=config.token_url,
            api_url=config.api_url,
            editor_name=config.editor_name,
        )
        for attribute, value in wanted.items():
            if value is not None:
                setattr(connection, attribute, value)
        report.connection_created = True
    else:
        for attribute, value in wanted.items():
            current = getattr(connection, attribute)
            if value is not None and value != current:
                report.connection_changes.append(f"{labels[attribute]} : {current} → {value}")
                setattr(connection, attribute, value)
    _full_clean(config, connection, config.fields, "connexion HubEE")
    connection.save()
    report.connection = connection.name
    report.token_url = connection.token_url
    report.api_url = connection.api_url
    report.editor_name = connection.editor_name
    report.application_name = connection.application_name
    report.software_version = connection.software_version
    report.batch_size = connection.batch_size
    report.http_retries = connection.http_retries
    return connection


def _connection_name(config: ImportedConfig, environment: str) -> str:
    if environment == Environment.CUSTOM:
        base = urlsplit(config.api_url).hostname or "HubEE"
    else:
        base = str(Environment(environment).label)
    base = f"{base} — importée"[:90]
    taken = set(
        HubEEConnection.objects.filter(name__startswith=base).values_list("name", flat=True)
    )
    name, number = base, 2
    while name in taken:
        name = f"{base} ({number})"
        number += 1
    return name


def _demarche(
    config: ImportedConfig,
    report: ImportReport,
    imported: ImportedDemarche,
    organisation: Organisation,
    connection: HubEEConnection,
    folder_existed: bool,
) -> DemarcheOutcome:
    folder = str(imported.download_folder)
    moved_from = None
    demarche = Demarche.objects.filter(client_id=imported.client_id).first()
    if demarche is None:
        created = True
        changes: list[str] = []
        demarche = Demarche(
            organisation=organisation,
            client_id=imported.client_id,
            name=imported.process_code,
            automatic_final_status="",
            enabled=False,
        )
    else:
        created = False
        if demarche.organisation_id != organisation.pk:
            other = demarche.organisation
            raise _fail(
                config,
                [
                    f"{imported.fields['client_id']} : cet identifiant client est déjà celui de "
                    f"la démarche « {demarche.name} » de l'organisation {other} ; pour la mettre "
                    f"à jour, relancez avec --organisation {other.siret}"
                ],
            )
        changes = _field_changes(demarche, imported, connection, folder)
        before = _Flags.of(demarche)
        if demarche.connection_id != connection.pk:
            moved_from = demarche.connection

    demarche.process_code = imported.process_code
    demarche.connection = connection
    demarche.download_folder = folder
    demarche.client_secret = imported.client_secret
    demarche.automatic_status = imported.min_status
    # The official "maximal" status must stay possible; the other one keeps its setting.
    if imported.max_status == FinalStatus.DONE:
        demarche.allow_done = True
    else:
        demarche.allow_refused = True
    if report.keep_automatic_final:
        demarche.automatic_final_status = imported.max_status
    if report.enable:
        demarche.enabled = True
    if not created:
        changes += before.changes_to(_Flags.of(demarche))

    _full_clean(config, demarche, imported.fields, imported.label)
    demarche.save()
    return DemarcheOutcome(
        imported=imported,
        created=created,
        pk=demarche.pk,
        name=demarche.name,
        enabled=demarche.enabled,
        automatic_status=demarche.automatic_status,
        final_statuses=demarche.final_statuses,
        automatic_final_status=demarche.automatic_final_status,
        folder_existed=folder_existed,
        changes=changes,
        moved_from=moved_from,
    )


def _field_changes(
    demarche: Demarche, imported: ImportedDemarche, connection: HubEEConnection, folder: str
) -> list[str]:
    changes = []
    if demarche.process_code != imported.process_code:
        changes.append(f"code de démarche : {demarche.process_code} → {imported.process_code}")
    if demarche.connection_id != connection.pk:
        changes.append(f"connexion : {demarche.connection} → {connection.name}")
    if demarche.download_folder != folder:
        changes.append(f"dossier : {demarche.download_folder} → {folder}")
    try:
        same_secret = demarche.client_secret == imported.client_secret
    except crypto.SecretDecryptionError:
        same_secret = False
    if not same_secret:
        changes.append("secret client remplacé")
    if demarche.automatic_status != imported.min_status:
        before = demarche.automatic_status or "aucun"
        changes.append(f"statut à la réception : {before} → {imported.min_status}")
    return changes


@dataclass(frozen=True)
class _Flags:
    allow_done: bool
    allow_refused: bool
    automatic_final_status: str
    enabled: bool

    @classmethod
    def of(cls, demarche: Demarche) -> _Flags:
        return cls(
            demarche.allow_done,
            demarche.allow_refused,
            demarche.automatic_final_status,
            demarche.enabled,
        )

    def changes_to(self, after: _Flags) -> list[str]:
        changes = []
        if after.allow_done and not self.allow_done:
            changes.append("statut final DONE désormais autorisé")
        if after.allow_refused and not self.allow_refused:
            changes.append("statut final REFUSED désormais autorisé")
        if after.automatic_final_status != self.automatic_final_status:
            changes.append(
                f"statut final automatique : {self.automatic_final_status or 'aucun'} → "
                f"{after.automatic_final_status or 'aucun'}"
            )
        if after.enabled and not self.enabled:
            changes.append("activée")
        return changes


def _missing_roots(folders: Iterable[Path]) -> list[Path]:
    """For each folder, its highest ancestor that does not exist yet (what mkdir would create)."""
    roots: list[Path] = []
    for folder in folders:
        root = None
        for candidate in [folder, *folder.parents]:
            if candidate.exists():
                break
            root = candidate
        if root is not None and root not in roots:
            roots.append(root)
    return roots


def _remove_empty_trees(roots: list[Path]) -> None:
    """Remove folders created by the validation, only while they are empty (rmdir, never rm)."""
    for root in roots:
        if not root.is_dir():
            continue
        for dirpath, _dirnames, _filenames in os.walk(root, topdown=False):
            with contextlib.suppress(OSError):
                os.rmdir(dirpath)


# --------------------------------------------------------------------------------------------
# Summary
# --------------------------------------------------------------------------------------------

CRON_WARNING = (
    "ARRÊTEZ D'ABORD LE CRON DE L'ANCIEN SCRIPT (crontab -e : supprimez ou commentez la ligne "
    "qui lance HUBEE.py ou main.py). Deux programmes qui consomment les mêmes notifications "
    "HubEE se partageraient les dossiers : chacun n'en recevrait qu'une partie."
)


def format_report(report: ImportReport) -> str:
    """The French summary printed by the command; it contains no secret."""
    config = report.config
    lines: list[str] = []
    add = lines.append
    add(f"Fichier lu : {config.path}")
    add(f"Format : {config.format.value}")
    if report.dry_run:
        add("")
        add(
            "SIMULATION (--dry-run) : rien n'a été enregistré. Voici ce que l'import ferait ; "
            "relancez sans --dry-run pour l'appliquer."
        )
    add("")
    add(f"/!\\ {CRON_WARNING}")

    would = report.dry_run
    add("")
    if report.organisation_created:
        origin = (
            f"nom tiré de {report.organisation_named_after}"
            if report.organisation_named_after
            else "nommée d'après son SIRET ; renommez-la dans l'administration"
        )
        verb = "serait créée" if would else "créée"
        add(f"Organisation : {report.organisation} — {verb} ({origin})")
    else:
        add(f"Organisation : {report.organisation} — existante")

    if report.connection_created:
        verb = "serait créée" if would else "créée"
    elif report.connection_changes:
        verb = "existante, serait mise à jour" if would else "existante, mise à jour"
    else:
        verb = "existante, réutilisée telle quelle"
    add(f"Connexion HubEE : « {report.connection} » — {verb}")
    for change in report.connection_changes:
        add(f"    {change}")
    add(f"    URL du jeton : {report.token_url}")
    add(f"    URL de l'API : {report.api_url}")
    add(
        f"    lots de {report.batch_size} notifications, {report.http_retries} nouvelle(s) "
        "tentative(s) par appel HTTP"
    )
    add(
        f"    en-têtes d'identification : editorName « {report.editor_name} », applicationName "
        f"« {report.application_name} », softwareVersion « {report.software_version} »"
    )
    if config.replaced_application_name:
        original = config.replaced_application_name
        if config.replaced_software_version:
            original += f" {config.replaced_software_version}"
        add(
            f"    L'en-tête d'identification du script officiel (« {original} ») est remplacé "
            f"par celui du portail (« {APPLICATION_NAME} {__version__} ») : HubEE doit savoir "
            "quel logiciel l'appelle."
        )

    add("")
    add(f"Démarches ({len(report.demarches)}) :")
    for outcome in report.demarches:
        lines.extend(_format_demarche(outcome, report))

    if config.warnings:
        add("")
        add("Avertissements :")
        lines.extend(f"  - {warning}" for warning in config.warnings)

    add("")
    add("À faire maintenant :")
    add(f"  1. {CRON_WARNING}")
    if report.enable:
        add(
            "  2. Les démarches sont actives (--enable) : la synchronisation les traitera dès "
            "son prochain passage. Vérifiez d'abord « Tester la connexion » dans "
            "l'administration."
        )
    else:
        add(
            "  2. Les nouvelles démarches restent désactivées tant que « Tester la connexion » "
            "n'a pas réussi ou qu'un administrateur ne les a pas activées (ou relancez l'import "
            "avec --enable)."
        )
    if report.dry_run:
        add("")
        add("Simulation terminée : rien n'a été enregistré.")
    return "\n".join(lines) + "\n"


def _format_demarche(outcome: DemarcheOutcome, report: ImportReport) -> list[str]:
    imported = outcome.imported
    would = report.dry_run
    if outcome.created:
        action = "serait créée" if would else "créée"
    else:
        action = "serait mise à jour" if would else "mise à jour"
    lines = [f"  • {imported.process_code} ({imported.label}) — {action}"]
    if outcome.name != imported.process_code:
        lines.append(f"      nom affiché conservé : {outcome.name}")
    lines.append(
        f"      identifiant client : {imported.client_id} (secret client enregistré chiffré, "
        "jamais affiché)"
    )
    for change in outcome.changes:
        lines.append(f"      modifié : {change}")
    folder = str(imported.download_folder)
    if Path(imported.download_path).is_absolute():
        origin = ""
    else:
        origin = (
            f" (chemin relatif « {imported.download_path} » résolu depuis le dossier du fichier)"
        )
    if outcome.folder_existed:
        state = "existant, accessible en écriture"
    elif would:
        checked = validators.nearest_existing(imported.download_folder)
        state = f"serait créé (vérifié sans rien écrire : {checked} accessible en écriture)"
    else:
        state = "créé, accessible en écriture"
    lines.append(f"      dossier de téléchargement : {folder}{origin} — {state}")
    source = imported.min_status_key or "absent du fichier : valeur par défaut du script"
    lines.append(f"      statut à la réception : {outcome.automatic_status} ({source})")
    lines.append(f"      statuts finaux autorisés aux agents : {', '.join(outcome.final_statuses)}")
    max_source = imported.max_status_key or "valeur par défaut du script"
    if outcome.automatic_final_status and report.keep_automatic_final:
        lines.append(
            f"      statut final automatique : {outcome.automatic_final_status} ({max_source}, "
            "--keep-automatic-final) : chaque dossier est clos dès sa réception, comme le faisait "
            "le script"
        )
    elif outcome.automatic_final_status:
        lines.append(
            f"      statut final automatique : {outcome.automatic_final_status} (réglage existant "
            "conservé)"
        )
    else:
        lines.append(
            f"      statut final automatique : aucun — {imported.max_status} ({max_source}) "
            "n'est plus appliqué d'office : un agent clôt chaque dossier "
            "(--keep-automatic-final reproduit le script)"
        )
    if outcome.enabled:
        lines.append("      état : active")
    else:
        lines.append("      état : désactivée")
    return lines


# --------------------------------------------------------------------------------------------
# Where secrets are sent
# --------------------------------------------------------------------------------------------

HOW_TO_REENABLE = (
    "Pour chacune, saisissez à nouveau le secret client (copié depuis le portail HubEE) dans sa "
    "fiche, puis lancez l'action « Tester la connexion (et activer si elle réussit) »."
)


def describe_destination_change(old: tuple[str, str] | None, new: tuple[str, str]) -> str:
    """'URL du jeton : a → b ; URL de l'API : c → d' (only what changed; all for a creation)."""
    parts = []
    for label, index in (("URL du jeton", 0), ("URL de l'API", 1)):
        if old is None:
            parts.append(f"{label} : {new[index]}")
        elif old[index] != new[index]:
            parts.append(f"{label} : {old[index]} → {new[index]}")
    return " ; ".join(parts) or "mêmes URL"


def disable_secrets(demarches: Iterable[Demarche]) -> list[Demarche]:
    """Clear each démarche's client secret and disable it: the sync leaves it alone, and only
    someone who knows the secret can turn it on again (it is never shown back)."""
    demarches = list(demarches)
    Demarche.objects.filter(pk__in=[d.pk for d in demarches]).update(
        client_secret_encrypted="", enabled=False, updated_at=timezone.now()
    )
    for demarche in demarches:
        demarche.client_secret_encrypted = ""
        demarche.enabled = False
    return demarches


@dataclass(frozen=True)
class DestinationChange:
    """A change of where secrets are sent: what changed, in French, and who paid for it."""

    summary: str
    disabled: list[Demarche]

    @property
    def history(self) -> str:
        """The sentence added to the admin's history of the object."""
        text = f"{self.summary}."
        if self.disabled:
            names = ", ".join(str(d) for d in self.disabled)
            text += f" Secret client effacé et démarche désactivée : {names}."
        return text


def connection_destination_changed(
    connection: HubEEConnection, old: tuple[str, str] | None, *, by: str
) -> DestinationChange | None:
    """After `connection` was saved (`old`: its URLs before, None for a new one): log where its
    secrets now go and, when that changed, disable its démarches until each secret is entered
    again. None when the URLs did not change."""
    new = connection.destination
    if old == new:
        return None
    disabled = disable_secrets(connection.demarches.order_by("name")) if old else []
    change = DestinationChange(describe_destination_change(old, new), disabled)
    logger.warning(
        "Connexion HubEE « %s » (id %s) %s par %s : %s",
        connection,
        connection.pk,
        "créée" if old is None else "modifiée",
        by,
        change.history,
    )
    return change


def demarche_moved(
    demarche: Demarche, old_connection: HubEEConnection, *, secret_replaced: bool, by: str
) -> DestinationChange:
    """After `demarche` was saved on another connection: log it and, unless its new secret was
    given with the move, disable it until its secret is entered again."""
    new_connection = demarche.connection
    urls = describe_destination_change(old_connection.destination, new_connection.destination)
    summary = f"Connexion HubEE : {old_connection} → {new_connection} ({urls})"
    if secret_replaced:
        change = DestinationChange(f"{summary}, nouveau secret client saisi", [])
    else:
        change = DestinationChange(summary, disable_secrets([demarche]))
    logger.warning(
        "Démarche %s (id %s) modifiée par %s : %s", demarche, demarche.pk, by, change.history
    )
    return change
