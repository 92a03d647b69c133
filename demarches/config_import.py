"""Parsing of the official DINUM script's configuration files (API.md §7.1b).

`load_config()` is pure (no database): it reads a `config.py` (never executed: parsed with
`ast`, its `config = {...}` literal evaluated with `ast.literal_eval`) or a `config.toml`
(`tomllib`; the first TOML versions or v2.0.0) into an `ImportedConfig`. Writing it to the
database is `demarches.services.apply_config()`.

Every error is a `ConfigImportError` whose French message names the file and the field as
written in the file. No message ever contains a client secret.
"""

from __future__ import annotations

import ast
import enum
import os
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS

from demarches.enums import AutomaticStatus, FinalStatus, environment_for_urls
from hubee_portal import APPLICATION_NAME, __version__

# The official script identifies itself with this name: HubEE must see ours instead (API.md §2.3).
OFFICIAL_APPLICATION_NAME = "script_HUBEE_DINUM"
# Example values of the official templates and READMEs, never real ones.
PLACEHOLDER_EDITOR_NAMES = frozenset({"SI_XYZ"})
PLACEHOLDER_CREDENTIALS = frozenset({"votreClientId", "votreClientSecret"})
MIN_STATUSES = tuple(s.value for s in AutomaticStatus if s.value)  # SENT, SI_RECEIVED, IN_PROGRESS
MAX_STATUSES = tuple(s.value for s in FinalStatus)  # DONE, REFUSED
# Defaults of the official script when a status is absent (API.md §7.2).
DEFAULT_MIN_STATUS = AutomaticStatus.IN_PROGRESS.value
DEFAULT_MAX_STATUS = FinalStatus.DONE.value
BATCH_SIZE_RANGE = (1, 500)
HTTP_RETRIES_RANGE = (0, 10)
MAX_FILE_BYTES = 1_000_000


