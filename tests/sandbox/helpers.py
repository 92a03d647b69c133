"""Shared helpers of the sandbox tests."""

from __future__ import annotations

import base64
import hashlib

PDF = b"%PDF-1.4\n% sandbox test\n" + bytes(range(256)) * 40
XML = b'<?xml version="1.0" encoding="UTF-8"?>\n<demande><acte>naissance</acte></demande>\n'


def b64_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def etat_civil_files() -> list[tuple[str, str, str, bytes]]:
    return [
        ("ActeEtatCivil-PDF.pdf", "ActeEtatCivil-PDF", "application/pdf", PDF),
        ("ActeEtatCivil-XML.xml", "ActeEtatCivil-XML", "application/xml", XML),
    ]


def status_event(status: str, **extra: object) -> dict[str, object]:
    return {
        "actionType": "STATUS_UPDATE",
        "author": "Agent de test",
        "notification": True,
        "caseNewStatus": status,
        **extra,
    }
