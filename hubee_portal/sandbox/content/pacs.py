"""depotDossierPACS: PACS preparation file (DDPACS), cerfa n° 15725*02.

The test kit does not document the roles of the attachments: ``an``/``anp`` are taken as the
birth certificates of partner 1 / partner 2 and ``cp`` as the PACS agreement (GUESSES).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

from .people import Address, Applicant, random_person, upper_ascii, years_before
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
from .xml_writer import Node, el, opt, render_xml, xml_bool


@dataclass(frozen=True)
class PacsFile:
    partner1: Applicant
    partner2: Applicant
    external_id: str
    submitted_at: datetime
    specific_agreement: bool
    birth_act_numbers: tuple[int, int]


def _pacs_file(
    applicant: Applicant, external_id: str, submitted: datetime, rng: random.Random
) -> PacsFile:
    latest = min(years_before(submitted.date(), 18), years_before(applicant.birth_date, -9))
    earliest = min(years_before(applicant.birth_date, 9), latest)
    partner2 = random_person(
        rng,
        female=rng.random() < 0.5,
        born_between=(earliest, latest),
        address=applicant.address,
    )
    return PacsFile(
        partner1=applicant,
        partner2=partner2,
        external_id=external_id,
        submitted_at=submitted,
        specific_agreement=rng.random() < 0.3,
        birth_act_numbers=(rng.randint(1, 2400), rng.randint(1, 2400)),
    )


def _pacs_address(tag: str, address: Address) -> Node:
    return el(
        tag,
        el("NumeroLibelleVoie", address.line),
        el("CodePostal", address.commune.postal_code),
        el("Localite", address.commune.upper),
        el("Pays", "FRA"),
    )


def _pacs_partner(tag: str, partner: Applicant) -> Node:
    commune = partner.birth_commune
    return el(
        tag,
        el("civilite", "MME" if partner.is_female else "M"),
        el("nomNaissance", partner.birth_last_name),
        opt("nomUsage", partner.last_name if partner.birth_name else None),
        el("prenoms", partner.all_first_names),
        el("codeNationalite", "FRA"),
        el("jourNaissance", f"{partner.birth_date.day:02d}"),
        el("moisNaissance", f"{partner.birth_date.month:02d}"),
        el("anneeNaissance", partner.birth_date.year),
        el(
            "LieuNaissance",
            el("localite", commune.upper),
            el("codePostal", commune.postal_code),
            el("codeInsee", commune.insee),
            el("departement", upper_ascii(commune.departement)),
            el("codePays", "FRA"),
        ),
        el("ofpra", xml_bool(False)),
        el("mesureJuridique", xml_bool(False)),
        _pacs_address("adressePostale", partner.address),
        el("adresseElectronique", partner.email),
        el("titreIdentiteVerifie", xml_bool(True)),
    )


def make_pacs_xml(pacs: PacsFile) -> bytes:
    """``PACS``: both partners, the agreement kind, the common residence, the attestations."""
    root = el(
        "PACS",
        _pacs_partner("partenaire1", pacs.partner1),
        _pacs_partner("partenaire2", pacs.partner2),
        el("convention", el("conventionSpecifique", xml_bool(pacs.specific_agreement))),
        _pacs_address("residenceCommune", pacs.partner1.address),
        el(
            "attestationHonneur",
            el("nonParente", xml_bool(True)),
            el("residenceCommune", xml_bool(True)),
        ),
        xmlns__xs="http://www.w3.org/2001/XMLSchema",
    )
    return render_xml(root)


def _pacs_form_lines(pacs: PacsFile) -> list[str]:
    lines = header_lines(pacs.external_id, pacs.submitted_at)
    lines += ["Cerfa n° 15725*02", "# Partenaire 1"]
    lines += person_lines(pacs.partner1, with_contact=True)
    lines += ["# Partenaire 2"]
    lines += person_lines(pacs.partner2, with_contact=True)
    lines += ["# Résidence commune"]
    lines += address_lines(pacs.partner1.address)
    lines += [
        "# Attestations sur l'honneur",
        "Les partenaires attestent sur l'honneur qu'il n'existe entre eux aucun lien de "
        "parenté ou d'alliance faisant obstacle à la conclusion d'un PACS, et qu'ils fixent "
        "leur résidence commune à l'adresse indiquée ci-dessus.",
        f"Fait à {pacs.partner1.address.commune.name}, le {fr_date(pacs.submitted_at)}.",
    ]
    return lines


def _birth_certificate_lines(person: Applicant, act_number: int) -> list[str]:
    born = "née" if person.is_female else "né"
    return [
        f"Mairie de {person.birth_commune.name} ({person.birth_commune.departement})",
        f"Acte n° {act_number} - année {person.birth_date.year}",
        "# Acte de naissance",
        f"Le {fr_date(person.birth_date)}, est {born} à {person.birth_commune.name} : "
        f"{person.all_first_names} {person.birth_last_name}, "
        f"de sexe {'féminin' if person.is_female else 'masculin'}.",
        "# Mentions marginales",
        "Néant.",
        "Copie intégrale délivrée pour la constitution d'un dossier de PACS.",
    ]


def _pacs_agreement_lines(pacs: PacsFile) -> list[str]:
    p1, p2 = pacs.partner1, pacs.partner2
    kind = (
        "Convention rédigée par les partenaires"
        if pacs.specific_agreement
        else "Convention type (cerfa n° 15726)"
    )
    return [
        kind,
        "# Les soussignés",
        f"{p1.civility_label} {p1.all_first_names} {p1.last_name}, "
        f"né(e) le {fr_date(p1.birth_date)} à {p1.birth_commune.name}",
        f"{p2.civility_label} {p2.all_first_names} {p2.last_name}, "
        f"né(e) le {fr_date(p2.birth_date)} à {p2.birth_commune.name}",
        "# Objet",
        "Les partenaires concluent un pacte civil de solidarité régi par les articles 515-1 "
        "et suivants du code civil. Ils s'engagent à une vie commune ainsi qu'à une aide "
        "matérielle et une assistance réciproques.",
        "# Régime des biens",
        "Régime de l'indivision" if pacs.specific_agreement else "Séparation des patrimoines",
        f"Fait à {p1.address.commune.name}, le {fr_date(pacs.submitted_at)}, en deux exemplaires.",
    ]


def pacs_files(
    applicant: Applicant, external_id: str, submitted: datetime, rng: random.Random
) -> list[GeneratedFile]:
    pacs = _pacs_file(applicant, external_id, submitted, rng)
    prefix = f"{safe_name(external_id)}-depotDossierPACS"
    files = [
        pdf_file(
            "15725-02.pdf",
            "15725-02",
            "Déclaration conjointe de pacte civil de solidarité (PACS)",
            _pacs_form_lines(pacs),
        ),
        pdf_file(
            f"{prefix}-an-0.pdf",
            "an",
            "Acte de naissance - copie intégrale",
            _birth_certificate_lines(pacs.partner1, pacs.birth_act_numbers[0]),
        ),
        pdf_file(
            f"{prefix}-anp-1.pdf",
            "anp",
            "Acte de naissance - copie intégrale",
            _birth_certificate_lines(pacs.partner2, pacs.birth_act_numbers[1]),
        ),
        pdf_file(
            f"{prefix}-cp-2.pdf",
            "cp",
            "Convention de pacte civil de solidarité",
            _pacs_agreement_lines(pacs),
        ),
        xml_file("flux-pacs.xml", "flux-pacs", make_pacs_xml(pacs)),
    ]
    recap = header_lines(external_id, submitted) + [
        "# Partenaires",
        f"Partenaire 1 : {pacs.partner1.all_first_names} {pacs.partner1.last_name}",
        f"Partenaire 2 : {pacs.partner2.all_first_names} {pacs.partner2.last_name}",
        "# Résidence commune",
        *address_lines(pacs.partner1.address),
        "# Pièces jointes",
        *(f"{f.file_name} ({f.type}, {f.size} octets)" for f in files),
        "# Suite de la démarche",
        "La mairie vous contactera pour fixer la date de l'enregistrement du PACS, en "
        "présence des deux partenaires munis de leur pièce d'identité.",
        *contact_lines(pacs.partner1),
    ]
    files.append(
        pdf_file("recapPDF.pdf", "recapPDF", "Récapitulatif - dépôt de dossier de PACS", recap)
    )
    return files
