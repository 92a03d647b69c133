"""EtatCivil: civil-status certificate request (AEC), shaped like the service-public.fr flow."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime

from .people import Applicant, Commune, random_date, years_before
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
from .xml_writer import el, iso_date, render_xml

_ACT_TYPES = (
    ("NAISSANCE", "Acte de naissance"),
    ("NAISSANCE", "Acte de naissance"),
    ("NAISSANCE", "Acte de naissance"),
    ("MARIAGE", "Acte de mariage"),
)
_ACT_NATURES = (
    ("COPIE-INTEGRALE", "Copie intégrale"),
    ("EXTRAIT-AVEC-FILIATION", "Extrait avec filiation"),
    ("EXTRAIT-SANS-FILIATION", "Extrait sans filiation"),
    ("EXTRAIT-PLURILINGUE", "Extrait plurilingue"),
)
_ACT_REASONS = (
    "Passeport",
    "Carte nationale d'identité",
    "Mariage",
    "Pacte civil de solidarité",
    "Succession",
    "Autre",
)


@dataclass(frozen=True)
class EtatCivilRequest:
    applicant: Applicant
    external_id: str
    submitted_at: datetime
    act_code: str
    act_label: str
    nature_code: str
    nature_label: str
    act_date: date
    act_place: Commune
    copies: int
    reason: str


def _etat_civil_request(
    applicant: Applicant, external_id: str, submitted: datetime, rng: random.Random
) -> EtatCivilRequest:
    act_code, act_label = rng.choice(_ACT_TYPES)
    nature_code, nature_label = rng.choice(_ACT_NATURES)
    if act_code == "MARIAGE":
        earliest = min(years_before(applicant.birth_date, -18), submitted.date())
        act_date = random_date(rng, earliest, submitted.date())
        act_place = applicant.address.commune
    else:
        act_date, act_place = applicant.birth_date, applicant.birth_commune
    return EtatCivilRequest(
        applicant=applicant,
        external_id=external_id,
        submitted_at=submitted,
        act_code=act_code,
        act_label=act_label,
        nature_code=nature_code,
        nature_label=nature_label,
        act_date=act_date,
        act_place=act_place,
        copies=rng.choice((1, 1, 1, 2)),
        reason=rng.choice(_ACT_REASONS),
    )


def make_etat_civil_xml(request: EtatCivilRequest) -> bytes:
    """``EnveloppeMetierType`` / ``DemandeActe``, like the service-public.fr AEC flow."""
    person = request.applicant
    address = person.address
    root = el(
        "EnveloppeMetierType",
        el(
            "DemandeActe",
            el("TypeActe", el("Code", request.act_code), el("Libelle", request.act_label)),
            el(
                "NatureActe",
                el("Code", request.nature_code),
                el("Libelle", request.nature_label),
            ),
            el("DateActe", iso_date(request.act_date)),
            el(
                "LieuActe",
                el("CodePostal", request.act_place.postal_code),
                el("Ville", request.act_place.upper),
                el("CodeINSEE", request.act_place.insee),
            ),
            el("NombreExemplaires", request.copies),
            el("MotifDemande", el("Libelle", request.reason), el("Commentaire", "")),
            el(
                "Demandeur",
                el(
                    "QualiteDemandeur",
                    el("Code", "PersonneConcernee"),
                    el("Libelle", "La personne concernée par l'acte"),
                ),
                el("Civilite", person.civility.upper()),
                el("Nom", person.last_name),
                el("Prenom", person.first_name),
                el(
                    "AdresseFrancaise",
                    el("Voie", address.line),
                    el("CodePostal", address.commune.postal_code),
                    el("Ville", address.commune.upper),
                ),
                el("Courriel", person.email),
            ),
            el(
                "Titulaire",
                el("Civilite", person.civility.upper()),
                el("NomNaissance", person.birth_last_name),
                el("Prenoms", person.all_first_names),
                el("DateDeNaissance", iso_date(person.birth_date)),
                el("LieuDeNaissance", person.birth_commune.upper),
                el("DepartementDeNaissance", person.birth_commune.departement),
            ),
        ),
        canal_utilise="0",
    )
    return render_xml(root)


def _etat_civil_pdf_lines(request: EtatCivilRequest) -> list[str]:
    person = request.applicant
    place = request.act_place
    lines = header_lines(request.external_id, request.submitted_at)
    lines += [
        "# Commune concernée par l'acte",
        f"Code postal / Nom de la commune : {place.postal_code} {place.upper}",
        "# Type d'acte",
        f"Type d'acte : {request.act_label}",
        f"Nature de l'acte : {request.nature_label}",
        f"Nombre d'exemplaires : {request.copies}",
        f"Motif de la demande : {request.reason}",
        "Qualité du demandeur : La personne concernée par l'acte",
    ]
    if request.act_code == "MARIAGE":
        lines.append(f"Date du mariage : {fr_date(request.act_date)}")
    lines += ["# Identité de la personne faisant l'objet de la demande"]
    lines += person_lines(person)
    lines += ["# Adresse de réception de l'acte"]
    lines += address_lines(person.address)
    lines += ["# Informations de contact"]
    lines += contact_lines(person)
    return lines


def etat_civil_files(
    applicant: Applicant, external_id: str, submitted: datetime, rng: random.Random
) -> list[GeneratedFile]:
    request = _etat_civil_request(applicant, external_id, submitted, rng)
    return [
        pdf_file(
            "ActeEtatCivil-PDF.pdf",
            "ActeEtatCivil-PDF",
            "Demande d'acte d'état civil",
            _etat_civil_pdf_lines(request),
        ),
        xml_file("ActeEtatCivil-XML.xml", "ActeEtatCivil-XML", make_etat_civil_xml(request)),
    ]
