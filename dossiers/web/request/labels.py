"""Codes of the flux shown by their French labels, and element names made readable.

A code missing from a table is shown as written. Codes marked GUESS are not in the public
samples: they come from the sandbox's shapes or from the démarche's paper form.
"""

from __future__ import annotations

import re

ACT_TYPES = {
    "NAISSANCE": "Acte de naissance",
    "MARIAGE": "Acte de mariage",
    "DECES": "Acte de décès",  # GUESS: the samples hold NAISSANCE only
}
ACT_NATURES = {
    "COPIE-INTEGRALE": "Copie intégrale",
    "EXTRAIT-AVEC-FILIATION": "Extrait avec filiation",  # GUESS (sandbox)
    "EXTRAIT-SANS-FILIATION": "Extrait sans filiation",  # GUESS (sandbox)
    "EXTRAIT-PLURILINGUE": "Extrait plurilingue",  # GUESS (sandbox)
}
REQUESTER_QUALITIES = {
    "PersonneConcernee": "La personne concernée par l'acte",
}
CIVILITIES = {
    "M": "Monsieur",
    "MR": "Monsieur",
    "MONSIEUR": "Monsieur",
    "MME": "Madame",
    "MADAME": "Madame",
}
SEXES = {
    "1": "Masculin",  # recensementCitoyen (INSEE coding)
    "2": "Féminin",
    "M": "Masculin",
    "F": "Féminin",
    "MASCULIN": "Masculin",
    "FEMININ": "Féminin",
}
COUNTRIES = {"FRA": "France"}
CONTACT_CHANNELS = {"EMAIL": "Courriel", "TEL": "Téléphone"}
CENSUS_FORMALITIES = {"DECL": "Déclaration"}
CENSUS_REASONS = {"RECENSEMENT": "Recensement citoyen"}
BOOLEANS = {"true": "Oui", "false": "Non", "1": "Oui", "0": "Non"}

# Words of element names, with their accents back (names are written without them).
_WORDS = {
    "libelle": "libellé",
    "miseenbiere": "mise en bière",
    "annee": "année",
    "demarche": "démarche",
    "teledossier": "télédossier",
    "depot": "dépôt",
    "metier": "métier",
    "francaise": "française",
    "francais": "français",
    "funeraires": "funéraires",
    "funeraire": "funéraire",
    "presence": "présence",
    "residence": "résidence",
    "mere": "mère",
    "pere": "père",
    "methode": "méthode",
    "declaration": "déclaration",
    "administrative": "administratif",
    "prenom": "prénom",
    "prenoms": "prénoms",
    "civilite": "civilité",
    "localite": "localité",
    "departement": "département",
    "numero": "numéro",
    "telephone": "téléphone",
    "deces": "décès",
    "qualite": "qualité",
    "nationalite": "nationalité",
    "frere": "frère",
    "soeur": "sœur",
    "premiere": "première",
    "etablissement": "établissement",
    "redaction": "rédaction",
    "defunt": "défunt",
    "medecin": "médecin",
    "officier": "officier",
    "declarant": "déclarant",
    "medico": "médico",
    "legal": "légal",
    "biere": "bière",
    "hermetique": "hermétique",
    "prothese": "prothèse",
    "entite": "entité",
    "identite": "identité",
    "verifie": "vérifié",
    "parente": "parenté",
    "specifique": "spécifique",
    "electronique": "électronique",
    "honneur": "honneur",
    "lieu": "lieu",
    "soumission": "soumission",
    "formalite": "formalité",
    "immatriculation": "immatriculation",
    "vehicule": "véhicule",
    "utilise": "utilisé",
    "immediate": "immédiate",
    "resume": "résumé",
}
_ACRONYMS = {"insee", "nnc", "uri", "siv", "ofpra", "pacs", "finess"}
_PARTS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def label(table: dict[str, str], code: str) -> str:
    code = code.strip()
    return table.get(code, table.get(code.upper(), code))


def humanize_name(name: str) -> str:
    """« CodeINSEENaissance » → « Code INSEE naissance »; « canal_utilise » → « Canal utilisé »."""
    words = []
    for part in _PARTS.findall(name.replace("_", " ").replace("-", " ")):
        lower = part.lower()
        if lower in _ACRONYMS:
            words.append(lower.upper())
        else:
            words.append(_WORDS.get(lower, lower))
    if not words:
        return name
    first = words[0]
    words[0] = first if first.isupper() else first[:1].upper() + first[1:]
    return " ".join(words)
