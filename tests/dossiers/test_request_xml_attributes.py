"""Review finding: the XML limits count elements, never attributes. One element may carry
hundreds of thousands of attributes within the 10 MB cap: each becomes a row of the field view
shown on the dossier page (measured: a 9.8 MB file of 900,000 attributes costs ~15 s and
~280 MB to parse and list, then ~27 s and 56 MB of HTML to render)."""

from __future__ import annotations

import io

from dossiers.web.request import fields, xmlparse


def test_attributes_are_bounded_like_elements():
    count = 20_000  # 240 kB of XML, far under MAX_BYTES
    attributes = " ".join(f'a{i:x}="1"' for i in range(count))
    parsed = xmlparse.parse_bytes(io.BytesIO(f"<Racine {attributes}/>".encode()))
    rows = fields.rows(parsed.root)
    assert len(rows) <= xmlparse.MAX_ELEMENTS, (len(rows), parsed.cut)
