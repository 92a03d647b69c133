"""The box `make run` ends its setup with: the addresses, and the accounts created with their
one-time passwords (read from the file hubee_bootstrap and hubee_demo wrote, then deleted)."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

WIDTH = 76
CHANGE = "DEBUG=true .venv/bin/python manage.py changepassword {username}"


def accounts(path: Path) -> list[dict[str, str | None]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    finally:
        path.unlink(missing_ok=True)  # it holds passwords: not a minute longer than needed
    return [json.loads(line) for line in lines if line.strip()]


def summary(base_url: str, found: list[dict[str, str | None]]) -> list[str]:
    lines = [
        "Le Portail de réception HubEE est prêt (Ctrl-C pour arrêter).",
        "",
        f"Portail         {base_url}/",
        f"Administration  {base_url}/admin/",
        f"Bac à sable     {base_url}/sandbox/",
        "",
        "Deux façons de se connecter : identifiant et mot de passe (ci-dessous), ou "
        "« S'identifier avec ProConnect » (faux ProConnect du bac à sable : l'agent de la "
        "démonstration y est « Dominique Agent »).",
    ]
    created = [a for a in found if a.get("password")]
    existing = [a for a in found if not a.get("password")]
    if created:
        lines += ["", "Comptes créés : notez ces mots de passe, ils ne seront plus affichés."]
        lines += [f"  {a['role']:<15} {a['username']}  /  {a['password']}" for a in created]
    if any(a.get("role") == "administrateur" for a in found):
        lines += [
            "",
            "Administrateur : après le mot de passe, le portail demande un code à 6 chiffres ; "
            "à la première connexion, il fait activer une application d'authentification "
            "(FreeOTP, Aegis, Google Authenticator…) et donne dix codes de secours.",
        ]
    if existing:
        lines += [
            "",
            "Comptes déjà créés ("
            + ", ".join(str(a["username"] or a["role"]) for a in existing)
            + ") : leur mot de passe a été affiché au premier lancement. Pour en choisir un "
            "autre :",
        ]
        lines += ["  " + CHANGE.format(username=a["username"] or "<identifiant>") for a in existing]
    return lines


def boxed(lines: list[str]) -> str:
    inner = WIDTH - 4
    wrapped: list[str] = []
    for line in lines:
        indent = line[: len(line) - len(line.lstrip())]
        wrapped += textwrap.wrap(line, inner, subsequent_indent=indent + "  ") or [""]
    width = max(len(line) for line in wrapped)
    border = "─" * (width + 2)
    body = [f"│ {line.ljust(width)} │" for line in wrapped]
    return "\n".join([f"┌{border}┐", *body, f"└{border}┘"])


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        sys.stderr.write("usage : run_summary.py FICHIER ADRESSE_DU_PORTAIL\n")
        return 2
    sys.stdout.write("\n" + boxed(summary(argv[2].rstrip("/"), accounts(Path(argv[1])))) + "\n\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
