"""Fictitious but realistic télédossier files for the built-in HubEE sandbox.

The sandbox plays the OSL (the operator that deposits folders on HubEE): each deposit
carries the files a real démarche would carry, with the attachment ``type`` values of the
HubEE test kit (API.md section 10). The documents are produced here, by our own code, with
invented data only: fictitious people, generic street names, yopmail addresses and phone
numbers from the ARCEP range reserved for fiction (06 39 98 xx xx).

* XML business flows are shaped like the public samples of the "valise générique" (element
  names and nesting), written as UTF-8 with every value escaped.
* PDF summaries are written by hand (PDF 1.4, standard Helvetica font with WinAnsiEncoding so
  that French accents render, line wrapping, page breaks, exact xref table).

Everything is driven by the ``random.Random`` passed in: the same seed (and the same
``submitted_at``) gives the same bytes. Nothing reads the clock.

Some roles are GUESSES (the test kit does not document them): for ``recensementCitoyen``,
``ji`` is taken as the identity document and ``jf`` as the family record book; for
``depotDossierPACS``, ``an``/``anp`` as the birth certificates of partner 1 / partner 2 and
``cp`` as the PACS agreement (convention). ``flux-siv`` samples are placeholders, so the
JeChangeDeCoordonnees XML shape is ours.
"""

from __future__ import annotations

import base64
import hashlib
import random
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "SUPPORTED_PROCESS_CODES",
    "GENERIC_TYPE",
    "Address",
    "Applicant",
    "Commune",
    "GeneratedFile",
    "generate_files",
    "make_census_xml",
    "make_death_declaration_xml",
    "make_death_certificate_xml",
    "make_etat_civil_xml",
    "make_flux_siv_xml",
    "make_generic_xml",
    "make_pacs_xml",
    "make_pdf",
    "new_external_id",
    "random_applicant",
    "AddressChange",
    "CensusDeclaration",
    "DeathCertificate",
    "EtatCivilRequest",
    "PacsFile",
]

SUPPORTED_PROCESS_CODES: tuple[str, ...] = (
    "EtatCivil",
    "recensementCitoyen",
    "depotDossierPACS",
    "JeChangeDeCoordonnees",
    "CERTDC",
)
GENERIC_TYPE = "document"

PDF_MIME = "application/pdf"
XML_MIME = "application/xml"

_PARIS = ZoneInfo("Europe/Paris")
_SANDBOX_NOTICE = "Document fictif produit par le bac à sable HubEE : données inventées."


