"""JeChangeDeCoordonnees: change of address, flow for the vehicle register (JCC / SIV).

The ``flux-siv`` samples of the test kit are placeholders, so the XML shape is ours.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .people import Address, Applicant, random_address, random_date
from .shared import (
    GeneratedFile,
    address_lines,
    contact_lines,
    fr_date,
    header_lines,
    pdf_file,
    person_lines,
    xml_file,
)
from .xml_writer import Node, el, iso_date, render_xml

_PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTVWXYZ"


@dataclass(frozen=True)
class AddressChange:
    applicant: Applicant
    external_id: str
    submitted_at: datetime
    effective_date: date
    old_address: Address
    plate: str
    registration_document: str
    first_registration: date


def _address_change(
    applicant: Applicant, external_id: str, submitted: datetime, rng: random.Random
) -> AddressChange:
    old = random_address(rng)
    while old == applicant.address:  # pragma: no cover - a coincidence, drawn again
        old = random_address(rng)
    letters = [rng.choice(_PLATE_LETTERS) for _ in range(4)]
    plate = f"{letters[0]}{letters[1]}-{rng.randint(1, 999):03d}-{letters[2]}{letters[3]}"
    first_registration = random_date(rng, date(2012, 1, 1), date(2024, 12, 31))
    document = (
        f"{first_registration.year}{rng.choice(_PLATE_LETTERS)}{rng.choice(_PLATE_LETTERS)}"
        f"{rng.randint(0, 99999):05d}"
    )
    return AddressChange(
        applicant=applicant,
        external_id=external_id,
        submitted_at=submitted,
        effective_date=submitted.date() - timedelta(days=rng.randint(0, 30)),
        old_address=old,
        plate=plate,
        registration_document=document,
        first_registration=first_registration,
    )


def _siv_address(tag: str, address: Address) -> Node:
    return el(
        tag,
        el("NumeroVoie", address.number),
        el("TypeVoie", address.street_type),
        el("NomVoie", address.street_name),
        el("CodePostal", address.commune.postal_code),
        el("Localite", address.commune.upper),
        el("CodeINSEE", address.commune.insee),
        el("Pays", "FRA"),
    )


def make_flux_siv_xml(change: AddressChange) -> bytes:
    """``FluxSIV``: the change of address sent to the vehicle register (our own shape)."""
    person = change.applicant
    root = el(
        "FluxSIV",
        el(
            "Teledossier",
            el("Numero", change.external_id),
            el("Demarche", "JeChangeDeCoordonnees"),
            el("DateSoumission", change.submitted_at.strftime("%Y-%m-%dT%H:%M:%S")),
        ),
        el(
            "ChangementAdresse",
            el("DateEffet", iso_date(change.effective_date)),
            el("Motif", el("Code", "DEMENAGEMENT"), el("Libelle", "Déménagement")),
        ),
        el(
            "Titulaire",
            el("Civilite", person.civility.upper()),
            el("Sexe", "F" if person.is_female else "M"),
            el("NomNaissance", person.birth_last_name),
            el("NomUsage", person.last_name),
            el("Prenoms", person.all_first_names),
            el("DateNaissance", iso_date(person.birth_date)),
            el("CommuneNaissance", person.birth_commune.upper),
            el("CodeINSEENaissance", person.birth_commune.insee),
            el("PaysNaissance", "FRA"),
        ),
        _siv_address("AncienneAdresse", change.old_address),
        _siv_address("NouvelleAdresse", person.address),
        el(
            "Vehicule",
            el("NumeroImmatriculation", change.plate),
            el("NumeroFormule", change.registration_document),
            el("DatePremiereImmatriculation", iso_date(change.first_registration)),
        ),
        el("Contact", el("Courriel", person.email), el("Telephone", person.phone)),
        version="1.0",
    )
    return render_xml(root)


def _address_change_lines(change: AddressChange) -> list[str]:
    person = change.applicant
    lines = header_lines(change.external_id, change.submitted_at)
    lines += [
        "# Informations sur le changement d'adresse postale",
        f"Date d'effet : {fr_date(change.effective_date)}",
        "Objet du changement : Déménagement",
        "# Mes informations personnelles",
    ]
    lines += person_lines(person)
    lines += ["# Adresse postale avant le déménagement"]
    lines += address_lines(change.old_address)
    lines += ["# Adresse postale après le déménagement"]
    lines += address_lines(person.address)
    lines += [
        "# Organismes destinataires",
        "Système d'immatriculation des véhicules (SIV)",
        f"Numéro d'immatriculation : {change.plate}",
        f"Numéro de formule du certificat : {change.registration_document}",
        f"Date de première immatriculation : {fr_date(change.first_registration)}",
        "# Coordonnées de contact",
    ]
    lines += contact_lines(person)
    return lines


def address_change_files(
    applicant: Applicant, external_id: str, submitted: datetime, rng: random.Random
) -> list[GeneratedFile]:
    change = _address_change(applicant, external_id, submitted, rng)
    return [
        pdf_file(
            "flux-siv.pdf",
            "flux-siv",
            "Déclaration de changement de coordonnées",
            _address_change_lines(change),
        ),
        xml_file("flux-siv.xml", "flux-siv", make_flux_siv_xml(change)),
    ]
