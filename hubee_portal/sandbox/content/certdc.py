"""CERTDC: electronic death certificate, declaration (DD) and administrative part (VA)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from .people import Applicant, Commune, random_person, upper_ascii
from .shared import GeneratedFile, fr_date, fr_datetime, pdf_file, safe_name, xml_file
from .xml_writer import el, iso_date, opt, render_xml, xml_bool

_ESTABLISHMENT_NAMES = (
    "Centre hospitalier des Tilleuls",
    "Clinique du Parc",
    "Centre hospitalier Val-Fleuri",
    "Clinique Les Glycines",
)


@dataclass(frozen=True)
class DeathCertificate:
    """The deceased is the case applicant; the doctor and the others are invented."""

    deceased: Applicant
    certificate_number: str
    written_at: datetime
    death_at: datetime
    place: Commune
    establishment: str
    finess: str
    doctor: str
    declarant: str
    officer: str
    deposit_code: str
    pacemaker: bool


def _death_certificate(
    applicant: Applicant, external_id: str, submitted: datetime, rng: random.Random
) -> DeathCertificate:
    place = applicant.address.commune
    doctor = random_person(rng)
    declarant = random_person(rng, last_name=applicant.last_name)
    officer = random_person(rng)
    department = place.insee[:2]
    return DeathCertificate(
        deceased=applicant,
        certificate_number=external_id,
        written_at=submitted,
        death_at=submitted - timedelta(minutes=rng.randint(20, 720)),
        place=place,
        establishment=f"{rng.choice(_ESTABLISHMENT_NAMES)} - {place.name}",
        finess=f"{department}{rng.randint(0, 9_999_999):07d}",
        doctor=f"Dr {doctor.first_name} {upper_ascii(doctor.last_name)}",
        declarant=f"{declarant.first_name} {declarant.last_name}",
        officer=f"{officer.first_name} {upper_ascii(officer.last_name)}",
        deposit_code="-".join(f"{rng.randint(0, 9999):04d}" for _ in range(4)),
        pacemaker=rng.random() < 0.2,
    )


def make_death_declaration_xml(cert: DeathCertificate) -> bytes:
    """``InsermDeclarationDeces`` (the ``DD`` file)."""
    person = cert.deceased
    address = person.address
    root = el(
        "InsermDeclarationDeces",
        el("Annee", cert.death_at.year),
        el("Ville", cert.place.upper),
        el("Etablissement", cert.establishment),
        el("CodeFinessEtablissement", cert.finess),
        el(
            "DateDeces",
            el("Date", iso_date(cert.death_at.date())),
            el("Heure", cert.death_at.strftime("%H:%M:00")),
        ),
        el("DateRedaction", cert.written_at.strftime("%Y-%m-%dT%H:%M:%S")),
        el(
            "Defunt",
            el("Nom", person.last_name),
            opt("NomJeuneFille", person.birth_last_name if person.is_female else None),
            el("Prenoms", person.all_first_names),
            el("DateNaissance", iso_date(person.birth_date)),
            el(
                "AdresseDomicile",
                el("Adresse", address.line),
                el("Commune", address.commune.upper),
                el("CodePostal", address.commune.postal_code),
                el("Departement", address.commune.departement),
            ),
        ),
        el(
            "InformationsValidateurs",
            el("NomDeclarant", cert.declarant),
            el("NomOfficier", cert.officer),
            el("NomMedecin", cert.doctor),
        ),
        version="1.00.00",
    )
    return render_xml(root)


def make_death_certificate_xml(cert: DeathCertificate) -> bytes:
    """``InsermCertificatAdministrative`` (the ``VA`` file: administrative part)."""
    person = cert.deceased
    address = person.address
    root = el(
        "InsermCertificatAdministrative",
        el(
            "DateDeces",
            el("Date", iso_date(cert.death_at.date())),
            el("Heure", cert.death_at.strftime("%H:%M:00")),
        ),
        el(
            "Defunt",
            el("Nom", person.last_name),
            opt("NomJeuneFille", person.birth_last_name if person.is_female else None),
            el("Prenoms", person.all_first_names),
            el("DateNaissance", iso_date(person.birth_date)),
            el("Sexe", "Feminin" if person.is_female else "Masculin"),
        ),
        el(
            "LieuDeces",
            el("Commune", cert.place.upper),
            el("CodePostal", cert.place.postal_code),
        ),
        el(
            "AdresseDomicile",
            el("NumeroRue", address.number),
            el("Adresse", address.street),
            el("Commune", address.commune.upper),
            el("CodePostal", address.commune.postal_code),
        ),
        el(
            "InformationsFuneraires",
            el("ObstacleMedicoLegal", xml_bool(False)),
            el(
                "MiseEnBiereImmediate",
                el("CercueilHermetique", xml_bool(False)),
                el("CercueilSimple", xml_bool(False)),
                miseenbiere=xml_bool(False),
            ),
            el("ObstacleSoinsConservation", xml_bool(False)),
            el("ObstacleDonCorps", xml_bool(False)),
            el("RechercheCauseDeces", xml_bool(False)),
            el("PresenceProthesePile", xml_bool(cert.pacemaker)),
            el("RetraitProthesePile", xml_bool(cert.pacemaker)),
        ),
        el(
            "Validation",
            el("NNC", cert.certificate_number),
            el("CodeFinessOrganisme", cert.finess),
            el("Medecin", cert.doctor),
            el("Lieu", cert.place.upper),
            el("Date", cert.written_at.strftime("%Y-%m-%dT%H:%M:%S")),
            el("CodeDepot", cert.deposit_code),
        ),
        el("DoublonVolontaire", xml_bool(False)),
        version="1.00.00",
    )
    return render_xml(root)


def _deceased_lines(cert: DeathCertificate) -> list[str]:
    person = cert.deceased
    lines = [
        f"Nom : {person.last_name}",
    ]
    if person.birth_name and person.birth_name != person.last_name:
        lines.append(f"Nom de naissance : {person.birth_name}")
    lines += [
        f"Prénoms : {person.all_first_names}",
        f"Sexe : {'Féminin' if person.is_female else 'Masculin'}",
        f"Date de naissance : {fr_date(person.birth_date)}",
        f"Domicile : {person.address.line}, {person.address.locality}",
    ]
    return lines


def _death_declaration_lines(cert: DeathCertificate) -> list[str]:
    return [
        f"Numéro de certificat : {cert.certificate_number}",
        f"Rédigé le : {fr_datetime(cert.written_at)}",
        "# Décès",
        f"Date et heure du décès : {fr_datetime(cert.death_at)}",
        f"Commune du décès : {cert.place.postal_code} {cert.place.upper}",
        f"Établissement : {cert.establishment} (FINESS {cert.finess})",
        "# Personne décédée",
        *_deceased_lines(cert),
        "# Validation",
        f"Déclarant : {cert.declarant}",
        f"Officier d'état civil : {cert.officer}",
        f"Médecin : {cert.doctor}",
    ]


def _death_certificate_lines(cert: DeathCertificate) -> list[str]:
    def yes_no(value: bool) -> str:
        return "Oui" if value else "Non"

    return [
        f"Numéro de certificat : {cert.certificate_number}",
        "# Personne décédée",
        *_deceased_lines(cert),
        "# Décès",
        f"Date et heure du décès : {fr_datetime(cert.death_at)}",
        f"Lieu du décès : {cert.place.postal_code} {cert.place.upper}",
        "# Informations funéraires",
        "Obstacle médico-légal : Non",
        "Mise en bière immédiate : Non",
        "Obstacle aux soins de conservation : Non",
        "Obstacle au don du corps : Non",
        "Recherche de la cause du décès : Non",
        f"Prothèse fonctionnant au moyen d'une pile : {yes_no(cert.pacemaker)}",
        f"Retrait de la prothèse effectué : {yes_no(cert.pacemaker)}",
        "# Validation",
        f"Médecin certificateur : {cert.doctor}",
        f"Fait à {cert.place.name}, le {fr_datetime(cert.written_at)}",
        f"Code de dépôt : {cert.deposit_code}",
    ]


def death_files(
    applicant: Applicant, external_id: str, submitted: datetime, rng: random.Random
) -> list[GeneratedFile]:
    cert = _death_certificate(applicant, external_id, submitted, rng)
    stem = f"{safe_name(external_id)}_{cert.written_at:%Y%m%d_%H%M}"
    return [
        pdf_file(
            f"{stem}_DD.pdf",
            "DD_Certificatdedeces",
            "Certificat de décès - déclaration",
            _death_declaration_lines(cert),
        ),
        xml_file(f"{stem}_DD.xml", "DD_Certificatdedeces", make_death_declaration_xml(cert)),
        pdf_file(
            f"{stem}_VA.pdf",
            "VA_CertificatdeDeces",
            "Certificat de décès - volet administratif",
            _death_certificate_lines(cert),
        ),
        xml_file(f"{stem}_VA.xml", "VA_CertificatdeDeces", make_death_certificate_xml(cert)),
    ]
