"""Sandbox télédossier content: XML flows and hand-written PDFs (no database needed)."""

from __future__ import annotations

import hashlib
import random
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from base64 import b64encode
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

import pytest

from hubee_portal.sandbox.content import (
    GENERIC_TYPE,
    SUPPORTED_PROCESS_CODES,
    Address,
    Applicant,
    Commune,
    GeneratedFile,
    generate_files,
    make_pdf,
    new_external_id,
    random_applicant,
)

PDF = "application/pdf"
XML = "application/xml"
EXTERNAL_ID = "A-1-K7RX2Q9M"
CERTDC_ID = "ER20250000042"

APPLICANT = Applicant(
    first_name="Éloïse",
    last_name="Lefèvre-Bœuf",
    email="eloise.lefevre-4821@yopmail.com",
    civility="MADAME",
    other_first_names=("Anaïs",),
    birth_date=date(1979, 2, 14),
    birth_commune=Commune("Besançon", "25000", "25056", "Doubs"),
    address=Address("7", "RUE", "DES GLYCINES", Commune("Angers", "49000", "49007", "Loire")),
    phone="0639981234",
)

EXPECTED_FILES = {
    "EtatCivil": [("ActeEtatCivil-PDF", PDF), ("ActeEtatCivil-XML", XML)],
    "recensementCitoyen": [("10870-PDF", PDF), ("10870-XML", XML), ("jf", PDF), ("ji", PDF)],
    "depotDossierPACS": [
        ("15725-02", PDF),
        ("an", PDF),
        ("anp", PDF),
        ("cp", PDF),
        ("flux-pacs", XML),
        ("recapPDF", PDF),
    ],
    "JeChangeDeCoordonnees": [("flux-siv", PDF), ("flux-siv", XML)],
    "CERTDC": [
        ("DD_Certificatdedeces", PDF),
        ("DD_Certificatdedeces", XML),
        ("VA_CertificatdeDeces", PDF),
        ("VA_CertificatdeDeces", XML),
    ],
}

EXPECTED_NAMES = {
    "EtatCivil": {"ActeEtatCivil-PDF.pdf", "ActeEtatCivil-XML.xml"},
    "recensementCitoyen": {
        "10870-XML.xml",
        "10870-PDF.pdf",
        f"{EXTERNAL_ID}-recensementCitoyen-ji-0.pdf",
        f"{EXTERNAL_ID}-recensementCitoyen-jf-1.pdf",
    },
    "depotDossierPACS": {
        "15725-02.pdf",
        f"{EXTERNAL_ID}-depotDossierPACS-an-0.pdf",
        f"{EXTERNAL_ID}-depotDossierPACS-anp-1.pdf",
        f"{EXTERNAL_ID}-depotDossierPACS-cp-2.pdf",
        "flux-pacs.xml",
        "recapPDF.pdf",
    },
    "JeChangeDeCoordonnees": {"flux-siv.pdf", "flux-siv.xml"},
}

XML_ROOTS = {
    "EtatCivil": {"EnveloppeMetierType"},
    "recensementCitoyen": {"RecensementCitoyen"},
    "depotDossierPACS": {"PACS"},
    "JeChangeDeCoordonnees": {"FluxSIV"},
    "CERTDC": {"InsermDeclarationDeces", "InsermCertificatAdministrative"},
}

# Files about somebody else than the applicant (the other partner's birth certificate).
NOT_ABOUT_APPLICANT = {"anp"}


# --------------------------------------------------------------------------------------------
# A small PDF reader of our own: xref, objects, page tree, text of the content streams
# --------------------------------------------------------------------------------------------


@dataclass
class ParsedPdf:
    objects: dict[int, bytes]
    page_count: int
    text: str


