"""Fictitious people and addresses: generic French names, real communes with their INSEE codes.

Every value is invented: yopmail addresses, phone numbers from the ARCEP range reserved for
fiction (06 39 98 xx xx), generic street names. Drawn from the ``random.Random`` passed in.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Commune:
    name: str
    postal_code: str
    insee: str
    departement: str

    @property
    def upper(self) -> str:
        """The name as the flows write it: upper case, no accents (``SAINT-ETIENNE``)."""
        return upper_ascii(self.name)


@dataclass(frozen=True)
class Address:
    number: str
    street_type: str
    street_name: str
    commune: Commune

    @property
    def street(self) -> str:
        return f"{self.street_type} {self.street_name}".strip()

    @property
    def line(self) -> str:
        return f"{self.number} {self.street}".strip()

    @property
    def locality(self) -> str:
        return f"{self.commune.postal_code} {self.commune.upper}"


_DEFAULT_COMMUNE = Commune("Nice", "06000", "06088", "Alpes-Maritimes")
_DEFAULT_ADDRESS = Address("12", "RUE", "DES LILAS", _DEFAULT_COMMUNE)


@dataclass(frozen=True)
class Applicant:
    """A fictitious person. Only the first three fields are known to HubEE (case applicant).

    ``last_name`` is the name in use; ``birth_name`` is set when the birth name differs.
    """

    first_name: str
    last_name: str
    email: str | None
    civility: str = "MADAME"  # "MADAME" or "MONSIEUR"
    other_first_names: tuple[str, ...] = ()
    birth_name: str | None = None
    birth_date: date = date(1985, 6, 15)
    birth_commune: Commune = _DEFAULT_COMMUNE
    address: Address = _DEFAULT_ADDRESS
    phone: str = "0639980000"

    @property
    def is_female(self) -> bool:
        return self.civility.upper() != "MONSIEUR"

    @property
    def birth_last_name(self) -> str:
        return self.birth_name or self.last_name

    @property
    def all_first_names(self) -> str:
        return " ".join((self.first_name, *self.other_first_names))

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def civility_label(self) -> str:
        return "Madame" if self.is_female else "Monsieur"


_FEMALE_NAMES = (
    "Amélie", "Hélène", "Léa", "Chloé", "Inès", "Élodie", "Agnès", "Noémie", "Maëlle",
    "Clémence", "Margaux", "Zoé", "Bérénice", "Anaïs", "Héloïse", "Joséphine", "Solène",
    "Céline", "Gaëlle", "Marie-Hélène", "Aurélie", "Léonie", "Oriane", "Capucine",
)  # fmt: skip
_MALE_NAMES = (
    "Jérôme", "Loïc", "Benoît", "Théo", "Raphaël", "Gaël", "Cédric", "Frédéric", "Étienne",
    "Mathéo", "François", "Noël", "Aurélien", "Grégoire", "Joël", "Hervé", "Rémi",
    "Sébastien", "Jean-Loïc", "Anatole", "Valentin", "Bastien", "Timothée", "Léon",
)  # fmt: skip
_LAST_NAMES = (
    "Lefèvre", "Bénard", "Mercier", "Rousseau", "Fontaine", "Chevalier", "Garnier",
    "Lemaître", "Morel", "Gérard", "Brémont", "Faure", "Clément", "Renaud", "Giraud",
    "Duchêne", "Barbier", "Perrin", "Prévost", "Ménard", "Thévenin", "Lacôte", "Hébert",
    "Lévêque", "Crépin", "Lebœuf", "D'Aubigné", "Besnard", "Marchais", "Quéré",
)  # fmt: skip
_STREET_TYPES = ("RUE", "RUE", "AVENUE", "BOULEVARD", "ALLEE", "IMPASSE", "CHEMIN", "PLACE")
_STREET_NAMES = (
    "DES LILAS", "VICTOR HUGO", "JEAN JAURES", "DE LA REPUBLIQUE", "DU GENERAL LECLERC",
    "DES ECOLES", "PASTEUR", "DES TILLEULS", "GAMBETTA", "DU MOULIN", "DE LA GARE",
    "SAINT-EXUPERY", "DES ACACIAS", "MARIE CURIE", "DES GLYCINES", "DU LAVOIR",
)  # fmt: skip
_COMMUNES = (
    Commune("Nice", "06000", "06088", "Alpes-Maritimes"),
    Commune("Lyon", "69003", "69123", "Rhône"),
    Commune("Marseille", "13005", "13055", "Bouches-du-Rhône"),
    Commune("Toulouse", "31000", "31555", "Haute-Garonne"),
    Commune("Nantes", "44000", "44109", "Loire-Atlantique"),
    Commune("Strasbourg", "67000", "67482", "Bas-Rhin"),
    Commune("Bordeaux", "33000", "33063", "Gironde"),
    Commune("Lille", "59000", "59350", "Nord"),
    Commune("Rennes", "35000", "35238", "Ille-et-Vilaine"),
    Commune("Montpellier", "34000", "34172", "Hérault"),
    Commune("Grenoble", "38000", "38185", "Isère"),
    Commune("Dijon", "21000", "21231", "Côte-d'Or"),
    Commune("Besançon", "25000", "25056", "Doubs"),
    Commune("Angers", "49000", "49007", "Maine-et-Loire"),
    Commune("Brest", "29200", "29019", "Finistère"),
    Commune("Limoges", "87000", "87085", "Haute-Vienne"),
    Commune("Clermont-Ferrand", "63000", "63113", "Puy-de-Dôme"),
    Commune("Orléans", "45000", "45234", "Loiret"),
    Commune("Saint-Étienne", "42000", "42218", "Loire"),
    Commune("Aix-en-Provence", "13100", "13001", "Bouches-du-Rhône"),
    Commune("Pau", "64000", "64445", "Pyrénées-Atlantiques"),
    Commune("Nîmes", "30000", "30189", "Gard"),
    Commune("Le Mans", "72000", "72181", "Sarthe"),
    Commune("Reims", "51100", "51454", "Marne"),
    Commune("Tours", "37000", "37261", "Indre-et-Loire"),
    Commune("Amiens", "80000", "80021", "Somme"),
    Commune("Metz", "57000", "57463", "Moselle"),
    Commune("Caen", "14000", "14118", "Calvados"),
    Commune("Annecy", "74000", "74010", "Haute-Savoie"),
    Commune("La Rochelle", "17000", "17300", "Charente-Maritime"),
)


def upper_ascii(text: str) -> str:
    return ascii_fold(text).upper()


def ascii_fold(text: str) -> str:
    text = text.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE")
    text = text.replace("ß", "ss")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", ascii_fold(text).lower()) or "usager"


def random_date(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange((end - start).days + 1))


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def random_address(rng: random.Random, commune: Commune | None = None) -> Address:
    return Address(
        number=str(rng.randint(1, 148)),
        street_type=rng.choice(_STREET_TYPES),
        street_name=rng.choice(_STREET_NAMES),
        commune=commune or rng.choice(_COMMUNES),
    )


def random_person(
    rng: random.Random,
    *,
    female: bool | None = None,
    last_name: str | None = None,
    born_between: tuple[date, date] = (date(1950, 1, 1), date(2004, 12, 31)),
    address: Address | None = None,
) -> Applicant:
    """A fictitious person: the flows draw relatives, partners and doctors with it."""
    if female is None:
        female = rng.random() < 0.5
    pool = _FEMALE_NAMES if female else _MALE_NAMES
    first_name = rng.choice(pool)
    others = tuple(rng.sample([n for n in pool if n != first_name], k=rng.randint(0, 2)))
    birth_name = None
    if last_name is None:
        last_name = rng.choice(_LAST_NAMES)
        if female and rng.random() < 0.3:  # married name in use, birth name kept
            birth_name = rng.choice([n for n in _LAST_NAMES if n != last_name])
    birth_date = random_date(rng, *born_between)
    birth_commune = rng.choice(_COMMUNES)
    if address is None:
        address = random_address(rng)
    email = f"{_slug(first_name)}.{_slug(last_name)}-{rng.randint(1000, 9999)}@yopmail.com"
    phone = f"063998{rng.randint(0, 9999):04d}"  # ARCEP range reserved for fiction
    return Applicant(
        first_name=first_name,
        last_name=last_name,
        email=email,
        civility="MADAME" if female else "MONSIEUR",
        other_first_names=others,
        birth_name=birth_name,
        birth_date=birth_date,
        birth_commune=birth_commune,
        address=address,
        phone=phone,
    )


def random_applicant(rng: random.Random) -> Applicant:
    """A fictitious adult living in France, with a yopmail address."""
    return random_person(rng)
