"""Sizes the French way: « 12 octets », « 850 Ko », « 1,2 Mo » (Ko = 1 024 octets)."""

import pytest
from django.template import Context, Template

from dossiers.web.formats import file_size

NB = "\u00a0"  # non-breaking space before the unit (and between thousands)
KO, MO, GO = 1024, 1024**2, 1024**3


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (0, f"0{NB}octet"),  # French: 0 and 1 are singular
        (1, f"1{NB}octet"),
        (2, f"2{NB}octets"),
        (12, f"12{NB}octets"),
        (999, f"999{NB}octets"),
        (1000, f"1{NB}000{NB}octets"),
        (1023, f"1{NB}023{NB}octets"),
        (1024, f"1{NB}Ko"),
        (1536, f"1,5{NB}Ko"),
        (850 * KO, f"850{NB}Ko"),
        (1_000_000, f"977{NB}Ko"),
        (MO - 1, f"1{NB}Mo"),  # rounds to 1 024 Ko: said in the next unit
        (MO, f"1{NB}Mo"),
        (int(1.2 * MO), f"1,2{NB}Mo"),
        (int(9.96 * MO), f"10{NB}Mo"),
        (int(12.5 * MO), f"13{NB}Mo"),  # half up, not to even
        (100 * MO, f"100{NB}Mo"),
        (GO, f"1{NB}Go"),
        (int(2.25 * GO), f"2,3{NB}Go"),
        (3 * 1024**4, f"3{NB}To"),
    ],
)
def test_sizes(size, expected):
    assert file_size(size) == expected


@pytest.mark.parametrize("size", [None, "", "abc", -1])
def test_an_unknown_size_is_a_dash(size):
    assert file_size(size) == "—"


def test_the_template_filter():
    template = Template("{% load portal %}{{ size|file_size }}")
    assert template.render(Context({"size": int(1.2 * MO)})) == f"1,2{NB}Mo"
    assert template.render(Context({"size": None})) == "—"
