"""What every démarche's files share: the file shape, French dates, the PDF sections about a
person, an address and the deposit, and the file-name rules.
"""

from __future__ import annotations

import base64
import hashlib
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from .pdf import make_pdf
from .people import Address, Applicant, ascii_fold, random_date

GENERIC_TYPE = "document"

PDF_MIME = "application/pdf"
XML_MIME = "application/xml"

_PARIS = ZoneInfo("Europe/Paris")
_SANDBOX_NOTICE = "Document fictif produit par le bac à sable HubEE : données inventées."


@dataclass(frozen=True)
class GeneratedFile:
    """One attachment of a deposit: what the OSL declares, and the bytes it uploads."""

    file_name: str
    type: str
    mime_type: str
    content: bytes

    @property
    def size(self) -> int:
        return len(self.content)

    @property
    def sha256_hex(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def digest(self) -> str:
        """Base64 of the raw SHA-256: the format of the HubEE ``digest`` header."""
        return base64.b64encode(hashlib.sha256(self.content).digest()).decode("ascii")


def fr_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def fr_datetime(moment: datetime) -> str:
    return moment.strftime("%d/%m/%Y à %H:%M")


def safe_name(value: str, fallback: str = "teledossier") -> str:
    """A file-name-safe form of an identifier (ASCII letters, digits, ``.``, ``-``, ``_``)."""
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", ascii_fold(value)).strip("-.")
    return text[:60] or fallback


def submission_time(submitted_at: datetime | None, rng: random.Random) -> datetime:
    """The deposit time as local (Paris) wall time; drawn from rng when not given."""
    if submitted_at is None:
        day = random_date(rng, date(2025, 1, 1), date(2025, 12, 31))
        clock = time(rng.randint(7, 21), rng.randrange(60), rng.randrange(60))
        return datetime.combine(day, clock)
    if submitted_at.tzinfo is not None:
        submitted_at = submitted_at.astimezone(_PARIS).replace(tzinfo=None)
    return submitted_at.replace(microsecond=0)


def person_lines(person: Applicant, *, with_contact: bool = False) -> list[str]:
    lines = [
        f"Civilité : {person.civility_label}",
        f"Nom de naissance : {person.birth_last_name}",
    ]
    if person.birth_name and person.birth_name != person.last_name:
        lines.append(f"Nom d'usage : {person.last_name}")
    lines += [
        f"Prénoms : {person.all_first_names}",
        f"Date de naissance (JJ/MM/AAAA) : {fr_date(person.birth_date)}",
        "Pays de naissance : FRANCE",
        f"Département de naissance : {person.birth_commune.departement}",
        "Code postal / Commune de naissance : "
        f"{person.birth_commune.postal_code} {person.birth_commune.upper}",
    ]
    if with_contact:
        lines += contact_lines(person)
    return lines


def contact_lines(person: Applicant) -> list[str]:
    lines = []
    if person.email:
        lines.append(f"Adresse électronique : {person.email}")
    if person.phone:
        lines.append(f"Téléphone : {person.phone}")
    return lines


def address_lines(address: Address) -> list[str]:
    return [
        "Pays : France",
        f"Numéro et libellé de voie : {address.line}",
        f"Code postal / Localité : {address.locality}",
    ]


def header_lines(external_id: str, submitted: datetime) -> list[str]:
    return [
        f"Numéro de télédossier : {external_id}",
        f"Déposé le : {fr_datetime(submitted)}",
        "",
    ]


def pdf_file(file_name: str, type_: str, title: str, lines: Sequence[str]) -> GeneratedFile:
    return GeneratedFile(file_name, type_, PDF_MIME, make_pdf(title, [*lines, "", _SANDBOX_NOTICE]))


def xml_file(file_name: str, type_: str, content: bytes) -> GeneratedFile:
    return GeneratedFile(file_name, type_, XML_MIME, content)
