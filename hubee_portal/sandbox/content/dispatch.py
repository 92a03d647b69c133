"""The entry point: which files a deposit of each démarche carries, and its number."""

from __future__ import annotations

import random
from datetime import datetime

from .certdc import death_files
from .coordonnees import address_change_files
from .etat_civil import etat_civil_files
from .generic import generic_files
from .jpeg import identity_scan
from .pacs import pacs_files
from .people import Applicant
from .recensement import census_files
from .shared import GeneratedFile, safe_name, submission_time

SUPPORTED_PROCESS_CODES: tuple[str, ...] = (
    "EtatCivil",
    "recensementCitoyen",
    "depotDossierPACS",
    "JeChangeDeCoordonnees",
    "CERTDC",
)


def new_external_id(process_code: str, rng: random.Random) -> str:
    """A télédossier number shaped like the OSL ones.

    DILA démarches: ``A-1-`` and 8 characters (``A-1-N8F602RR``); CERTDC: the certificate
    number ``ER`` + year + 7 digits (``ER20190860001``).
    """
    if process_code == "CERTDC":
        return f"ER{rng.randint(2024, 2026)}{rng.randint(0, 9_999_999):07d}"
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
    return "A-1-" + "".join(rng.choice(alphabet) for _ in range(8))


# Démarches whose deposits may carry a scanned identity document (a JPEG), type "scan".
SCAN_PROCESS_CODES: tuple[str, ...] = ("EtatCivil", "recensementCitoyen")
SCAN_TYPE = "scan"
JPEG_MIME = "image/jpeg"

_BUILDERS = {
    "EtatCivil": etat_civil_files,
    "recensementCitoyen": census_files,
    "depotDossierPACS": pacs_files,
    "JeChangeDeCoordonnees": address_change_files,
    "CERTDC": death_files,
}


def generate_files(
    process_code: str,
    applicant: Applicant,
    external_id: str,
    rng: random.Random,
    *,
    submitted_at: datetime | None = None,
    scan: bool = False,
) -> list[GeneratedFile]:
    """The files a real deposit of this démarche carries, filled with the applicant's data.

    ``submitted_at`` (naive = Paris wall time, or aware) dates the deposit; without it a
    2025 date is drawn from ``rng``. Same inputs and same rng state: same bytes. An unknown
    process code gives a generic XML + PDF pair of type ``document``. With ``scan``, a démarche
    of SCAN_PROCESS_CODES also carries a JPEG scan, drawn last: the other files do not change.
    """
    submitted = submission_time(submitted_at, rng)
    builder = _BUILDERS.get(process_code)
    if builder is None:
        return generic_files(process_code, applicant, external_id, submitted)
    files = builder(applicant, external_id, submitted, rng)
    if scan and process_code in SCAN_PROCESS_CODES:
        name = f"{safe_name(external_id)}-{process_code}-scan-identite.jpg"
        files.append(GeneratedFile(name, SCAN_TYPE, JPEG_MIME, identity_scan(rng)))
    return files