class ConfigImportError(Exception):
    """The configuration cannot be imported; `message` is French and ready to show."""

    def __init__(self, message: str, problems: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.problems = list(problems)

    def __str__(self) -> str:
        return self.message


class ConfigFormat(enum.Enum):
    SCRIPT_PY = "config.py du script officiel (version Python)"
    TOML_V1 = "config.toml des premières versions TOML du script officiel"
    TOML_V2 = "config.toml du script officiel v2.0.0"


@dataclass(frozen=True)
class ImportedDemarche:
    """One démarche of the file, validated and normalised (nothing written yet)."""

    position: int  # 1 for the first démarche of the file
    label: str  # how the file names it, e.g. "demarches[2]"
    process_code: str
    client_id: str
    client_secret: str = field(repr=False)
    download_path: str  # as written in the file
    download_folder: Path  # absolute; relative paths resolved against the file's folder
    min_status: str
    max_status: str
    min_status_key: str  # where the value comes from ("" = default of the official script)
    max_status_key: str
    # Model field -> how the file names it, for error messages.
    fields: dict[str, str] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class ImportedConfig:
    path: Path
    format: ConfigFormat
    token_url: str
    api_url: str
    editor_name: str
    application_name: str | None  # None: absent from the file
    software_version: str | None
    replaced_application_name: str | None  # the official script's name, replaced by ours
    replaced_software_version: str | None
    batch_size: int | None
    http_retries: int | None
    demarches: tuple[ImportedDemarche, ...]
    fields: dict[str, str] = field(default_factory=dict, compare=False)
    warnings: tuple[str, ...] = ()

    @property
    def environment(self) -> str:
        return environment_for_urls(self.token_url, self.api_url)

    @property
    def secrets(self) -> list[str]:
        return [d.client_secret for d in self.demarches]


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Keys:
    """Key names of one format; for aliases, the first one is the format's own spelling."""

    token_url: tuple[str, ...]
    api_url: tuple[str, ...]
    batch_size: tuple[str, ...]
    http_retries: tuple[str, ...]
    acteur: tuple[str, ...]
    min_status: tuple[str, ...]
    max_status: tuple[str, ...]
    editor_name: tuple[str, ...]
    application_name: tuple[str, ...]
    software_version: tuple[str, ...]
    demarches: tuple[str, ...]
    name: tuple[str, ...]
    client_id: tuple[str, ...]
    client_secret: tuple[str, ...]
    folder: tuple[str, ...]
    environnement: str = "environnement"
    header: str = "header"

    def top_level(self) -> set[str]:
        keys = {self.environnement, self.header}
        for group in (self.batch_size, self.http_retries, self.acteur, self.min_status):
            keys.update(group)
        keys.update(self.max_status)
        keys.update(self.demarches)
        return keys

    def per_demarche(self) -> set[str]:
        keys: set[str] = set()
        for group in (self.name, self.client_id, self.client_secret, self.folder):
            keys.update(group)
        keys.update(self.min_status)
        keys.update(self.max_status)
        return keys


_PY_KEYS = _Keys(
    token_url=("token",),
    api_url=("api",),
    batch_size=("notificationMax", "nombreDeNotifications"),
    http_retries=("NombreRetry",),
    acteur=("acteurType",),
    min_status=("statusMinimal",),
    max_status=("statusMaximal",),
    editor_name=("editorName",),
    application_name=("applicationName",),
    software_version=("softwareVersion",),
    demarches=("demarches", "credentials"),
    name=("demarcheNom", "demarcheName"),
    client_id=("clientId",),
    client_secret=("clientSecret",),
    folder=("dossierDeTelechargement",),
)
_TOML_V1_KEYS = _Keys(
    token_url=("token_url",),
    api_url=("api_url",),
    batch_size=("notification_max", "max_notifications"),
    http_retries=("nombre_retry", "retry_nb"),
    acteur=("acteur_type", "type_acteur"),
    min_status=("status_minimal", "statut_minimal", "min_status"),
    max_status=("status_maximal", "statut_maximal", "max_status"),
    editor_name=("editor_name",),
    application_name=("application_name",),
    software_version=("software_version",),
    demarches=("demarches",),
    name=("demarche_nom", "name"),
    client_id=("client_id",),
    client_secret=("client_secret",),
    folder=("dossier_telechargement", "download_path"),
)
_TOML_V2_KEYS = _Keys(
    token_url=("token_url",),
    api_url=("api_url",),
    batch_size=("max_notifications", "notification_max"),
    http_retries=("retry_nb", "nombre_retry"),
    acteur=("type_acteur", "acteur_type"),
    min_status=("min_status", "statut_minimal", "status_minimal"),
    max_status=("max_status", "statut_maximal", "status_maximal"),
    editor_name=("editor_name",),
    application_name=("application_name",),
    software_version=("software_version",),
    demarches=("demarches",),
    name=("name", "demarche_nom"),
    client_id=("client_id",),
    client_secret=("client_secret",),
    folder=("download_path", "dossier_telechargement"),
)
_KEYS = {
    ConfigFormat.SCRIPT_PY: _PY_KEYS,
    ConfigFormat.TOML_V1: _TOML_V1_KEYS,
    ConfigFormat.TOML_V2: _TOML_V2_KEYS,
}
_TOML_V2_MARKERS_TOP = frozenset({"retry_nb", "max_notifications"})
_TOML_V2_MARKERS_DEMARCHE = frozenset({"name", "download_path", "min_status", "max_status"})


class _Missing:
    def __repr__(self) -> str:
        return "<absent>"


_MISSING: Any = _Missing()
_INVALID: Any = object()  # a value already reported as a problem

_NODE_KINDS: dict[type[ast.AST], str] = {
    ast.Call: "un appel de fonction",
    ast.Name: "un nom de variable",
    ast.Attribute: "un attribut",
    ast.Subscript: "un accès indexé, comme os.environ[...]",
    ast.BinOp: "une opération",
    ast.JoinedStr: "une f-string",
    ast.Lambda: "une fonction lambda",
    ast.IfExp: "une condition",
    ast.Compare: "une comparaison",
    ast.BoolOp: "une opération logique",
    ast.ListComp: "une compréhension de liste",
    ast.DictComp: "une compréhension de dictionnaire",
    ast.GeneratorExp: "un générateur",
    ast.NamedExpr: "une affectation",
    ast.Starred: "un dépaquetage (*)",
}


def load_config(path: str | os.PathLike[str]) -> ImportedConfig:
    """Read and validate a configuration file of the official script; writes nothing."""
    file = Path(os.path.abspath(Path(path)))
    if not file.is_file():
        raise ConfigImportError(f"Fichier de configuration introuvable : « {file} ».")
    try:
        size = file.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ConfigImportError(
                f"« {file} » fait {size} octets : ce n'est pas un fichier de configuration du "
                "script HubEE (quelques kilo-octets)."
            )
        raw = file.read_bytes()
    except OSError as exc:
        raise ConfigImportError(
            f"Impossible de lire « {file} » : {exc.strerror or exc.__class__.__name__}."
        ) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigImportError(
            f"« {file} » n'est pas encodé en UTF-8 (octet invalide en position {exc.start}) : "
            "enregistrez-le en UTF-8 puis relancez l'import."
        ) from exc
    return parse_config(text, file)


def parse_config(text: str, path: Path) -> ImportedConfig:
    """Parse the text of a configuration file; `path` gives its name and relative-path base."""
    data, fmt, warnings = _read(text, path)
    return _Parser(path, fmt, warnings).parse(data)


def _read(text: str, path: Path) -> tuple[Any, ConfigFormat, list[str]]:
    suffix = path.suffix.lower()
    if suffix == ".py" or (suffix != ".toml" and re.search(r"^config\s*[:=]", text, re.M)):
        data, warnings = _read_python(text, path)
        return data, ConfigFormat.SCRIPT_PY, warnings
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # The message gives line and column, never the content of the line.
        raise ConfigImportError(
            failure_message(path, [f"syntaxe TOML invalide : {exc}"]),
            [f"syntaxe TOML invalide : {exc}"],
        ) from None
    return data, _toml_format(data), []


def _toml_format(data: dict[str, Any]) -> ConfigFormat:
    if _TOML_V2_MARKERS_TOP & data.keys():
        return ConfigFormat.TOML_V2
    demarches = data.get("demarches")
    if isinstance(demarches, list):
        for item in demarches:
            if isinstance(item, dict) and _TOML_V2_MARKERS_DEMARCHE & item.keys():
                return ConfigFormat.TOML_V2
    return ConfigFormat.TOML_V1


def _read_python(text: str, path: Path) -> tuple[Any, list[str]]:
    """Find `config = <literal>` in the module and evaluate the literal, never the module."""
    try:
        tree = ast.parse(text, filename=path.name)
    except SyntaxError as exc:
        # exc.text (the offending line) may hold a secret: only its position is shown.
        where = f"ligne {exc.lineno}" + (f", colonne {exc.offset}" if exc.offset else "")
        problem = f"erreur de syntaxe Python ({where}) : {exc.msg}"
        raise ConfigImportError(failure_message(path, [problem]), [problem]) from None

    value: ast.expr | None = None
    ignored: list[int] = []
    for statement in tree.body:
        if _assigns_config(statement):
            value = statement.value  # type: ignore[attr-defined]
        elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            continue  # docstring
        else:
            ignored.append(statement.lineno)
    if value is None:
        problem = (
            "aucune affectation « config = {...} » trouvée au niveau du module (le fichier "
            "config.py du script officiel commence par « config = { »)"
        )
        raise ConfigImportError(failure_message(path, [problem]), [problem])

    problems: list[str] = []
    data = _literal(value, "", problems)
    if problems:
        raise ConfigImportError(failure_message(path, problems), problems)
    warnings = []
    if ignored:
        lines = ", ".join(str(n) for n in ignored[:10])
        warnings.append(
            f"{path.name} : les instructions autres que « config = {{...}} » (ligne(s) {lines}) "
            "ont été ignorées : le fichier est lu, jamais exécuté."
        )
    return data, warnings


def _assigns_config(statement: ast.stmt) -> bool:
    if isinstance(statement, ast.Assign):
        return any(isinstance(t, ast.Name) and t.id == "config" for t in statement.targets)
    return (
        isinstance(statement, ast.AnnAssign)
        and isinstance(statement.target, ast.Name)
        and statement.target.id == "config"
        and statement.value is not None
    )


def _literal(node: ast.expr, label: str, problems: list[str]) -> Any:
    """`ast.literal_eval`, node by node, so that a non-literal is reported with its key."""
    if isinstance(node, ast.Dict):
        result: dict[Any, Any] = {}
        for key_node, value_node in zip(node.keys, node.values, strict=True):
            if key_node is None:
                problems.append(
                    f"{label or 'config'} (ligne {value_node.lineno}) : le dépaquetage « ** » "
                    "n'est pas accepté, écrivez les clés en toutes lettres"
                )
                continue
            if not (isinstance(key_node, ast.Constant) and isinstance(key_node.value, str)):
                problems.append(
                    f"{label or 'config'} (ligne {key_node.lineno}) : les clés doivent être des "
                    "textes entre guillemets"
                )
                continue
            key = key_node.value
            result[key] = _literal(value_node, f"{label}.{key}" if label else key, problems)
        return result
    if isinstance(node, ast.List | ast.Tuple):
        return [
            _literal(item, f"{label}[{index}]", problems)
            for index, item in enumerate(node.elts, start=1)
        ]
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        kind = _NODE_KINDS.get(type(node), "une expression Python")
        problems.append(
            f"{label or 'config'} (ligne {node.lineno}) : valeur non littérale, {kind}. "
            "Le fichier n'est jamais exécuté : écrivez la valeur elle-même (texte entre "
            "guillemets, nombre, liste ou dictionnaire)"
        )
        return _INVALID


def _type_fr(value: Any) -> str:
    if isinstance(value, bool):
        return "un booléen"
    if isinstance(value, int | float):
        return "un nombre"
    if isinstance(value, str):
        return "un texte"
    if isinstance(value, list):
        return "une liste"
    if isinstance(value, dict):
        return "un dictionnaire"
    if value is None:
        return "None"
    return type(value).__name__


def shown(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "…"


class _Parser:
    def __init__(self, path: Path, fmt: ConfigFormat, warnings: list[str]) -> None:
        self.path = path
        self.format = fmt
        self.keys = _KEYS[fmt]
        self.problems: list[str] = []
        self.warnings = list(warnings)
        self.secrets: list[str] = []

    # ---- helpers -------------------------------------------------------------------------

    def problem(self, label: str, message: str) -> None:
        self.problems.append(f"{label} : {message}")

    def pick(
        self, mapping: dict[str, Any], aliases: tuple[str, ...], label: Callable[[str], str]
    ) -> tuple[str, Any]:
        present = [key for key in aliases if key in mapping]
        if len(present) > 1:
            self.problem(
                label(present[0]),
                f"la même valeur est donnée par plusieurs clés ({', '.join(present)}) : "
                "n'en gardez qu'une",
            )
            return label(present[0]), _INVALID
        key = present[0] if present else aliases[0]
        return label(key), mapping.get(key, _MISSING)

    def text(self, label: str, value: Any, *, required: bool = True) -> str | None:
        if value is _INVALID:
            return None
        if value is _MISSING or value is None:
            if required:
                self.problem(label, "valeur manquante")
            return None
        if not isinstance(value, str):
            # Never echo the value: it may be a secret.
            self.problem(label, f"un texte entre guillemets est attendu, pas {_type_fr(value)}")
            return None
        value = value.strip()
        if required and not value:
            self.problem(label, "valeur manquante")
            return None
        return value

    def integer(self, label: str, value: Any, bounds: tuple[int, int], what: str) -> int | None:
        if value is _INVALID or value is _MISSING or value is None:
            return None
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str) and value.strip().isdigit():
            number = int(value.strip())
        if number is None:
            self.problem(label, f"un nombre entier est attendu, pas {_type_fr(value)}")
            return None
        low, high = bounds
        if not low <= number <= high:
            self.problem(
                label, f"{what} doit être compris entre {low} et {high} (valeur : {number})"
            )
            return None
        return number

    def status(self, label: str, value: Any, allowed: tuple[str, ...], what: str) -> str | None:
        if value is _INVALID:
            return None
        if not isinstance(value, str):
            self.problem(label, f"un statut entre guillemets est attendu, pas {_type_fr(value)}")
            return None
        value = value.strip()
        if value not in allowed:
            self.problem(
                label,
                f"statut « {shown(value)} » non accepté comme {what} : valeurs possibles "
                f"{', '.join(allowed)}",
            )
            return None
        return value

    def section(self, data: dict[str, Any], name: str, required: bool) -> dict[str, Any]:
        value = data.get(name, _MISSING)
        if value is _MISSING:
            if required:
                self.problem(name, "section manquante")
            return {}
        if value is _INVALID:
            return {}
        if not isinstance(value, dict):
            self.problem(name, f"une section (dictionnaire) est attendue, pas {_type_fr(value)}")
            return {}
        return value

    def warn_unknown(self, mapping: dict[str, Any], known: set[str], where: str) -> None:
        unknown = sorted(str(key) for key in mapping if key not in known)
        if unknown:
            self.warnings.append(
                f"{self.path.name} : clé(s) inconnue(s) ignorée(s) dans {where} : "
                f"{', '.join(unknown)}"
            )

    # ---- parsing -------------------------------------------------------------------------

    def parse(self, data: Any) -> ImportedConfig:
        if not isinstance(data, dict):
            self.problem("config", f"un dictionnaire est attendu, pas {_type_fr(data)}")
            self.fail()
        keys = self.keys
        self.warn_unknown(data, keys.top_level(), "la configuration")

        def top(key: str) -> str:
            return key

        environnement = self.section(data, keys.environnement, required=True)
        token_label, token = self.pick(
            environnement, keys.token_url, lambda k: f"{keys.environnement}.{k}"
        )
        api_label, api = self.pick(
            environnement, keys.api_url, lambda k: f"{keys.environnement}.{k}"
        )
        token_url = self.text(token_label, token)
        api_url = self.text(api_label, api)
        if api_url:
            # The official script concatenated "<api>teledossiers/...": a trailing slash is usual.
            api_url = api_url.rstrip("/")

        batch_label, batch = self.pick(data, keys.batch_size, top)
        batch_size = self.integer(
            batch_label, batch, BATCH_SIZE_RANGE, "le nombre de notifications par lot"
        )
        retries_label, retries = self.pick(data, keys.http_retries, top)
        http_retries = self.integer(
            retries_label, retries, HTTP_RETRIES_RANGE, "le nombre de nouvelles tentatives"
        )
        acteur_label, acteur = self.pick(data, keys.acteur, top)
        acteur_value = self.text(acteur_label, acteur, required=False)
        if acteur_value is not None and acteur_value != "SI":
            self.problem(
                acteur_label,
                f"« {shown(acteur_value)} » : ce portail reçoit les dossiers d'un service "
                "instructeur, seule la valeur « SI » est possible",
            )

        min_label, min_value = self.pick(data, keys.min_status, top)
        max_label, max_value = self.pick(data, keys.max_status, top)
        global_min = None
        if min_value is not _MISSING:
            global_min = self.status(min_label, min_value, MIN_STATUSES, "statut minimal")
        global_max = None
        if max_value is not _MISSING:
            global_max = self.status(max_label, max_value, MAX_STATUSES, "statut maximal")

        header = self.section(data, keys.header, required=False)
        if keys.header not in data:
            self.warnings.append(
                f"{self.path.name} : pas de section « {keys.header} » : les en-têtes "
                "d'identification par défaut du portail sont utilisés."
            )
        self.warn_unknown(
            header,
            {*keys.editor_name, *keys.application_name, *keys.software_version},
            f"« {keys.header} »",
        )
        editor_label, editor = self.pick(header, keys.editor_name, lambda k: f"{keys.header}.{k}")
        app_label, app = self.pick(header, keys.application_name, lambda k: f"{keys.header}.{k}")
        version_label, version = self.pick(
            header, keys.software_version, lambda k: f"{keys.header}.{k}"
        )
        editor_name = self.text(editor_label, editor, required=False) or ""
        application_name = self.text(app_label, app, required=False) or None
        software_version = self.text(version_label, version, required=False) or None
        replaced_name = replaced_version = None
        if application_name == OFFICIAL_APPLICATION_NAME:
            replaced_name, replaced_version = application_name, software_version
            application_name, software_version = APPLICATION_NAME, __version__
        if editor_name in PLACEHOLDER_EDITOR_NAMES:
            self.warnings.append(
                f"{self.path.name} : {editor_label} vaut « {editor_name} », la valeur d'exemple "
                "du script : indiquez le nom de votre collectivité dans la connexion HubEE "
                "(administration du portail)."
            )

        demarches = self.parse_demarches(data, global_min, min_label, global_max, max_label)
        if self.problems:
            self.fail()
        assert token_url is not None and api_url is not None  # reported above otherwise
        return ImportedConfig(
            path=self.path,
            format=self.format,
            token_url=token_url,
            api_url=api_url,
            editor_name=editor_name,
            application_name=application_name,
            software_version=software_version,
            replaced_application_name=replaced_name,
            replaced_software_version=replaced_version,
            batch_size=batch_size,
            http_retries=http_retries,
            demarches=tuple(demarches),
            fields={
                "token_url": token_label,
                "api_url": api_label,
                "editor_name": editor_label,
                "application_name": app_label,
                "software_version": version_label,
                "batch_size": batch_label,
                "http_retries": retries_label,
                "name": "nom de la connexion",
            },
            warnings=tuple(self.warnings),
        )

    def parse_demarches(
        self,
        data: dict[str, Any],
        global_min: str | None,
        global_min_label: str,
        global_max: str | None,
        global_max_label: str,
    ) -> list[ImportedDemarche]:
        keys = self.keys
        list_label, items = self.pick(data, keys.demarches, lambda k: k)
        if items is _INVALID:
            return []
        if items is _MISSING:
            self.problem(list_label, "aucune démarche : la liste des démarches est absente")
            return []
        if isinstance(items, dict) and list_label == "credentials":
            self.problem(
                list_label,
                "ancien format à une seule démarche, sans nom de démarche : remplacez "
                "« credentials » par une liste « demarches » de {demarcheNom, clientId, "
                "clientSecret, dossierDeTelechargement}",
            )
            return []
        if not isinstance(items, list):
            self.problem(list_label, f"une liste de démarches est attendue, pas {_type_fr(items)}")
            return []
        if not items:
            self.problem(list_label, "la liste des démarches est vide")
            return []

        result: list[ImportedDemarche] = []
        seen_ids: dict[str, str] = {}
        seen_codes: dict[str, str] = {}
        for position, item in enumerate(items, start=1):
            item_label = f"{list_label}[{position}]"
            if item is _INVALID:
                continue
            if not isinstance(item, dict):
                self.problem(
                    item_label, f"une démarche (dictionnaire) est attendue, pas {_type_fr(item)}"
                )
                continue
            demarche = self.parse_demarche(
                item,
                position,
                item_label,
                global_min,
                global_min_label,
                global_max,
                global_max_label,
            )
            if demarche is None:
                continue
            id_label = demarche.fields["client_id"]
            if demarche.client_id in seen_ids:
                self.problem(
                    id_label, f"même identifiant client que {seen_ids[demarche.client_id]}"
                )
            seen_ids.setdefault(demarche.client_id, item_label)
            code_label = demarche.fields["process_code"]
            if demarche.process_code in seen_codes:
                self.problem(
                    code_label,
                    f"démarche déjà présente dans le fichier "
                    f"({seen_codes[demarche.process_code]}) : une organisation n'a qu'un "
                    "abonnement par démarche",
                )
            seen_codes.setdefault(demarche.process_code, item_label)
            result.append(demarche)
        return result

    def parse_demarche(
        self,
        item: dict[str, Any],
        position: int,
        item_label: str,
        global_min: str | None,
        global_min_label: str,
        global_max: str | None,
        global_max_label: str,
    ) -> ImportedDemarche | None:
        keys = self.keys
        self.warn_unknown(item, keys.per_demarche(), item_label)
        name_label, name_value = self.pick(item, keys.name, lambda k: f"{item_label}.{k}")
        process_code = self.text(name_label, name_value)
        suffix = f" (démarche « {shown(process_code)} »)" if process_code else ""

        def label(key: str) -> str:
            return f"{item_label}.{key}{suffix}"

        id_label, id_value = self.pick(item, keys.client_id, label)
        secret_label, secret_value = self.pick(item, keys.client_secret, label)
        folder_label, folder_value = self.pick(item, keys.folder, label)
        client_id = self.text(id_label, id_value)
        client_secret = self.text(secret_label, secret_value)
        download_path = self.text(folder_label, folder_value)
        if client_secret:
            self.secrets.append(client_secret)
        if client_id in PLACEHOLDER_CREDENTIALS:
            self.problem(
                id_label,
                "valeur d'exemple de la documentation : copiez le vrai "
                "identifiant depuis le portail HubEE (Gestion des abonnements)",
            )
            client_id = None
        if client_secret in PLACEHOLDER_CREDENTIALS:
            self.problem(
                secret_label,
                "valeur d'exemple de la documentation : copiez le vrai "
                "secret depuis le portail HubEE (Gestion des abonnements)",
            )
            client_secret = None

        min_label, min_value = self.pick(item, keys.min_status, label)
        max_label, max_value = self.pick(item, keys.max_status, label)
        min_status: str | None
        max_status: str | None
        if min_value is not _MISSING:
            min_status = self.status(min_label, min_value, MIN_STATUSES, "statut minimal")
            min_key = min_label
        elif global_min is not None:
            min_status, min_key = global_min, global_min_label
        else:
            min_status, min_key = DEFAULT_MIN_STATUS, ""
        if max_value is not _MISSING:
            max_status = self.status(max_label, max_value, MAX_STATUSES, "statut maximal")
            max_key = max_label
        elif global_max is not None:
            max_status, max_key = global_max, global_max_label
        else:
            max_status, max_key = DEFAULT_MAX_STATUS, ""

        if not (process_code and client_id and client_secret and download_path):
            return None
        if not (min_status and max_status):
            return None
        folder = Path(download_path)
        if not folder.is_absolute():
            folder = self.path.parent / folder
        folder = Path(os.path.normpath(folder))
        return ImportedDemarche(
            position=position,
            label=item_label,
            process_code=process_code,
            client_id=client_id,
            client_secret=client_secret,
            download_path=download_path,
            download_folder=folder,
            min_status=min_status,
            max_status=max_status,
            min_status_key=min_key.removesuffix(suffix),
            max_status_key=max_key.removesuffix(suffix),
            fields={
                "name": name_label,
                "process_code": name_label,
                "client_id": id_label,
                "client_secret_encrypted": secret_label,
                "download_folder": folder_label,
                "automatic_status": min_key or min_label,
                "allow_done": max_key or max_label,
                "allow_refused": max_key or max_label,
                "automatic_final_status": max_key or max_label,
                NON_FIELD_ERRORS: name_label,
            },
        )

    def fail(self) -> None:
        problems = [scrub_secrets(p, self.secrets) for p in self.problems]
        raise ConfigImportError(failure_message(self.path, problems), problems)


def scrub_secrets(text: str, secrets: Iterable[str]) -> str:
    """Last line of defence: no secret in any message, even if a value was echoed."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "********")
    return text


def failure_message(path: Path, problems: list[str]) -> str:
    count = len(problems)
    heading = f"Import impossible depuis « {path} » : rien n'a été importé. " + (
        "Erreur :" if count == 1 else f"{count} erreurs :"
    )
    lines = [heading, *(f"  - {path.name}, {problem}" for problem in problems)]
    if any(re.search(r"\w\[\d+\]", problem) for problem in problems):
        lines.append("(les démarches sont numérotées à partir de 1, dans l'ordre du fichier)")
    return "\n".join(lines)
