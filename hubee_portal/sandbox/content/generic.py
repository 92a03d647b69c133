"""Any other process code: a generic XML + PDF pair of type ``document``."""

from __future__ import annotations

from datetime import datetime

from .people import Applicant
from .shared import (
    GENERIC_TYPE,
    GeneratedFile,
    address_lines,
    header_lines,
    pdf_file,
    person_lines,
    safe_name,
    xml_file,
)
from .xml_writer import el, iso_date, render_xml


def make_generic_xml(
    process_code: str, applicant: Applicant, external_id: str, submitted_at: datetime
) -> bytes:
    """``Teledossier``: the applicant of a démarche this module has no real shape for."""
    address = applicant.address
    root = el(
        "Teledossier",
        el("Numero", external_id),
        el("DateSoumission", submitted_at.strftime("%Y-%m-%dT%H:%M:%S")),
        el(
            "Demandeur",
            el("Civilite", applicant.civility.upper()),
            el("Nom", applicant.last_name),
            el("Prenoms", applicant.all_first_names),
            el("DateNaissance", iso_date(applicant.birth_date)),
            el("Courriel", applicant.email),
            el("Telephone", applicant.phone),
            el(
                "Adresse",
                el("Voie", address.line),
                el("CodePostal", address.commune.postal_code),
                el("Localite", address.commune.upper),
                el("CodeINSEE", address.commune.insee),
            ),
        ),
        processCode=process_code,
    )
    return render_xml(root)


def generic_files(
    process_code: str, applicant: Applicant, external_id: str, submitted: datetime
) -> list[GeneratedFile]:
    stem = f"{safe_name(external_id)}-{safe_name(process_code, 'demarche')}-document"
    lines = header_lines(external_id, submitted)
    lines += [f"Démarche : {process_code}", "# Demandeur"]
    lines += person_lines(applicant, with_contact=True)
    lines += ["# Adresse"]
    lines += address_lines(applicant.address)
    return [
        xml_file(
            f"{stem}-0.xml",
            GENERIC_TYPE,
            make_generic_xml(process_code, applicant, external_id, submitted),
        ),
        pdf_file(f"{stem}-1.pdf", GENERIC_TYPE, f"Télédossier {process_code}", lines),
    ]
