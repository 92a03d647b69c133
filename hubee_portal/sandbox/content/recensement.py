"""recensementCitoyen: mandatory citizen census (RCO), cerfa n° 10870.

The test kit does not document the roles of the attachments: ``ji`` is taken as the identity
document and ``jf`` as the family record book (GUESSES).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from .people import Applicant, age, random_date, random_person, years_before
from .shared import (
    GeneratedFile,
    address_lines,
    contact_lines,
    fr_date,
    header_lines,
    pdf_file,
    person_lines,
    safe_name,
    xml_file,
)
from .xml_writer import Node, el, render_xml


@dataclass(frozen=True)
class CensusDeclaration:
    """``person`` is the young person; ``declarant`` is either them or a parent."""

    declarant: Applicant
    person: Applicant
    father: Applicant
    mother: Applicant
    external_id: str
    submitted_at: datetime
    siblings: int


def _census_declaration(
    applicant: Applicant, external_id: str, submitted: datetime, rng: random.Random
) -> CensusDeclaration:
    today = submitted.date()
    if age(applicant.birth_date, today) < 26:  # the young person declares (or regularises)
        person = applicant
        born = (
            years_before(applicant.birth_date, 40),
            years_before(applicant.birth_date, 20),
        )
        father = random_person(
            rng,
            female=False,
            last_name=applicant.birth_last_name,
            born_between=born,
            address=applicant.address,
        )
        mother = random_person(rng, female=True, born_between=born, address=applicant.address)
    else:  # a parent declares their child, aged 16 (within the three following months)
        sixteenth = today - timedelta(days=rng.randint(0, 85))
        child_birth = years_before(sixteenth, 16)
        child = random_person(
            rng,
            female=rng.random() < 0.5,
            last_name=applicant.last_name,
            born_between=(child_birth, child_birth),
            address=applicant.address,
        )
        person = Applicant(
            first_name=child.first_name,
            last_name=child.last_name,
            email=applicant.email,
            civility=child.civility,
            other_first_names=child.other_first_names,
            birth_date=child.birth_date,
            birth_commune=applicant.address.commune,
            address=applicant.address,
            phone=applicant.phone,
        )
        born = (
            years_before(applicant.birth_date, 6),
            years_before(applicant.birth_date, -6),
        )
        # The child bears the name in use of the declarant: the father's name when the
        # declarant is the mother.
        other = random_person(
            rng,
            female=not applicant.is_female,
            last_name=applicant.last_name if applicant.is_female else None,
            born_between=born,
            address=applicant.address,
        )
        father, mother = (other, applicant) if applicant.is_female else (applicant, other)
    return CensusDeclaration(
        declarant=applicant,
        person=person,
        father=father,
        mother=mother,
        external_id=external_id,
        submitted_at=submitted,
        siblings=rng.randint(0, 3),
    )


def _census_birth_place(person: Applicant) -> list[Node]:
    commune = person.birth_commune
    return [
        el("CodeINSEENaissance", commune.insee),
        el("LieuNaissance", el("Code", "COMMUNE"), el("Nom", commune.upper)),
        el("LieuNaissance", el("Code", "AUTRE"), el("Nom", commune.postal_code)),
    ]


def _census_parent(tag: str, parent: Applicant) -> Node:
    return el(
        tag,
        el("NomFamille", parent.birth_last_name),
        el("PrenomUsuel", parent.first_name),
        el("Prenom", " ".join(parent.other_first_names)),
        el("DateNaissance", fr_date(parent.birth_date)),
        el("PaysNaissance", "FRA"),
        el("Nationalite", "FRA"),
        *_census_birth_place(parent),
    )


def make_census_xml(declaration: CensusDeclaration) -> bytes:
    """``RecensementCitoyen``: formality, person, addresses, family, contacts, parents."""
    person = declaration.person
    address = person.address
    contacts = []
    if declaration.declarant.email:
        contacts.append(
            el("MethodeContact", el("URI", declaration.declarant.email), el("CanalCode", "EMAIL"))
        )
    if declaration.declarant.phone:
        contacts.append(
            el("MethodeContact", el("URI", declaration.declarant.phone), el("CanalCode", "TEL"))
        )
    root = el(
        "RecensementCitoyen",
        el("Convention", ""),
        el(
            "Formalite",
            el("Identifiant", declaration.external_id),
            el("FormaliteType", "DECL"),
            el("DateSoumission", declaration.submitted_at.strftime("%Y-%m-%dT%H:%M:%S")),
            el("FormaliteMotifCode", "RECENSEMENT"),
            el("FormaliteModeCode", "AJOUT"),
        ),
        el(
            "Personne",
            el("Civilite", "MME" if person.is_female else "M"),
            el("Sexe", "2" if person.is_female else "1"),
            el("NomFamille", person.birth_last_name),
            el("NomUsage", person.last_name if person.birth_name else ""),
            el("PrenomUsuel", person.first_name),
            el("Prenom", " ".join(person.other_first_names)),
            el("DateNaissance", fr_date(person.birth_date)),
            el("PaysNaissance", "FRA"),
            el("Nationalite", "FRA"),
            *_census_birth_place(person),
            el(
                "AdresseDomicile",
                el("PointDeRemise", ""),
                el("Complement", ""),
                el("NumeroVoie", address.number),
                el("Extension", ""),
                el("TypeVoie", address.street_type),
                el("NomVoie", address.street_name),
                el("LieuDit", ""),
                el("CodePostal", address.commune.postal_code),
                el("Localite", address.commune.upper),
                el("CodeINSEE", address.commune.insee),
            ),
            el(
                "SituationFamille",
                el("SituationMatrimoniale", "Célibataire"),
                el("NombreEnfants", 0),
                el("Pupille", ""),
                el("NombreFrereSoeur", declaration.siblings),
            ),
            *contacts,
        ),
        _census_parent("FiliationPere", declaration.father),
        _census_parent("FiliationMere", declaration.mother),
    )
    return render_xml(root)


def _census_pdf_lines(declaration: CensusDeclaration) -> list[str]:
    person = declaration.person
    declarant = declaration.declarant
    father, mother = declaration.father, declaration.mother
    lines = header_lines(declaration.external_id, declaration.submitted_at)
    lines += ["Notice individuelle de recensement (cerfa n° 10870)", "# La personne recensée"]
    lines += person_lines(person)
    lines += ["Nationalité : Française", "# Domicile"]
    lines += address_lines(person.address)
    lines += [
        "# Situation familiale",
        "Situation matrimoniale : Célibataire",
        f"Nombre de frères et sœurs : {declaration.siblings}",
        "# Filiation",
        f"Père : {father.all_first_names} {father.birth_last_name}, "
        f"né le {fr_date(father.birth_date)} à {father.birth_commune.name}",
        f"Mère : {mother.all_first_names} {mother.birth_last_name}, "
        f"née le {fr_date(mother.birth_date)} à {mother.birth_commune.name}",
        "# Déclarant",
        f"{declarant.civility_label} {declarant.first_name} {declarant.last_name}"
        + (" (la personne recensée)" if declarant is person else " (représentant légal)"),
    ]
    lines += contact_lines(declarant)
    lines += [
        "# Information de l'intéressé(e)",
        "Les informations de ce formulaire servent à délivrer l'attestation de recensement. "
        "Elles sont communiquées au service national, qui convoquera la personne recensée "
        "à la Journée défense et citoyenneté (JDC), et à l'INSEE pour son inscription "
        "d'office sur les listes électorales à 18 ans. Tout changement de domicile de plus "
        "de quatre mois doit être signalé jusqu'à 25 ans.",
        f"Certifié exact, à {person.address.commune.name}, le {fr_date(declaration.submitted_at)}.",
    ]
    return lines


def _identity_proof_lines(person: Applicant, rng: random.Random) -> list[str]:
    number = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ0123456789") for _ in range(9))
    issued = random_date(
        rng, years_before(person.birth_date, -14), years_before(person.birth_date, -16)
    )
    return [
        "Pièce fournie : carte nationale d'identité (copie)",
        f"Numéro du titre : {number}",
        f"Nom : {person.birth_last_name}",
        f"Prénoms : {person.all_first_names}",
        f"Sexe : {'F' if person.is_female else 'M'}",
        f"Né(e) le : {fr_date(person.birth_date)} à {person.birth_commune.name}",
        "Nationalité : Française",
        f"Délivrée le : {fr_date(issued)}",
    ]


def _family_book_lines(declaration: CensusDeclaration) -> list[str]:
    father, mother, person = declaration.father, declaration.mother, declaration.person
    return [
        "Livret de famille (extrait)",
        "# Époux / Parent 1",
        f"{father.all_first_names} {father.birth_last_name}",
        f"Né le {fr_date(father.birth_date)} à {father.birth_commune.name} "
        f"({father.birth_commune.departement})",
        "# Épouse / Parent 2",
        f"{mother.all_first_names} {mother.birth_last_name}",
        f"Née le {fr_date(mother.birth_date)} à {mother.birth_commune.name} "
        f"({mother.birth_commune.departement})",
        "# Enfant",
        f"{person.all_first_names} {person.birth_last_name}",
        f"{'Née' if person.is_female else 'Né'} le {fr_date(person.birth_date)} "
        f"à {person.birth_commune.name}",
    ]


def census_files(
    applicant: Applicant, external_id: str, submitted: datetime, rng: random.Random
) -> list[GeneratedFile]:
    declaration = _census_declaration(applicant, external_id, submitted, rng)
    prefix = f"{safe_name(external_id)}-recensementCitoyen"
    return [
        xml_file("10870-XML.xml", "10870-XML", make_census_xml(declaration)),
        pdf_file(
            "10870-PDF.pdf",
            "10870-PDF",
            "Recensement citoyen obligatoire",
            _census_pdf_lines(declaration),
        ),
        pdf_file(
            f"{prefix}-ji-0.pdf",
            "ji",
            "Justificatif d'identité",
            _identity_proof_lines(declaration.person, rng),
        ),
        pdf_file(
            f"{prefix}-jf-1.pdf",
            "jf",
            "Justificatif de situation familiale",
            _family_book_lines(declaration),
        ),
    ]