def _unescape_literal(raw: bytes) -> bytes:
    out = bytearray()
    i = 0
    simple = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("f"): b"\f"}
    while i < len(raw):
        byte = raw[i]
        if byte != 0x5C:
            out.append(byte)
            i += 1
            continue
        digits = re.match(rb"[0-7]{1,3}", raw[i + 1 : i + 4])
        if digits:
            out.append(int(digits.group(), 8) & 0xFF)
            i += 1 + len(digits.group())
        else:
            nxt = raw[i + 1]
            out += simple.get(nxt, bytes([nxt]))
            i += 2
    return bytes(out)


def parse_pdf(pdf: bytes) -> ParsedPdf:
    """Check the structure a viewer relies on, fail loudly on any inconsistency."""
    assert pdf.startswith(b"%PDF-1.4\n")
    assert pdf.endswith(b"%%EOF\n")
    startxref = re.search(rb"startxref\n(\d+)\n%%EOF\n$", pdf)
    assert startxref, "no startxref before %%EOF"
    xref_at = int(startxref.group(1))
    header = re.match(rb"xref\n0 (\d+)\n", pdf[xref_at:])
    assert header, f"startxref {xref_at} does not point at an xref table"
    size = int(header.group(1))
    table_at = xref_at + header.end()
    entries = [pdf[table_at + 20 * i : table_at + 20 * (i + 1)] for i in range(size)]
    assert entries[0] == b"0000000000 65535 f \n"
    objects: dict[int, bytes] = {}
    for number, entry in enumerate(entries[1:], start=1):
        match = re.fullmatch(rb"(\d{10}) 00000 n \n", entry)
        assert match, f"bad xref entry {entry!r} for object {number}"
        offset = int(match.group(1))
        opening = b"%d 0 obj\n" % number
        assert pdf[offset : offset + len(opening)] == opening, (
            f"xref offset {offset} of object {number} points at {pdf[offset : offset + 20]!r}"
        )
        end = pdf.index(b"\nendobj\n", offset)
        objects[number] = pdf[offset + len(opening) : end]
    trailer = pdf[table_at + 20 * size : startxref.start()]
    assert trailer.startswith(b"trailer\n")
    assert re.search(rb"/Size %d\b" % size, trailer)
    root = int(re.search(rb"/Root (\d+) 0 R", trailer).group(1))
    assert b"/Type /Catalog" in objects[root]

    for number, body in objects.items():
        stream = re.match(rb"<< /Length (\d+) >>\nstream\n", body)
        if stream:
            length = int(stream.group(1))
            assert body[stream.end() + length :] == b"\nendstream", f"object {number} /Length"

    tree = int(re.search(rb"/Pages (\d+) 0 R", objects[root]).group(1))
    kids = [
        int(n)
        for n in re.findall(rb"(\d+) 0 R", re.search(rb"/Kids \[(.*?)\]", objects[tree]).group(1))
    ]
    count = int(re.search(rb"/Count (\d+)", objects[tree]).group(1))
    assert count == len(kids)
    page_objects = [n for n, body in objects.items() if re.search(rb"/Type /Page(?!s)", body)]
    assert sorted(kids) == sorted(page_objects)

    lines = []
    for kid in kids:
        assert b"/Parent %d 0 R" % tree in objects[kid]
        assert (
            b"/Encoding /WinAnsiEncoding"
            in objects[int(re.search(rb"/F1 (\d+) 0 R", objects[kid]).group(1))]
        )
        contents = int(re.search(rb"/Contents (\d+) 0 R", objects[kid]).group(1))
        for literal in re.findall(rb"\(((?:\\.|[^\\()])*)\) Tj", objects[contents], re.S):
            lines.append(_unescape_literal(literal).decode("cp1252"))
    return ParsedPdf(objects=objects, page_count=count, text="\n".join(lines))