# --------------------------------------------------------------------------------------------
# Data shapes
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GeneratedFile:
    """One attachment of a deposit: what the OSL declares, and the bytes it uploads."""

    file_name: str
    type: str
    mime_type: str
    content: bytes

    @property
    def size(self) -> int:
        return len(self.content)

    @property
    def sha256_hex(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def digest(self) -> str:
        """Base64 of the raw SHA-256: the format of the HubEE ``digest`` header."""
        return base64.b64encode(hashlib.sha256(self.content).digest()).decode("ascii")


@dataclass(frozen=True)
class Commune:
    name: str
    postal_code: str
    insee: str
    departement: str

    @property
    def upper(self) -> str:
        """The name as the flows write it: upper case, no accents (``SAINT-ETIENNE``)."""
        return _upper_ascii(self.name)


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


# --------------------------------------------------------------------------------------------
# Invented data pools (generic French names, real communes with their INSEE codes)
# --------------------------------------------------------------------------------------------

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


def _upper_ascii(text: str) -> str:
    return _ascii_fold(text).upper()


def _ascii_fold(text: str) -> str:
    text = text.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE")
    text = text.replace("ß", "ss")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", _ascii_fold(text).lower()) or "usager"


def _random_date(rng: random.Random, start: date, end: date) -> date:
    return start + timedelta(days=rng.randrange((end - start).days + 1))


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _age(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _random_address(rng: random.Random, commune: Commune | None = None) -> Address:
    return Address(
        number=str(rng.randint(1, 148)),
        street_type=rng.choice(_STREET_TYPES),
        street_name=rng.choice(_STREET_NAMES),
        commune=commune or rng.choice(_COMMUNES),
    )


def _random_person(
    rng: random.Random,
    *,
    female: bool | None = None,
    last_name: str | None = None,
    born_between: tuple[date, date] = (date(1950, 1, 1), date(2004, 12, 31)),
    address: Address | None = None,
) -> Applicant:
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
    birth_date = _random_date(rng, *born_between)
    birth_commune = rng.choice(_COMMUNES)
    if address is None:
        address = _random_address(rng)
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
    return _random_person(rng)


def new_external_id(process_code: str, rng: random.Random) -> str:
    """A télédossier number shaped like the OSL ones.

    DILA démarches: ``A-1-`` and 8 characters (``A-1-N8F602RR``); CERTDC: the certificate
    number ``ER`` + year + 7 digits (``ER20190860001``).
    """
    if process_code == "CERTDC":
        return f"ER{rng.randint(2024, 2026)}{rng.randint(0, 9_999_999):07d}"
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
    return "A-1-" + "".join(rng.choice(alphabet) for _ in range(8))


# --------------------------------------------------------------------------------------------
# XML writing
# --------------------------------------------------------------------------------------------

# Characters XML 1.0 cannot carry at all (even escaped): dropped.
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_escape(value: object) -> str:
    text = _XML_ILLEGAL.sub("", str(value))
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&apos;")
    )


@dataclass(frozen=True)
class _Node:
    tag: str
    text: str | None = None
    children: tuple[_Node, ...] = ()
    attrs: tuple[tuple[str, str], ...] = ()


def _el(tag: str, *content: _Node | str | int | None, **attrs: str) -> _Node:
    """An element: a single str/int argument is its text, _Node arguments its children."""
    attributes = tuple((name.replace("__", ":"), value) for name, value in attrs.items())
    nodes = tuple(c for c in content if isinstance(c, _Node))
    texts = [c for c in content if c is not None and not isinstance(c, _Node)]
    if texts and nodes:
        raise ValueError(f"<{tag}>: mixed content is not used by these flows")
    if len(texts) > 1:
        raise ValueError(f"<{tag}>: one text value only")
    text = str(texts[0]) if texts else None
    return _Node(tag, text, nodes, attributes)


def _opt(tag: str, value: str | None) -> _Node | None:
    """An element only when the value is known (None children are skipped by _el)."""
    return None if value is None else _el(tag, value)


def _render_xml(root: _Node) -> bytes:
    out = ['<?xml version="1.0" encoding="UTF-8"?>']

    def walk(node: _Node, depth: int) -> None:
        pad = "\t" * depth
        attrs = "".join(f' {name}="{_xml_escape(value)}"' for name, value in node.attrs)
        if node.children:
            out.append(f"{pad}<{node.tag}{attrs}>")
            for child in node.children:
                walk(child, depth + 1)
            out.append(f"{pad}</{node.tag}>")
        elif node.text:
            out.append(f"{pad}<{node.tag}{attrs}>{_xml_escape(node.text)}</{node.tag}>")
        else:
            out.append(f"{pad}<{node.tag}{attrs}/>")

    walk(root, 0)
    return ("\n".join(out) + "\n").encode("utf-8")


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _iso(day: date) -> str:
    return day.isoformat()


def _fr(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _fr_dt(moment: datetime) -> str:
    return moment.strftime("%d/%m/%Y à %H:%M")


# --------------------------------------------------------------------------------------------
# PDF writing
# --------------------------------------------------------------------------------------------

# Advance widths (1/1000 em) of the standard 14 fonts for the codes 32..126.
_HELVETICA_ASCII = (
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
)  # fmt: skip
_HELVETICA_BOLD_ASCII = (
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611,
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556,
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611,
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
)  # fmt: skip
# Non-ASCII WinAnsi characters whose width is not that of a base letter: (regular, bold).
_WIDE_EXTRAS = {
    "Œ": (1000, 1000), "œ": (944, 944), "Æ": (1000, 1000), "æ": (889, 889), "ß": (611, 611),
    "«": (556, 556), "»": (556, 556), "°": (400, 400), "€": (556, 556), "‘": (222, 278),
    "’": (222, 278), "‚": (222, 278), "“": (333, 500), "”": (333, 500), "„": (333, 500),
    "–": (556, 556), "—": (1000, 1000), "…": (1000, 1000), "•": (350, 350),
    "\u00a0": (278, 278), "\u00ad": (333, 333), "™": (1000, 1000), "‰": (1000, 1000),
    "©": (737, 737), "®": (737, 737), "§": (556, 556), "×": (584, 584), "±": (584, 584),
}  # fmt: skip


def _width_table(ascii_widths: tuple[int, ...], bold: bool) -> tuple[int, ...]:
    table = [0] * 256
    for code in range(32, 127):
        table[code] = ascii_widths[code - 32]
    for code in range(128, 256):
        try:
            char = bytes([code]).decode("cp1252")
        except UnicodeDecodeError:
            continue
        if char in _WIDE_EXTRAS:
            table[code] = _WIDE_EXTRAS[char][1 if bold else 0]
            continue
        base = unicodedata.normalize("NFKD", char)[:1]
        table[code] = ascii_widths[ord(base) - 32] if " " <= base <= "~" else 556
    return tuple(table)


_WIDTHS = {
    "F1": _width_table(_HELVETICA_ASCII, bold=False),
    "F2": _width_table(_HELVETICA_BOLD_ASCII, bold=True),
}

_PAGE_WIDTH, _PAGE_HEIGHT = 595, 842  # A4 in points
_MARGIN_LEFT = 56
_TEXT_WIDTH = _PAGE_WIDTH - 2 * _MARGIN_LEFT
_TOP_Y = 780
_BOTTOM_Y = 72
_FOOTER_Y = 40
_BODY = ("F1", 10, 14)  # font, size, leading
_HEADING = ("F2", 11, 16)
_TITLE = ("F2", 16, 20)


def _winansi(text: str) -> str:
    """The text reduced to characters of WinAnsiEncoding (cp1252): others are transliterated."""
    out = []
    for char in text:
        if char in "\t\r\n\v\f":
            out.append(" ")
            continue
        if ord(char) < 32 or 0x7F <= ord(char) < 0xA0:
            continue  # control characters
        try:
            char.encode("cp1252")
        except UnicodeEncodeError:
            folded = "".join(
                c
                for c in unicodedata.normalize("NFKD", char)
                if not unicodedata.combining(c) and _encodable(c)
            )
            out.append(folded or "?")
        else:
            out.append(char)
    return "".join(out)


def _encodable(char: str) -> bool:
    try:
        char.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return ord(char) >= 32


def _text_width(text: str, font: str, size: float) -> float:
    widths = _WIDTHS[font]
    return sum(widths[b] for b in text.encode("cp1252")) * size / 1000


def _wrap(text: str, font: str, size: float, max_width: float) -> list[str]:
    """Split a (WinAnsi-safe) line into lines that fit max_width; long words are cut."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if _text_width(candidate, font, size) <= max_width:
            current = candidate
            continue
        if current:
            lines.append(current)
        while _text_width(word, font, size) > max_width and len(word) > 1:
            cut = 1
            while cut < len(word) and _text_width(word[: cut + 1], font, size) <= max_width:
                cut += 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    if current or not lines:
        lines.append(current)
    return lines


def _pdf_string(text: str) -> bytes:
    """A PDF literal string in WinAnsi bytes: ``\\``, ``(`` and ``)`` escaped, 8-bit as octal."""
    out = bytearray(b"(")
    for byte in text.encode("cp1252"):
        if byte in b"()\\":
            out += b"\\" + bytes([byte])
        elif byte < 0x20 or byte > 0x7E:
            out += b"\\%03o" % byte
        else:
            out.append(byte)
    out += b")"
    return bytes(out)


def _pdf_text_string(text: str) -> bytes:
    """A PDF text string (document information): UTF-16BE with BOM, as hexadecimal."""
    return b"<FEFF" + text.encode("utf-16-be", "replace").hex().upper().encode("ascii") + b">"


@dataclass
class _Page:
    texts: list[tuple[str, float, float, float, str]] = field(default_factory=list)
    rules: list[float] = field(default_factory=list)


def _layout(title: str, lines: Sequence[str]) -> list[_Page]:
    pages = [_Page()]
    y = float(_TOP_Y)

    def new_page() -> None:
        nonlocal y
        pages.append(_Page())
        y = float(_TOP_Y)

    def emit(style: tuple[str, int, int], text: str) -> None:
        nonlocal y
        font, size, leading = style
        if y < _BOTTOM_Y:
            new_page()
        pages[-1].texts.append((font, size, _MARGIN_LEFT, y, text))
        y -= leading

    for part in _wrap(_winansi(title), _TITLE[0], _TITLE[1], _TEXT_WIDTH):
        emit(_TITLE, part)
    pages[0].rules.append(y + 12)
    y -= 10

    for raw in lines:
        for line in str(raw).splitlines() or [""]:
            if line.startswith("# "):
                parts = _wrap(_winansi(line[2:]), _HEADING[0], _HEADING[1], _TEXT_WIDTH)
                if y < _TOP_Y:
                    y -= 6  # space above a section heading
                # Keep a heading with at least one line of its section.
                if y < _TOP_Y and y - _HEADING[2] * len(parts) - _BODY[2] < _BOTTOM_Y:
                    new_page()
                for part in parts:
                    emit(_HEADING, part)
            elif not line.strip():
                if y < _TOP_Y:
                    y -= _BODY[2]
            else:
                for part in _wrap(_winansi(line), _BODY[0], _BODY[1], _TEXT_WIDTH):
                    emit(_BODY, part)
    return pages


def _page_stream(page: _Page, number: int, count: int) -> bytes:
    ops: list[bytes] = []
    for y in page.rules:
        right = _MARGIN_LEFT + _TEXT_WIDTH
        ops.append(b"0.6 w %d %.1f m %d %.1f l S" % (_MARGIN_LEFT, y, right, y))
    for font, size, x, y, text in page.texts:
        ops.append(
            b"BT /%s %d Tf %d %.1f Td %s Tj ET" % (font.encode(), size, x, y, _pdf_string(text))
        )
    footer = f"page {number} sur {count}"
    footer_x = _MARGIN_LEFT + _TEXT_WIDTH - _text_width(footer, "F1", 8)
    ops.append(b"BT /F1 8 Tf %.1f %d Td %s Tj ET" % (footer_x, _FOOTER_Y, _pdf_string(footer)))
    return b"\n".join(ops) + b"\n"


def make_pdf(title: str, lines: Sequence[str]) -> bytes:
    """A readable A4 PDF 1.4: the title in bold, then the lines, wrapped and paginated.

    A line starting with ``"# "`` is a bold section heading; an empty line is a blank line.
    Text uses the standard Helvetica fonts with WinAnsiEncoding: French accents, ``œ``, ``€``
    and typographic quotes render; other characters are transliterated (or become ``?``).
    The document has no timestamp: the same input gives the same bytes.
    """
    pages = _layout(title, lines)
    count = len(pages)
    # 1 catalog, 2 page tree, 3-4 fonts, 5 info, then a (page, content stream) pair per page.
    page_numbers = [6 + 2 * i for i in range(count)]
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R /Lang (fr-FR) >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (b" ".join(b"%d 0 R" % n for n in page_numbers), count),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Title %s /Producer (HubEE Portal - bac a sable) /Creator (HubEE Portal) >>"
        % _pdf_text_string(title),
    ]
    for index, page in enumerate(pages):
        stream = _page_stream(page, index + 1, count)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d]"
            b" /Resources << /Font << /F1 3 0 R /F2 4 0 R >> /ProcSet [/PDF /Text] >>"
            b" /Contents %d 0 R >>" % (_PAGE_WIDTH, _PAGE_HEIGHT, page_numbers[index] + 1)
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_offset = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    file_id = hashlib.sha256(bytes(out)).hexdigest()[:32].upper().encode("ascii")
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R /ID [<%s> <%s>] >>\n" % (
        len(objects) + 1,
        file_id,
        file_id,
    )
    out += b"startxref\n%d\n" % xref_offset
    out += b"%%EOF\n"
    return bytes(out)


# --------------------------------------------------------------------------------------------
# Shared bits of the démarches
# --------------------------------------------------------------------------------------------


def _safe_name(value: str, fallback: str = "teledossier") -> str:
    """A file-name-safe form of an identifier (ASCII letters, digits, ``.``, ``-``, ``_``)."""
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", _ascii_fold(value)).strip("-.")
    return text[:60] or fallback


def _submission_time(submitted_at: datetime | None, rng: random.Random) -> datetime:
    """The deposit time as local (Paris) wall time; drawn from rng when not given."""
    if submitted_at is None:
        day = _random_date(rng, date(2025, 1, 1), date(2025, 12, 31))
        clock = time(rng.randint(7, 21), rng.randrange(60), rng.randrange(60))
        return datetime.combine(day, clock)
    if submitted_at.tzinfo is not None:
        submitted_at = submitted_at.astimezone(_PARIS).replace(tzinfo=None)
    return submitted_at.replace(microsecond=0)


def _person_lines(person: Applicant, *, with_contact: bool = False) -> list[str]:
    lines = [
        f"Civilité : {person.civility_label}",
        f"Nom de naissance : {person.birth_last_name}",
    ]
    if person.birth_name and person.birth_name != person.last_name:
        lines.append(f"Nom d'usage : {person.last_name}")
    lines += [
        f"Prénoms : {person.all_first_names}",
        f"Date de naissance (JJ/MM/AAAA) : {_fr(person.birth_date)}",
        "Pays de naissance : FRANCE",
        f"Département de naissance : {person.birth_commune.departement}",
        "Code postal / Commune de naissance : "
        f"{person.birth_commune.postal_code} {person.birth_commune.upper}",
    ]
    if with_contact:
        lines += _contact_lines(person)
    return lines


def _contact_lines(person: Applicant) -> list[str]:
    lines = []
    if person.email:
        lines.append(f"Adresse électronique : {person.email}")
    if person.phone:
        lines.append(f"Téléphone : {person.phone}")
    return lines


def _address_lines(address: Address) -> list[str]:
    return [
        "Pays : France",
        f"Numéro et libellé de voie : {address.line}",
        f"Code postal / Localité : {address.locality}",
    ]


def _header_lines(external_id: str, submitted: datetime) -> list[str]:
    return [
        f"Numéro de télédossier : {external_id}",
        f"Déposé le : {_fr_dt(submitted)}",
        "",
    ]


def _pdf_file(file_name: str, type_: str, title: str, lines: Sequence[str]) -> GeneratedFile:
    return GeneratedFile(file_name, type_, PDF_MIME, make_pdf(title, [*lines, "", _SANDBOX_NOTICE]))


def _xml_file(file_name: str, type_: str, content: bytes) -> GeneratedFile:
    return GeneratedFile(file_name, type_, XML_MIME, content)


# --------------------------------------------------------------------------------------------
# EtatCivil: civil-status certificate request (AEC)
# --------------------------------------------------------------------------------------------

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
        earliest = min(_years_before(applicant.birth_date, -18), submitted.date())
        act_date = _random_date(rng, earliest, submitted.date())
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
    root = _el(
        "EnveloppeMetierType",
        _el(
            "DemandeActe",
            _el("TypeActe", _el("Code", request.act_code), _el("Libelle", request.act_label)),
            _el(
                "NatureActe",
                _el("Code", request.nature_code),
                _el("Libelle", request.nature_label),
            ),
            _el("DateActe", _iso(request.act_date)),
            _el(
                "LieuActe",
                _el("CodePostal", request.act_place.postal_code),
                _el("Ville", request.act_place.upper),
                _el("CodeINSEE", request.act_place.insee),
            ),
            _el("NombreExemplaires", request.copies),
            _el("MotifDemande", _el("Libelle", request.reason), _el("Commentaire", "")),
            _el(
                "Demandeur",
                _el(
                    "QualiteDemandeur",
                    _el("Code", "PersonneConcernee"),
                    _el("Libelle", "La personne concernée par l'acte"),
                ),
                _el("Civilite", person.civility.upper()),
                _el("Nom", person.last_name),
                _el("Prenom", person.first_name),
                _el(
                    "AdresseFrancaise",
                    _el("Voie", address.line),
                    _el("CodePostal", address.commune.postal_code),
                    _el("Ville", address.commune.upper),
                ),
                _el("Courriel", person.email),
            ),
            _el(
                "Titulaire",
                _el("Civilite", person.civility.upper()),
                _el("NomNaissance", person.birth_last_name),
                _el("Prenoms", person.all_first_names),
                _el("DateDeNaissance", _iso(person.birth_date)),
                _el("LieuDeNaissance", person.birth_commune.upper),
                _el("DepartementDeNaissance", person.birth_commune.departement),
            ),
        ),
        canal_utilise="0",
    )
    return _render_xml(root)


def _etat_civil_pdf_lines(request: EtatCivilRequest) -> list[str]:
    person = request.applicant
    place = request.act_place
    lines = _header_lines(request.external_id, request.submitted_at)
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
        lines.append(f"Date du mariage : {_fr(request.act_date)}")
    lines += ["# Identité de la personne faisant l'objet de la demande"]
    lines += _person_lines(person)
    lines += ["# Adresse de réception de l'acte"]
    lines += _address_lines(person.address)
    lines += ["# Informations de contact"]
    lines += _contact_lines(person)
    return lines


def _etat_civil_files(
    applicant: Applicant, external_id: str, submitted: datetime, rng: random.Random
) -> list[GeneratedFile]:
    request = _etat_civil_request(applicant, external_id, submitted, rng)
    return [
        _pdf_file(
            "ActeEtatCivil-PDF.pdf",
            "ActeEtatCivil-PDF",
            "Demande d'acte d'état civil",
            _etat_civil_pdf_lines(request),
        ),
        _xml_file("ActeEtatCivil-XML.xml", "ActeEtatCivil-XML", make_etat_civil_xml(request)),
    ]


# --------------------------------------------------------------------------------------------
# recensementCitoyen: mandatory citizen census (RCO)
# --------------------------------------------------------------------------------------------


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
    if _age(applicant.birth_date, today) < 26:  # the young person declares (or regularises)
        person = applicant
        born = (
            _years_before(applicant.birth_date, 40),
            _years_before(applicant.birth_date, 20),
        )
        father = _random_person(
            rng,
            female=False,
            last_name=applicant.birth_last_name,
            born_between=born,
            address=applicant.address,
        )
        mother = _random_person(rng, female=True, born_between=born, address=applicant.address)
    else:  # a parent declares their child, aged 16 (within the three following months)
        sixteenth = today - timedelta(days=rng.randint(0, 85))
        child_birth = _years_before(sixteenth, 16)
        child = _random_person(
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
            _years_before(applicant.birth_date, 6),
            _years_before(applicant.birth_date, -6),
        )
        # The child bears the name in use of the declarant: the father's name when the
        # declarant is the mother.
        other = _random_person(
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


def _census_birth_place(person: Applicant) -> list[_Node]:
    commune = person.birth_commune
    return [
        _el("CodeINSEENaissance", commune.insee),
        _el("LieuNaissance", _el("Code", "COMMUNE"), _el("Nom", commune.upper)),
        _el("LieuNaissance", _el("Code", "AUTRE"), _el("Nom", commune.postal_code)),
    ]


def _census_parent(tag: str, parent: Applicant) -> _Node:
    return _el(
        tag,
        _el("NomFamille", parent.birth_last_name),
        _el("PrenomUsuel", parent.first_name),
        _el("Prenom", " ".join(parent.other_first_names)),
        _el("DateNaissance", _fr(parent.birth_date)),
        _el("PaysNaissance", "FRA"),
        _el("Nationalite", "FRA"),
        *_census_birth_place(parent),
    )


def make_census_xml(declaration: CensusDeclaration) -> bytes:
    """``RecensementCitoyen``: formality, person, addresses, family, contacts, parents."""
    person = declaration.person
    address = person.address
    contacts = []
    if declaration.declarant.email:
        contacts.append(
            _el(
                "MethodeContact", _el("URI", declaration.declarant.email), _el("CanalCode", "EMAIL")
            )
        )
    if declaration.declarant.phone:
        contacts.append(
            _el("MethodeContact", _el("URI", declaration.declarant.phone), _el("CanalCode", "TEL"))
        )
    root = _el(
        "RecensementCitoyen",
        _el("Convention", ""),
        _el(
            "Formalite",
            _el("Identifiant", declaration.external_id),
            _el("FormaliteType", "DECL"),
            _el("DateSoumission", declaration.submitted_at.strftime("%Y-%m-%dT%H:%M:%S")),
            _el("FormaliteMotifCode", "RECENSEMENT"),
            _el("FormaliteModeCode", "AJOUT"),
        ),
        _el(
            "Personne",
            _el("Civilite", "MME" if person.is_female else "M"),
            _el("Sexe", "2" if person.is_female else "1"),
            _el("NomFamille", person.birth_last_name),
            _el("NomUsage", person.last_name if person.birth_name else ""),
            _el("PrenomUsuel", person.first_name),
            _el("Prenom", " ".join(person.other_first_names)),
            _el("DateNaissance", _fr(person.birth_date)),
            _el("PaysNaissance", "FRA"),
            _el("Nationalite", "FRA"),
            *_census_birth_place(person),
            _el(
                "AdresseDomicile",
                _el("PointDeRemise", ""),
                _el("Complement", ""),
                _el("NumeroVoie", address.number),
                _el("Extension", ""),
                _el("TypeVoie", address.street_type),
                _el("NomVoie", address.street_name),
                _el("LieuDit", ""),
                _el("CodePostal", address.commune.postal_code),
                _el("Localite", address.commune.upper),
                _el("CodeINSEE", address.commune.insee),
            ),
            _el(
                "SituationFamille",
                _el("SituationMatrimoniale", "Célibataire"),
                _el("NombreEnfants", 0),
                _el("Pupille", ""),
                _el("NombreFrereSoeur", declaration.siblings),
            ),
            *contacts,
        ),
        _census_parent("FiliationPere", declaration.father),
        _census_parent("FiliationMere", declaration.mother),
    )
    return _render_xml(root)


def _census_pdf_lines(declaration: CensusDeclaration) -> list[str]:
    person = declaration.person
    declarant = declaration.declarant
    lines = _header_lines(declaration.external_id, declaration.submitted_at)
    lines += ["Notice individuelle de recensement (cerfa n° 10870)", "# La personne recensée"]
    lines += _person_lines(person)
    lines += ["Nationalité : Française", "# Domicile"]
    lines += _address_lines(person.address)
    lines += [
        "# Situation familiale",
        "Situation matrimoniale : Célibataire",
        f"Nombre de frères et sœurs : {declaration.siblings}",
        "# Filiation",
        f"Père : {declaration.father.all_first_names} {declaration.father.birth_last_name}, "
        f"né le {_fr(declaration.father.birth_date)} à {declaration.father.birth_commune.name}",
        f"Mère : {declaration.mother.all_first_names} {declaration.mother.birth_last_name}, "
        f"née le {_fr(declaration.mother.birth_date)} à {declaration.mother.birth_commune.name}",
        "# Déclarant",
        f"{declarant.civility_label} {declarant.first_name} {declarant.last_name}"
        + (" (la personne recensée)" if declarant is person else " (représentant légal)"),
    ]
    lines += _contact_lines(declarant)
    lines += [
        "# Information de l'intéressé(e)",
        "Les informations de ce formulaire servent à délivrer l'attestation de recensement. "
        "Elles sont communiquées au service national, qui convoquera la personne recensée "
        "à la Journée défense et citoyenneté (JDC), et à l'INSEE pour son inscription "
        "d'office sur les listes électorales à 18 ans. Tout changement de domicile de plus "
        "de quatre mois doit être signalé jusqu'à 25 ans.",
        f"Certifié exact, à {person.address.commune.name}, le {_fr(declaration.submitted_at)}.",
    ]
    return lines


def _identity_proof_lines(person: Applicant, rng: random.Random) -> list[str]:
    number = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ0123456789") for _ in range(9))
    issued = _random_date(
        rng, _years_before(person.birth_date, -14), _years_before(person.birth_date, -16)
    )
    return [
        "Pièce fournie : carte nationale d'identité (copie)",
        f"Numéro du titre : {number}",
        f"Nom : {person.birth_last_name}",
        f"Prénoms : {person.all_first_names}",
        f"Sexe : {'F' if person.is_female else 'M'}",
        f"Né(e) le : {_fr(person.birth_date)} à {person.birth_commune.name}",
        "Nationalité : Française",
        f"Délivrée le : {_fr(issued)}",
    ]


def _family_book_lines(declaration: CensusDeclaration) -> list[str]:
    father, mother, person = declaration.father, declaration.mother, declaration.person
    return [
        "Livret de famille (extrait)",
        "# Époux / Parent 1",
        f"{father.all_first_names} {father.birth_last_name}",
        f"Né le {_fr(father.birth_date)} à {father.birth_commune.name} "
        f"({father.birth_commune.departement})",
        "# Épouse / Parent 2",
        f"{mother.all_first_names} {mother.birth_last_name}",
        f"Née le {_fr(mother.birth_date)} à {mother.birth_commune.name} "
        f"({mother.birth_commune.departement})",
        "# Enfant",
        f"{person.all_first_names} {person.birth_last_name}",
        f"{'Née' if person.is_female else 'Né'} le {_fr(person.birth_date)} "
        f"à {person.birth_commune.name}",
    ]


def _census_files(
    applicant: Applicant, external_id: str, submitted: datetime, rng: random.Random
) -> list[GeneratedFile]:
    declaration = _census_declaration(applicant, external_id, submitted, rng)
    prefix = f"{_safe_name(external_id)}-recensementCitoyen"
    return [
        _xml_file("10870-XML.xml", "10870-XML", make_census_xml(declaration)),
        _pdf_file(
            "10870-PDF.pdf",
            "10870-PDF",
            "Recensement citoyen obligatoire",
            _census_pdf_lines(declaration),
        ),
        _pdf_file(
            f"{prefix}-ji-0.pdf",
            "ji",
            "Justificatif d'identité",
            _identity_proof_lines(declaration.person, rng),
        ),
        _pdf_file(
            f"{prefix}-jf-1.pdf",
            "jf",
            "Justificatif de situation familiale",
            _family_book_lines(declaration),
        ),
    ]


# --------------------------------------------------------------------------------------------
# depotDossierPACS: PACS preparation file (DDPACS)
# --------------------------------------------------------------------------------------------


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
    latest = min(_years_before(submitted.date(), 18), _years_before(applicant.birth_date, -9))
    earliest = min(_years_before(applicant.birth_date, 9), latest)
    partner2 = _random_person(
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


def _pacs_address(tag: str, address: Address) -> _Node:
    return _el(
        tag,
        _el("NumeroLibelleVoie", address.line),
        _el("CodePostal", address.commune.postal_code),
        _el("Localite", address.commune.upper),
        _el("Pays", "FRA"),
    )


def _pacs_partner(tag: str, partner: Applicant) -> _Node:
    commune = partner.birth_commune
    return _el(
        tag,
        _el("civilite", "MME" if partner.is_female else "M"),
        _el("nomNaissance", partner.birth_last_name),
        _opt("nomUsage", partner.last_name if partner.birth_name else None),
        _el("prenoms", partner.all_first_names),
        _el("codeNationalite", "FRA"),
        _el("jourNaissance", f"{partner.birth_date.day:02d}"),
        _el("moisNaissance", f"{partner.birth_date.month:02d}"),
        _el("anneeNaissance", partner.birth_date.year),
        _el(
            "LieuNaissance",
            _el("localite", commune.upper),
            _el("codePostal", commune.postal_code),
            _el("codeInsee", commune.insee),
            _el("departement", _upper_ascii(commune.departement)),
            _el("codePays", "FRA"),
        ),
        _el("ofpra", _bool(False)),
        _el("mesureJuridique", _bool(False)),
        _pacs_address("adressePostale", partner.address),
        _el("adresseElectronique", partner.email),
        _el("titreIdentiteVerifie", _bool(True)),
    )


def make_pacs_xml(pacs: PacsFile) -> bytes:
    """``PACS``: both partners, the agreement kind, the common residence, the attestations."""
    root = _el(
        "PACS",
        _pacs_partner("partenaire1", pacs.partner1),
        _pacs_partner("partenaire2", pacs.partner2),
        _el("convention", _el("conventionSpecifique", _bool(pacs.specific_agreement))),
        _pacs_address("residenceCommune", pacs.partner1.address),
        _el(
            "attestationHonneur",
            _el("nonParente", _bool(True)),
            _el("residenceCommune", _bool(True)),
        ),
        xmlns__xs="http://www.w3.org/2001/XMLSchema",
    )
    return _render_xml(root)


def _pacs_form_lines(pacs: PacsFile) -> list[str]:
    lines = _header_lines(pacs.external_id, pacs.submitted_at)
    lines += ["Cerfa n° 15725*02", "# Partenaire 1"]
    lines += _person_lines(pacs.partner1, with_contact=True)
    lines += ["# Partenaire 2"]
    lines += _person_lines(pacs.partner2, with_contact=True)
    lines += ["# Résidence commune"]
    lines += _address_lines(pacs.partner1.address)
    lines += [
        "# Attestations sur l'honneur",
        "Les partenaires attestent sur l'honneur qu'il n'existe entre eux aucun lien de "
        "parenté ou d'alliance faisant obstacle à la conclusion d'un PACS, et qu'ils fixent "
        "leur résidence commune à l'adresse indiquée ci-dessus.",
        f"Fait à {pacs.partner1.address.commune.name}, le {_fr(pacs.submitted_at)}.",
    ]
    return lines


def _birth_certificate_lines(person: Applicant, act_number: int) -> list[str]:
    born = "née" if person.is_female else "né"
    return [
        f"Mairie de {person.birth_commune.name} ({person.birth_commune.departement})",
        f"Acte n° {act_number} - année {person.birth_date.year}",
        "# Acte de naissance",
        f"Le {_fr(person.birth_date)}, est {born} à {person.birth_commune.name} : "
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
        f"né(e) le {_fr(p1.birth_date)} à {p1.birth_commune.name}",
        f"{p2.civility_label} {p2.all_first_names} {p2.last_name}, "
        f"né(e) le {_fr(p2.birth_date)} à {p2.birth_commune.name}",
        "# Objet",
        "Les partenaires concluent un pacte civil de solidarité régi par les articles 515-1 "
        "et suivants du code civil. Ils s'engagent à une vie commune ainsi qu'à une aide "
        "matérielle et une assistance réciproques.",
        "# Régime des biens",
        "Régime de l'indivision" if pacs.specific_agreement else "Séparation des patrimoines",
        f"Fait à {p1.address.commune.name}, le {_fr(pacs.submitted_at)}, en deux exemplaires.",
    ]


def _pacs_files(
    applicant: Applicant, external_id: str, submitted: datetime, rng: random.Random
) -> list[GeneratedFile]:
    pacs = _pacs_file(applicant, external_id, submitted, rng)
    prefix = f"{_safe_name(external_id)}-depotDossierPACS"
    files = [
        _pdf_file(
            "15725-02.pdf",
            "15725-02",
            "Déclaration conjointe de pacte civil de solidarité (PACS)",
            _pacs_form_lines(pacs),
        ),
        _pdf_file(
            f"{prefix}-an-0.pdf",
            "an",
            "Acte de naissance - copie intégrale",
            _birth_certificate_lines(pacs.partner1, pacs.birth_act_numbers[0]),
        ),
        _pdf_file(
            f"{prefix}-anp-1.pdf",
            "anp",
            "Acte de naissance - copie intégrale",
            _birth_certificate_lines(pacs.partner2, pacs.birth_act_numbers[1]),
        ),
        _pdf_file(
            f"{prefix}-cp-2.pdf",
            "cp",
            "Convention de pacte civil de solidarité",
            _pacs_agreement_lines(pacs),
        ),
        _xml_file("flux-pacs.xml", "flux-pacs", make_pacs_xml(pacs)),
    ]
    recap = _header_lines(external_id, submitted) + [
        "# Partenaires",
        f"Partenaire 1 : {pacs.partner1.all_first_names} {pacs.partner1.last_name}",
        f"Partenaire 2 : {pacs.partner2.all_first_names} {pacs.partner2.last_name}",
        "# Résidence commune",
        *_address_lines(pacs.partner1.address),
        "# Pièces jointes",
        *(f"{f.file_name} ({f.type}, {f.size} octets)" for f in files),
        "# Suite de la démarche",
        "La mairie vous contactera pour fixer la date de l'enregistrement du PACS, en "
        "présence des deux partenaires munis de leur pièce d'identité.",
        *_contact_lines(pacs.partner1),
    ]
    files.append(
        _pdf_file("recapPDF.pdf", "recapPDF", "Récapitulatif - dépôt de dossier de PACS", recap)
    )
    return files


# --------------------------------------------------------------------------------------------
# JeChangeDeCoordonnees: change of address, flow for the vehicle register (JCC / SIV)
# --------------------------------------------------------------------------------------------

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
    old = _random_address(rng)
    while old == applicant.address:  # pragma: no cover - a coincidence, drawn again
        old = _random_address(rng)
    letters = [rng.choice(_PLATE_LETTERS) for _ in range(4)]
    plate = f"{letters[0]}{letters[1]}-{rng.randint(1, 999):03d}-{letters[2]}{letters[3]}"
    first_registration = _random_date(rng, date(2012, 1, 1), date(2024, 12, 31))
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


def _siv_address(tag: str, address: Address) -> _Node:
    return _el(
        tag,
        _el("NumeroVoie", address.number),
        _el("TypeVoie", address.street_type),
        _el("NomVoie", address.street_name),
        _el("CodePostal", address.commune.postal_code),
        _el("Localite", address.commune.upper),
        _el("CodeINSEE", address.commune.insee),
        _el("Pays", "FRA"),
    )


def make_flux_siv_xml(change: AddressChange) -> bytes:
    """``FluxSIV``: the change of address sent to the vehicle register (our own shape)."""
    person = change.applicant
    root = _el(
        "FluxSIV",
        _el(
            "Teledossier",
            _el("Numero", change.external_id),
            _el("Demarche", "JeChangeDeCoordonnees"),
            _el("DateSoumission", change.submitted_at.strftime("%Y-%m-%dT%H:%M:%S")),
        ),
        _el(
            "ChangementAdresse",
            _el("DateEffet", _iso(change.effective_date)),
            _el("Motif", _el("Code", "DEMENAGEMENT"), _el("Libelle", "Déménagement")),
        ),
        _el(
            "Titulaire",
            _el("Civilite", person.civility.upper()),
            _el("Sexe", "F" if person.is_female else "M"),
            _el("NomNaissance", person.birth_last_name),
            _el("NomUsage", person.last_name),
            _el("Prenoms", person.all_first_names),
            _el("DateNaissance", _iso(person.birth_date)),
            _el("CommuneNaissance", person.birth_commune.upper),
            _el("CodeINSEENaissance", person.birth_commune.insee),
            _el("PaysNaissance", "FRA"),
        ),
        _siv_address("AncienneAdresse", change.old_address),
        _siv_address("NouvelleAdresse", person.address),
        _el(
            "Vehicule",
            _el("NumeroImmatriculation", change.plate),
            _el("NumeroFormule", change.registration_document),
            _el("DatePremiereImmatriculation", _iso(change.first_registration)),
        ),
        _el("Contact", _el("Courriel", person.email), _el("Telephone", person.phone)),
        version="1.0",
    )
    return _render_xml(root)


def _address_change_lines(change: AddressChange) -> list[str]:
    person = change.applicant
    lines = _header_lines(change.external_id, change.submitted_at)
    lines += [
        "# Informations sur le changement d'adresse postale",
        f"Date d'effet : {_fr(change.effective_date)}",
        "Objet du changement : Déménagement",
        "# Mes informations personnelles",
    ]
    lines += _person_lines(person)
    lines += ["# Adresse postale avant le déménagement"]
    lines += _address_lines(change.old_address)
    lines += ["# Adresse postale après le déménagement"]
    lines += _address_lines(person.address)
    lines += [
        "# Organismes destinataires",
        "Système d'immatriculation des véhicules (SIV)",
        f"Numéro d'immatriculation : {change.plate}",
        f"Numéro de formule du certificat : {change.registration_document}",
        f"Date de première immatriculation : {_fr(change.first_registration)}",
        "# Coordonnées de contact",
    ]
    lines += _contact_lines(person)
    return lines


def _address_change_files(
    applicant: Applicant, external_id: str, submitted: datetime, rng: random.Random
) -> list[GeneratedFile]:
    change = _address_change(applicant, external_id, submitted, rng)
    return [
        _pdf_file(
            "flux-siv.pdf",
            "flux-siv",
            "Déclaration de changement de coordonnées",
            _address_change_lines(change),
        ),
        _xml_file("flux-siv.xml", "flux-siv", make_flux_siv_xml(change)),
    ]


# --------------------------------------------------------------------------------------------
# CERTDC: electronic death certificate, administrative part (CertDc)
# --------------------------------------------------------------------------------------------

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
    doctor = _random_person(rng)
    declarant = _random_person(rng, last_name=applicant.last_name)
    officer = _random_person(rng)
    department = place.insee[:2]
    return DeathCertificate(
        deceased=applicant,
        certificate_number=external_id,
        written_at=submitted,
        death_at=submitted - timedelta(minutes=rng.randint(20, 720)),
        place=place,
        establishment=f"{rng.choice(_ESTABLISHMENT_NAMES)} - {place.name}",
        finess=f"{department}{rng.randint(0, 9_999_999):07d}",
        doctor=f"Dr {doctor.first_name} {_upper_ascii(doctor.last_name)}",
        declarant=f"{declarant.first_name} {declarant.last_name}",
        officer=f"{officer.first_name} {_upper_ascii(officer.last_name)}",
        deposit_code="-".join(f"{rng.randint(0, 9999):04d}" for _ in range(4)),
        pacemaker=rng.random() < 0.2,
    )


def make_death_declaration_xml(cert: DeathCertificate) -> bytes:
    """``InsermDeclarationDeces`` (the ``DD`` file)."""
    person = cert.deceased
    address = person.address
    root = _el(
        "InsermDeclarationDeces",
        _el("Annee", cert.death_at.year),
        _el("Ville", cert.place.upper),
        _el("Etablissement", cert.establishment),
        _el("CodeFinessEtablissement", cert.finess),
        _el(
            "DateDeces",
            _el("Date", _iso(cert.death_at.date())),
            _el("Heure", cert.death_at.strftime("%H:%M:00")),
        ),
        _el("DateRedaction", cert.written_at.strftime("%Y-%m-%dT%H:%M:%S")),
        _el(
            "Defunt",
            _el("Nom", person.last_name),
            _opt("NomJeuneFille", person.birth_last_name if person.is_female else None),
            _el("Prenoms", person.all_first_names),
            _el("DateNaissance", _iso(person.birth_date)),
            _el(
                "AdresseDomicile",
                _el("Adresse", address.line),
                _el("Commune", address.commune.upper),
                _el("CodePostal", address.commune.postal_code),
                _el("Departement", address.commune.departement),
            ),
        ),
        _el(
            "InformationsValidateurs",
            _el("NomDeclarant", cert.declarant),
            _el("NomOfficier", cert.officer),
            _el("NomMedecin", cert.doctor),
        ),
        version="1.00.00",
    )
    return _render_xml(root)


def make_death_certificate_xml(cert: DeathCertificate) -> bytes:
    """``InsermCertificatAdministrative`` (the ``VA`` file: administrative part)."""
    person = cert.deceased
    address = person.address
    root = _el(
        "InsermCertificatAdministrative",
        _el(
            "DateDeces",
            _el("Date", _iso(cert.death_at.date())),
            _el("Heure", cert.death_at.strftime("%H:%M:00")),
        ),
        _el(
            "Defunt",
            _el("Nom", person.last_name),
            _opt("NomJeuneFille", person.birth_last_name if person.is_female else None),
            _el("Prenoms", person.all_first_names),
            _el("DateNaissance", _iso(person.birth_date)),
            _el("Sexe", "Feminin" if person.is_female else "Masculin"),
        ),
        _el(
            "LieuDeces",
            _el("Commune", cert.place.upper),
            _el("CodePostal", cert.place.postal_code),
        ),
        _el(
            "AdresseDomicile",
            _el("NumeroRue", address.number),
            _el("Adresse", address.street),
            _el("Commune", address.commune.upper),
            _el("CodePostal", address.commune.postal_code),
        ),
        _el(
            "InformationsFuneraires",
            _el("ObstacleMedicoLegal", _bool(False)),
            _el(
                "MiseEnBiereImmediate",
                _el("CercueilHermetique", _bool(False)),
                _el("CercueilSimple", _bool(False)),
                miseenbiere=_bool(False),
            ),
            _el("ObstacleSoinsConservation", _bool(False)),
            _el("ObstacleDonCorps", _bool(False)),
            _el("RechercheCauseDeces", _bool(False)),
            _el("PresenceProthesePile", _bool(cert.pacemaker)),
            _el("RetraitProthesePile", _bool(cert.pacemaker)),
        ),
        _el(
            "Validation",
            _el("NNC", cert.certificate_number),
            _el("CodeFinessOrganisme", cert.finess),
            _el("Medecin", cert.doctor),
            _el("Lieu", cert.place.upper),
            _el("Date", cert.written_at.strftime("%Y-%m-%dT%H:%M:%S")),
            _el("CodeDepot", cert.deposit_code),
        ),
        _el("DoublonVolontaire", _bool(False)),
        version="1.00.00",
    )
    return _render_xml(root)


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
        f"Date de naissance : {_fr(person.birth_date)}",
        f"Domicile : {person.address.line}, {person.address.locality}",
    ]
    return lines


def _death_declaration_lines(cert: DeathCertificate) -> list[str]:
    return [
        f"Numéro de certificat : {cert.certificate_number}",
        f"Rédigé le : {_fr_dt(cert.written_at)}",
        "# Décès",
        f"Date et heure du décès : {_fr_dt(cert.death_at)}",
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
        f"Date et heure du décès : {_fr_dt(cert.death_at)}",
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
        f"Fait à {cert.place.name}, le {_fr_dt(cert.written_at)}",
        f"Code de dépôt : {cert.deposit_code}",
    ]


def _death_files(
    applicant: Applicant, external_id: str, submitted: datetime, rng: random.Random
) -> list[GeneratedFile]:
    cert = _death_certificate(applicant, external_id, submitted, rng)
    stem = f"{_safe_name(external_id)}_{cert.written_at:%Y%m%d_%H%M}"
    return [
        _pdf_file(
            f"{stem}_DD.pdf",
            "DD_Certificatdedeces",
            "Certificat de décès - déclaration",
            _death_declaration_lines(cert),
        ),
        _xml_file(f"{stem}_DD.xml", "DD_Certificatdedeces", make_death_declaration_xml(cert)),
        _pdf_file(
            f"{stem}_VA.pdf",
            "VA_CertificatdeDeces",
            "Certificat de décès - volet administratif",
            _death_certificate_lines(cert),
        ),
        _xml_file(f"{stem}_VA.xml", "VA_CertificatdeDeces", make_death_certificate_xml(cert)),
    ]


# --------------------------------------------------------------------------------------------
# Any other process code: a generic pair
# --------------------------------------------------------------------------------------------


def make_generic_xml(
    process_code: str, applicant: Applicant, external_id: str, submitted_at: datetime
) -> bytes:
    """``Teledossier``: the applicant of a démarche this module has no real shape for."""
    address = applicant.address
    root = _el(
        "Teledossier",
        _el("Numero", external_id),
        _el("DateSoumission", submitted_at.strftime("%Y-%m-%dT%H:%M:%S")),
        _el(
            "Demandeur",
            _el("Civilite", applicant.civility.upper()),
            _el("Nom", applicant.last_name),
            _el("Prenoms", applicant.all_first_names),
            _el("DateNaissance", _iso(applicant.birth_date)),
            _el("Courriel", applicant.email),
            _el("Telephone", applicant.phone),
            _el(
                "Adresse",
                _el("Voie", address.line),
                _el("CodePostal", address.commune.postal_code),
                _el("Localite", address.commune.upper),
                _el("CodeINSEE", address.commune.insee),
            ),
        ),
        processCode=process_code,
    )
    return _render_xml(root)


def _generic_files(
    process_code: str, applicant: Applicant, external_id: str, submitted: datetime
) -> list[GeneratedFile]:
    stem = f"{_safe_name(external_id)}-{_safe_name(process_code, 'demarche')}-document"
    lines = _header_lines(external_id, submitted)
    lines += [f"Démarche : {process_code}", "# Demandeur"]
    lines += _person_lines(applicant, with_contact=True)
    lines += ["# Adresse"]
    lines += _address_lines(applicant.address)
    return [
        _xml_file(
            f"{stem}-0.xml",
            GENERIC_TYPE,
            make_generic_xml(process_code, applicant, external_id, submitted),
        ),
        _pdf_file(f"{stem}-1.pdf", GENERIC_TYPE, f"Télédossier {process_code}", lines),
    ]


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------

_BUILDERS = {
    "EtatCivil": _etat_civil_files,
    "recensementCitoyen": _census_files,
    "depotDossierPACS": _pacs_files,
    "JeChangeDeCoordonnees": _address_change_files,
    "CERTDC": _death_files,
}


def generate_files(
    process_code: str,
    applicant: Applicant,
    external_id: str,
    rng: random.Random,
    *,
    submitted_at: datetime | None = None,
) -> list[GeneratedFile]:
    """The files a real deposit of this démarche carries, filled with the applicant's data.

    ``submitted_at`` (naive = Paris wall time, or aware) dates the deposit; without it a
    2025 date is drawn from ``rng``. Same inputs and same rng state: same bytes. An unknown
    process code gives a generic XML + PDF pair of type ``document``.
    """
    submitted = _submission_time(submitted_at, rng)
    builder = _BUILDERS.get(process_code)
    if builder is None:
        return _generic_files(process_code, applicant, external_id, submitted)
    return builder(applicant, external_id, submitted, rng)
