"""recensementCitoyen: the compulsory census declaration (RCO), read from its real flux.

Shape of the public sample (RecensementCitoyen): Formalite, Personne (identity, birth, two
LieuNaissance with Code COMMUNE / AUTRE, AdresseDomicile, AdresseResidence, SituationFamille,
MethodeContact), FiliationPere and FiliationMere.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element

from dossiers.web.request import labels
from dossiers.web.request.summary import (
    Reader,
    RequestSummary,
    join,
    street_address,
    unrecognised,
)


def _birth_place(reader: Reader, person: Element) -> str:
    town, other = "", ""
    for place in person.findall("LieuNaissance"):
        code = reader.text("Code", place)
        name = reader.text("Nom", place)
        if code == "COMMUNE":
            town = name
        elif name:
            other = name
    reader.text("CodeINSEENaissance", person)
    country = reader.coded("PaysNaissance", labels.COUNTRIES, person)
    return join(town, f"({other})" if other and town else other, sep=" ") + (
        f", {country}" if country and (town or other) else country
    )


def _identity(reader: Reader, person: Element) -> list[tuple[str, str]]:
    return [
        ("Nom de famille", reader.text("NomFamille", person)),
        ("Nom d'usage", reader.text("NomUsage", person)),
        ("Prénom usuel", reader.text("PrenomUsuel", person)),
        ("Autres prénoms", reader.text("Prenom", person)),
        ("Date de naissance", reader.date("DateNaissance", person)),
        ("Lieu de naissance", _birth_place(reader, person)),
        ("Nationalité", reader.coded("Nationalite", labels.COUNTRIES, person)),
    ]


def extract(root: Element) -> RequestSummary:
    if root.tag != "RecensementCitoyen":
        return unrecognised(root)
    reader = Reader(root)
    formality = root.find("Formalite")
    if formality is not None:
        reasons = [
            labels.label(labels.CENSUS_REASONS, reader.text(".", node))
            for node in formality.findall("FormaliteMotifCode")
        ]
        reader.section(
            "Formalité",
            ("Nature", reader.coded("FormaliteType", labels.CENSUS_FORMALITIES, formality)),
            ("Motif", join(*reasons, sep=", ")),
            ("Déposée le", reader.date("DateSoumission", formality)),
            ("Numéro", reader.text("Identifiant", formality)),
        )
        reader.text("FormaliteModeCode", formality)  # AJOUT: a technical mode
    person = root.find("Personne")
    if person is not None:
        reader.section(
            "Personne recensée",
            ("Civilité", reader.coded("Civilite", labels.CIVILITIES, person)),
            ("Sexe", reader.coded("Sexe", labels.SEXES, person)),
            *_identity(reader, person),
        )
        contacts = []
        for method in person.findall("MethodeContact"):
            channel = reader.coded("CanalCode", labels.CONTACT_CHANNELS, method)
            uri = reader.text("URI", method)
            if uri:
                contacts.append((channel or "Contact", uri))
        reader.section(
            "Adresse et contact",
            ("Domicile", street_address(reader, person.find("AdresseDomicile"))),
            ("Résidence", street_address(reader, person.find("AdresseResidence"))),
            *contacts,
        )
        family = person.find("SituationFamille")
        if family is not None:
            reader.section(
                "Situation",
                ("Situation matrimoniale", reader.text("SituationMatrimoniale", family)),
                ("Nombre d'enfants", reader.text("NombreEnfants", family)),
                ("Nombre de frères et sœurs", reader.text("NombreFrereSoeur", family)),
                ("Pupille de la nation", reader.coded("Pupille", labels.BOOLEANS, family)),
            )
    for tag, title in (("FiliationPere", "Père"), ("FiliationMere", "Mère")):
        parent = root.find(tag)
        if parent is not None:
            reader.section(title, *_identity(reader, parent))
    return reader.summary("Recensement citoyen obligatoire")