def pdf_texts(pdf: bytes) -> list[str]:
    """Our own extraction, plus pdftotext's when the machine has it."""
    texts = [parse_pdf(pdf).text]
    pdftotext = shutil.which("pdftotext")
    if pdftotext:
        result = subprocess.run(
            [pdftotext, "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
        )
        texts.append(result.stdout.decode("utf-8"))
    return texts


def parse_xml(content: bytes) -> ET.Element:
    # Our own generated bytes, no DTD: the stdlib parser is what the brief asks for.
    return ET.fromstring(content)  # noqa: S314


def xml_texts(content: bytes) -> list[str]:
    root = parse_xml(content)
    return [el.text for el in root.iter() if el.text and el.text.strip()]


def files_for(code: str, applicant: Applicant = APPLICANT, seed: int = 7) -> list[GeneratedFile]:
    external_id = CERTDC_ID if code == "CERTDC" else EXTERNAL_ID
    return generate_files(code, applicant, external_id, random.Random(seed))


# --------------------------------------------------------------------------------------------
# The reader itself must catch broken files
# --------------------------------------------------------------------------------------------


def test_reader_rejects_a_shifted_xref() -> None:
    pdf = make_pdf("Titre", ["Une ligne"])
    parse_pdf(pdf)
    shifted = pdf.replace(b"%PDF-1.4\n", b"%PDF-1.4\n\n", 1)  # every offset now off by one
    with pytest.raises(AssertionError, match="startxref"):
        parse_pdf(shifted)
    # One object entry off by one byte (same width, so the table itself still parses).
    table = pdf.rindex(b"xref\n0 ")
    entry = re.compile(rb"(\d{10}) 00000 n \n")
    third = list(entry.finditer(pdf, table))[2]
    wrong = b"%010d 00000 n \n" % (int(third.group(1)) + 1)
    broken = pdf[: third.start()] + wrong + pdf[third.end() :]
    with pytest.raises(AssertionError, match="xref offset .* of object 3"):
        parse_pdf(broken)


def test_reader_rejects_a_wrong_stream_length() -> None:
    pdf = make_pdf("Titre", ["Une ligne"])
    broken = re.sub(rb"/Length (\d+)", lambda m: b"/Length %d" % (int(m[1]) + 1), pdf, count=1)
    assert broken != pdf
    with pytest.raises(AssertionError):
        parse_pdf(broken)


# --------------------------------------------------------------------------------------------
# Files per démarche
# --------------------------------------------------------------------------------------------


def test_supported_process_codes() -> None:
    assert SUPPORTED_PROCESS_CODES == (
        "EtatCivil",
        "recensementCitoyen",
        "depotDossierPACS",
        "JeChangeDeCoordonnees",
        "CERTDC",
    )
    assert set(EXPECTED_FILES) == set(SUPPORTED_PROCESS_CODES)


@pytest.mark.parametrize("code", SUPPORTED_PROCESS_CODES)
def test_types_mime_types_and_file_names(code: str) -> None:
    files = files_for(code)

    assert sorted((f.type, f.mime_type) for f in files) == sorted(EXPECTED_FILES[code])
    names = [f.file_name for f in files]
    assert len(set(names)) == len(names)
    for f in files:
        assert f.file_name.endswith(".pdf" if f.mime_type == PDF else ".xml")
        assert f.size == len(f.content) > 0
        assert f.sha256_hex == hashlib.sha256(f.content).hexdigest()
        assert f.digest == b64encode(hashlib.sha256(f.content).digest()).decode()
    if code == "CERTDC":
        stems = [
            re.fullmatch(rf"({CERTDC_ID}_\d{{8}}_\d{{4}})_(DD|VA)\.(pdf|xml)", n) for n in names
        ]
        assert None not in stems
        assert len({m.group(1) for m in stems}) == 1  # the four files share one stem
        assert {f.type for f in files if "_DD." in f.file_name} == {"DD_Certificatdedeces"}
    else:
        assert set(names) == EXPECTED_NAMES[code]


@pytest.mark.parametrize("code", SUPPORTED_PROCESS_CODES)
def test_xml_flows_are_well_formed_and_carry_the_applicant(code: str) -> None:
    xml_files = [f for f in files_for(code) if f.mime_type == XML]
    assert xml_files

    roots = set()
    for f in xml_files:
        assert f.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
        f.content.decode("utf-8")  # strict UTF-8
        roots.add(parse_xml(f.content).tag)
        texts = xml_texts(f.content)
        assert APPLICANT.last_name in texts, f"{f.file_name}: {APPLICANT.last_name} missing"
        assert any(APPLICANT.first_name in t for t in texts)
    assert roots == XML_ROOTS[code]


@pytest.mark.parametrize("code", SUPPORTED_PROCESS_CODES)
def test_pdfs_are_valid_and_readable(code: str) -> None:
    pdf_files = [f for f in files_for(code) if f.mime_type == PDF]
    assert pdf_files

    for f in pdf_files:
        parsed = parse_pdf(f.content)
        assert parsed.page_count >= 1
        for text in pdf_texts(f.content):
            assert "bac à sable HubEE" in text
            if f.type not in NOT_ABOUT_APPLICANT:
                assert APPLICANT.last_name in text, f"{f.file_name}: no {APPLICANT.last_name}"


def test_pacs_partner_birth_certificate_is_about_the_partner() -> None:
    files = {f.type: f for f in files_for("depotDossierPACS")}
    flux = parse_xml(files["flux-pacs"].content)
    partner2 = flux.find("partenaire2/nomNaissance").text
    assert flux.find("partenaire1/nomNaissance").text == APPLICANT.last_name
    assert flux.find("partenaire2/adressePostale/Localite").text == "ANGERS"  # living together
    assert partner2 in parse_pdf(files["anp"].content).text
    assert flux.find("partenaire2/prenoms").text in parse_pdf(files["recapPDF"].content).text


def test_census_declared_by_a_parent_concerns_a_sixteen_year_old() -> None:
    submitted = datetime(2025, 9, 15, 10, 30)
    files = generate_files(
        "recensementCitoyen", APPLICANT, EXTERNAL_ID, random.Random(3), submitted_at=submitted
    )
    flux = parse_xml(next(f for f in files if f.type == "10870-XML").content)
    born = datetime.strptime(flux.find("Personne/DateNaissance").text, "%d/%m/%Y").date()
    age_days = (submitted.date() - born).days
    assert 16 * 365 <= age_days <= 16 * 366 + 90
    assert flux.find("Personne/NomFamille").text == APPLICANT.last_name
    assert flux.find("FiliationMere/PrenomUsuel").text == APPLICANT.first_name
    assert flux.find("Personne/MethodeContact/URI").text == APPLICANT.email
    assert flux.find("Formalite/DateSoumission").text == "2025-09-15T10:30:00"


def test_etat_civil_keeps_birth_name_and_name_in_use_apart() -> None:
    married = replace(APPLICANT, birth_name="Ménard")
    files = {f.type: f for f in files_for("EtatCivil", married)}
    flux = parse_xml(files["ActeEtatCivil-XML"].content)
    assert flux.find("DemandeActe/Demandeur/Nom").text == "Lefèvre-Bœuf"
    assert flux.find("DemandeActe/Titulaire/NomNaissance").text == "Ménard"
    assert flux.find("DemandeActe/Titulaire/Prenoms").text == "Éloïse Anaïs"
    assert flux.get("canal_utilise") == "0"
    text = parse_pdf(files["ActeEtatCivil-PDF"].content).text
    assert "Nom de naissance : Ménard" in text
    assert "Nom d'usage : Lefèvre-Bœuf" in text


def test_aware_submission_time_is_written_as_paris_time() -> None:
    files = generate_files(
        "CERTDC",
        APPLICANT,
        CERTDC_ID,
        random.Random(1),
        submitted_at=datetime(2025, 7, 1, 10, 5, tzinfo=UTC),
    )
    assert {f.file_name for f in files} == {
        f"{CERTDC_ID}_20250701_1205_{part}.{ext}" for part in ("DD", "VA") for ext in ("pdf", "xml")
    }
    va = parse_xml(next(f for f in files if f.file_name.endswith("_VA.xml")).content)
    assert va.find("Validation/Date").text == "2025-07-01T12:05:00"
    assert va.find("Validation/NNC").text == CERTDC_ID
    assert va.find("Defunt/Nom").text == APPLICANT.last_name


def test_unknown_process_code_gives_a_generic_pair() -> None:
    files = files_for("HebergementTourisme")

    assert sorted((f.type, f.mime_type) for f in files) == [
        (GENERIC_TYPE, PDF),
        (GENERIC_TYPE, XML),
    ]
    xml_file = next(f for f in files if f.mime_type == XML)
    root = parse_xml(xml_file.content)
    assert root.get("processCode") == "HebergementTourisme"
    assert APPLICANT.last_name in xml_texts(xml_file.content)
    pdf_file = next(f for f in files if f.mime_type == PDF)
    assert all(APPLICANT.last_name in text for text in pdf_texts(pdf_file.content))
    assert all(EXTERNAL_ID in f.file_name and "HebergementTourisme" in f.file_name for f in files)


def test_unknown_process_code_is_sanitised_in_file_names() -> None:
    files = generate_files("../../etc/passwd <x>", APPLICANT, "A/1\\..", random.Random(0))
    for f in files:
        assert re.fullmatch(r"[A-Za-z0-9._-]+", f.file_name), f.file_name
        assert not f.file_name.startswith(".")
    root = parse_xml(next(f for f in files if f.mime_type == XML).content)
    assert root.get("processCode") == "../../etc/passwd <x>"


# --------------------------------------------------------------------------------------------
# Hostile values
# --------------------------------------------------------------------------------------------

HOSTILE = replace(
    APPLICANT,
    first_name='Zoé "la" <b>',
    last_name="O'Brien & <script>alert(1)</script> (\\)",
    email="o'brien&co<x>@yopmail.com",
)


@pytest.mark.parametrize("code", [*SUPPORTED_PROCESS_CODES, "OTV"])
def test_hostile_values_are_escaped(code: str) -> None:
    for f in files_for(code, HOSTILE):
        if f.mime_type == XML:
            assert b"<script>" not in f.content
            assert b"<b>" not in f.content
            texts = xml_texts(f.content)  # parses: the escaping held
            assert HOSTILE.last_name in texts
            assert any(t.startswith(HOSTILE.first_name) for t in texts)
        else:
            parse_pdf(f.content)  # still a consistent file
            if f.type not in NOT_ABOUT_APPLICANT:
                assert rb"alert\(1\)</script> \(\\\)" in f.content  # "(", ")" and "\" escaped
                assert b"(\\)" not in f.content
                for text in pdf_texts(f.content):
                    assert HOSTILE.last_name in text


def test_xml_drops_characters_xml_cannot_carry() -> None:
    ghost = replace(APPLICANT, last_name="Du\x00pont\x1b\ud800", first_name="Lé\x0co")
    flux = next(f for f in files_for("EtatCivil", ghost) if f.mime_type == XML)
    root = parse_xml(flux.content)
    assert root.find("DemandeActe/Demandeur/Nom").text == "Dupont"
    assert root.find("DemandeActe/Demandeur/Prenom").text == "Léo"


def test_pdf_string_escaping() -> None:
    line = "a) b( c\\d <script>&amp;"
    pdf = make_pdf("Titre (x) \\ y", [line])

    assert rb"(a\) b\( c\\d <script>&amp;) Tj" in pdf
    assert rb"(Titre \(x\) \\ y) Tj" in pdf
    for text in pdf_texts(pdf):
        assert line in text
        assert "Titre (x) \\ y" in text


def test_pdf_uses_winansi_for_french_text() -> None:
    pdf = make_pdf("Récapitulatif", ["Lefèvre œuvre 12 € « à » naïf", "中文 ő"])

    assert rb"(Lef\350vre \234uvre 12 \200 \253 \340 \273 na\357f) Tj" in pdf
    assert pdf.count(b"/Encoding /WinAnsiEncoding") == 2  # Helvetica and Helvetica-Bold
    # The title metadata is UTF-16BE: "Récapitulatif" with é = 00E9.
    assert b"/Title <FEFF005200E9" in pdf
    text = parse_pdf(pdf).text
    assert "Lefèvre œuvre 12 € « à » naïf" in text
    assert "?? o" in text  # no WinAnsi glyph: transliterated or replaced, never dropped
    for extracted in pdf_texts(pdf):
        assert "Lefèvre" in extracted


def test_long_text_is_wrapped_and_paginated() -> None:
    long_word = "x" * 400
    paragraph = "Les données inventées du bac à sable HubEE. " * 20
    lines = [
        "# Première section",
        paragraph,
        long_word,
        *[f"Ligne {i} : Hélène" for i in range(150)],
    ]
    pdf = make_pdf("Document long", lines)

    parsed = parse_pdf(pdf)
    assert parsed.page_count >= 3
    page_objects = [b for b in parsed.objects.values() if re.search(rb"/Type /Page(?!s)", b)]
    assert len(page_objects) == parsed.page_count
    text_lines = parsed.text.split("\n")
    assert "Ligne 0 : Hélène" in text_lines and "Ligne 149 : Hélène" in text_lines
    assert f"page {parsed.page_count} sur {parsed.page_count}" in text_lines
    # The paragraph and the long word were cut into several lines, nothing was lost.
    x_lines = [line for line in text_lines if set(line) == {"x"}]
    assert len(x_lines) > 1 and "".join(x_lines) == long_word
    start = text_lines.index("Première section") + 1
    paragraph_lines = text_lines[start : text_lines.index(x_lines[0])]
    assert len(paragraph_lines) > 1
    assert " ".join(paragraph_lines).split() == paragraph.split()
    assert max(len(line) for line in text_lines) < 120


def test_empty_document_is_still_a_valid_pdf() -> None:
    parsed = parse_pdf(make_pdf("", []))
    assert parsed.page_count == 1


# --------------------------------------------------------------------------------------------
# Applicants and determinism
# --------------------------------------------------------------------------------------------


def test_random_applicant_is_a_plausible_fictitious_adult() -> None:
    rng = random.Random(11)
    for _ in range(50):
        person = random_applicant(rng)
        assert re.fullmatch(r"[a-z0-9]+\.[a-z0-9]+-\d{4}@yopmail\.com", person.email)
        assert person.civility in {"MADAME", "MONSIEUR"}
        assert re.fullmatch(r"\d{5}", person.address.commune.insee)
        assert re.fullmatch(r"\d{5}", person.birth_commune.postal_code)
        assert re.fullmatch(r"063998\d{4}", person.phone)
        assert date(1950, 1, 1) <= person.birth_date <= date(2004, 12, 31)
        assert person.first_name and person.last_name


def test_new_external_id_shapes() -> None:
    rng = random.Random(5)
    assert re.fullmatch(r"A-1-[A-Z0-9]{8}", new_external_id("EtatCivil", rng))
    assert re.fullmatch(r"ER\d{11}", new_external_id("CERTDC", rng))


def _deposit(code: str, seed: int) -> tuple[Applicant, str, list[GeneratedFile]]:
    rng = random.Random(seed)
    applicant = random_applicant(rng)
    external_id = new_external_id(code, rng)
    return applicant, external_id, generate_files(code, applicant, external_id, rng)


@pytest.mark.parametrize("code", [*SUPPORTED_PROCESS_CODES, "OTV"])
def test_same_seed_same_bytes(code: str) -> None:
    first = _deposit(code, 2024)
    assert first == _deposit(code, 2024)
    assert [f.content for f in first[2]] != [f.content for f in _deposit(code, 2025)[2]]


def test_make_pdf_is_deterministic() -> None:
    assert make_pdf("Titre", ["é", "ligne"]) == make_pdf("Titre", ["é", "ligne"])
    assert make_pdf("Titre", ["é"]) != make_pdf("Titre", ["è"])
