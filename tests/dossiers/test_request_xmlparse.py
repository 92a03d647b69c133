"""The bounded XML parser and the field view: truncated, empty, hostile, oversized, too deep,
too many elements; French labels and dates, no empty row."""

from __future__ import annotations

import io

import pytest

from dossiers.web.request import dates, fields, labels, xmlparse


def parse(data: bytes) -> xmlparse.Parsed:
    return xmlparse.parse_bytes(io.BytesIO(data))


def test_a_whole_file_is_read_without_cut():
    parsed = parse(b"<a><b>1</b><c x='2'/></a>")
    assert parsed.cut == ""
    assert [e.tag for e in parsed.root.iter()] == ["a", "b", "c"]


def test_namespaces_are_dropped():
    parsed = parse(b'<d:a xmlns:d="urn:x" d:v="1"><d:b>2</d:b></d:a>')
    assert parsed.root.tag == "a" and parsed.root.find("b").text == "2"
    assert parsed.root.attrib == {"v": "1"}


@pytest.mark.parametrize("data", [b"", b"   \n  "])
def test_an_empty_file_is_unreadable_and_said_so(data):
    with pytest.raises(xmlparse.UnreadableXml, match="vide"):
        parse(data)


def test_not_xml_is_unreadable():
    with pytest.raises(xmlparse.UnreadableXml, match="pas un XML lisible"):
        parse(b"%PDF-1.4 du binaire")


def test_a_truncated_file_keeps_what_was_read_and_says_where_it_stopped():
    parsed = parse(b"<a>\n<b>1</b>\n<c>2</c>\n<d>tron")
    assert "incomplet ou mal formé (ligne 4)" in parsed.cut
    assert [e.tag for e in parsed.root.iter()][:3] == ["a", "b", "c"]


def test_billion_laughs_is_refused():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>'
    )
    with pytest.raises(xmlparse.UnreadableXml, match="entités"):
        parse(bomb)


def test_an_external_entity_is_never_loaded(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("CONTENU-SECRET")
    xxe = f'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file://{secret}">]><a>&x;</a>'
    with pytest.raises(xmlparse.UnreadableXml) as caught:
        parse(xxe.encode())
    assert "CONTENU-SECRET" not in str(caught.value)


def test_an_oversized_file_is_read_up_to_the_limit(monkeypatch):
    monkeypatch.setattr(xmlparse, "MAX_BYTES", 1000)
    data = b"<a>" + b"<b>x</b>" * 1000 + b"</a>"
    parsed = parse(data)
    assert "dépasse" in parsed.cut
    assert 0 < len(parsed.root) < 130


def test_the_real_size_limit_is_ten_megabytes():
    assert xmlparse.MAX_BYTES == 10 * 1024 * 1024
    assert xmlparse.MAX_DEPTH == 50 and xmlparse.MAX_ELEMENTS == 5000


def test_a_too_deep_file_stops_at_fifty_levels():
    parsed = parse(b"<a>" * 80 + b"fond" + b"</a>" * 80 + b"<!-- -->")
    depth, node = 1, parsed.root
    while len(node):
        node, depth = node[0], depth + 1
    assert depth == xmlparse.MAX_DEPTH
    assert "plus de 50 niveaux" in parsed.cut


def test_too_many_elements_stop_at_five_thousand():
    data = b"<a>" + b"<b>x</b>" * 20_000 + b"</a>"
    parsed = parse(data)
    assert sum(1 for _ in parsed.root.iter()) == xmlparse.MAX_ELEMENTS
    assert "plus de 5000 éléments" in parsed.cut


def test_the_file_is_read_incrementally_not_whole():
    class Counting(io.BytesIO):
        read_bytes = 0

        def read(self, size=-1):
            data = super().read(size)
            Counting.read_bytes += len(data)
            return data

    source = Counting(b"<a>" + b"<b>x</b>" * 500_000 + b"</a>")  # 4 MB, 500,001 elements
    xmlparse.parse_bytes(source)
    assert Counting.read_bytes < 200_000  # stopped soon after the 5,000th element


def test_field_view_labels_dates_and_no_empty_rows():
    parsed = parse(
        b"<Demande canal_utilise='0'><DateDeNaissance>1988-06-05</DateDeNaissance>"
        b"<CodeINSEENaissance>06088</CodeINSEENaissance><Vide/><Bloc><Rien/></Bloc>"
        b"<Adresse><Voie>1 rue</Voie></Adresse><Adresse><Voie>2 rue</Voie></Adresse></Demande>"
    )
    rows = [(row.label, row.value, row.group) for row in fields.rows(parsed.root)]
    assert rows == [
        ("Demande", "", True),
        ("Canal utilisé (attribut)", "0", False),
        ("Date de naissance", "5 juin 1988", False),
        ("Code INSEE naissance", "06088", False),
        ("Demande › Adresse n°1", "", True),
        ("Voie", "1 rue", False),
        ("Demande › Adresse n°2", "", True),
        ("Voie", "2 rue", False),
    ]


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("1988-06-05", "5 juin 1988"),
        ("2025-01-01", "1er janvier 2025"),
        ("04/04/2003", "4 avril 2003"),
        ("2021-08-04T11:42:48", "4 août 2021 à 11 h 42"),
        ("2021-13-40", "2021-13-40"),
        ("ALAIN", "ALAIN"),
    ],
)
def test_french_dates(raw, shown):
    assert dates.humanize(raw) == shown


def test_codes_unknown_to_a_table_are_shown_as_written():
    assert labels.label(labels.ACT_TYPES, "NAISSANCE") == "Acte de naissance"
    assert labels.label(labels.ACT_TYPES, "ADOPTION") == "ADOPTION"
