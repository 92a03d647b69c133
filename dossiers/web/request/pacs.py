"""depotDossierPACS: PACS registration file. Schéma supposé: no real flux is available here,
so this reads the shape the sandbox generates (hubee_portal/sandbox/content/pacs.py): PACS /
partenaire1, partenaire2 (birth date in three fields), convention, residenceCommune,
attestationHonneur. Any other shape gives what is recognised, and the page lists the rest.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element

from dossiers.web.request import labels
from dossiers.web.request.dates import from_parts
from dossiers.web.request.summary import Reader, RequestSummary, join, unrecognised


def _address(reader: Reader, block: Element | None) -> str:
    if block is None:
        return ""
    return join(
        reader.text("NumeroLibelleVoie", block),
        join(reader.text("CodePostal", block), reader.text("Localite", block)),
        reader.coded("Pays", labels.COUNTRIES, block),
        sep=", ",
    )


def _partner(reader: Reader, partner: Element, title: str) -> None:
    birth = from_parts(
        reader.text("anneeNaissance", partner),
        reader.text("moisNaissance", partner),
        reader.text("jourNaissance", partner),
    )
    place = partner.find("LieuNaissance")
    place_text = ""
    if place is not None:
        place_text = join(
            reader.text("localite", place),
            reader.text("departement", place),
            reader.coded("codePays", labels.COUNTRIES, place),
            sep=", ",
        )
        reader.text("codePostal", place)
        reader.text("codeInsee", place)
    reader.section(
        title,
        ("Civilité", reader.coded("civilite", labels.CIVILITIES, partner)),
        ("Nom de naissance", reader.text("nomNaissance", partner)),
        ("Nom d'usage", reader.text("nomUsage", partner)),
        ("Prénoms", reader.text("prenoms", partner)),
        ("Date de naissance", birth),
        ("Lieu de naissance", place_text),
        ("Nationalité", reader.coded("codeNationalite", labels.COUNTRIES, partner)),
        ("Protégé par l'OFPRA", reader.coded("ofpra", labels.BOOLEANS, partner)),
        (
            "Mesure de protection juridique",
            reader.coded("mesureJuridique", labels.BOOLEANS, partner),
        ),
        ("Adresse", _address(reader, partner.find("adressePostale"))),
        ("Courriel", reader.text("adresseElectronique", partner)),
        (
            "Titre d'identité vérifié",
            reader.coded("titreIdentiteVerifie", labels.BOOLEANS, partner),
        ),
    )


def extract(root: Element) -> RequestSummary:
    partners = [root.find(tag) for tag in ("partenaire1", "partenaire2")]
    if root.tag != "PACS" and not any(p is not None for p in partners):
        return unrecognised(root, assumed_schema=True)
    reader = Reader(root)
    for number, partner in enumerate(partners, start=1):
        if partner is not None:
            _partner(reader, partner, f"Partenaire {number}")
    honour = root.find("attestationHonneur")
    reader.section(
        "Enregistrement",
        # GUESS: no sandbox flux carries the wished date; these names are the likely ones.
        ("Date souhaitée", reader.date("dateSouhaitee") or reader.date("dateEnregistrement")),
        ("Résidence commune", _address(reader, root.find("residenceCommune"))),
        (
            "Convention spécifique",
            reader.coded("convention/conventionSpecifique", labels.BOOLEANS),
        ),
        (
            "Absence de lien de parenté (sur l'honneur)",
            reader.coded("nonParente", labels.BOOLEANS, honour) if honour is not None else "",
        ),
        (
            "Résidence commune (sur l'honneur)",
            reader.coded("residenceCommune", labels.BOOLEANS, honour) if honour is not None else "",
        ),
    )
    return reader.summary(
        "Enregistrement d'un pacte civil de solidarité (PACS)", assumed_schema=True
    )
