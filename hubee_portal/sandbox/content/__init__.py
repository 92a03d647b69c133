"""Fictitious but realistic télédossier files for the built-in HubEE sandbox.

The sandbox plays the OSL (the operator that deposits folders on HubEE): each deposit
carries the files a real démarche would carry, with the attachment ``type`` values of the
HubEE test kit (API.md section 10). The documents are produced here, by our own code, with
invented data only: fictitious people, generic street names, yopmail addresses and phone
numbers from the ARCEP range reserved for fiction (06 39 98 xx xx).

* XML business flows are shaped like the public samples of the "valise générique" (element
  names and nesting), written as UTF-8 with every value escaped.
* JPEG scans (``jpeg``) are drawn in flat 8×8 blocks and Huffman-coded by hand.
* PDF summaries are written by hand (PDF 1.4, standard Helvetica font with WinAnsiEncoding so
  that French accents render, line wrapping, page breaks, exact xref table).

Everything is driven by the ``random.Random`` passed in: the same seed (and the same
``submitted_at``) gives the same bytes. Nothing reads the clock.

Layout: ``people`` (fictitious people and addresses), ``xml_writer`` and ``pdf`` (the two
writers), ``shared`` (the file shape and what every démarche's files share), one module per
démarche's flux (``etat_civil``, ``recensement``, ``pacs``, ``coordonnees``, ``certdc``, and
``generic`` for any other code), and ``dispatch`` (``generate_files``). Some roles are GUESSES
(the test kit does not document them): each flux module says which.
"""

from __future__ import annotations

from .certdc import DeathCertificate, make_death_certificate_xml, make_death_declaration_xml
from .coordonnees import AddressChange, make_flux_siv_xml
from .dispatch import (
    SCAN_PROCESS_CODES,
    SUPPORTED_PROCESS_CODES,
    generate_files,
    new_external_id,
)
from .eicar import EICAR_FILE_NAME, EICAR_MIME, eicar_bytes
from .etat_civil import EtatCivilRequest, make_etat_civil_xml
from .generic import make_generic_xml
from .jpeg import identity_scan
from .pacs import PacsFile, make_pacs_xml
from .pdf import make_pdf
from .people import Address, Applicant, Commune, random_applicant
from .recensement import CensusDeclaration, make_census_xml
from .shared import GENERIC_TYPE, GeneratedFile

# Not in __all__ (as before the split), but the services and forms name them.
from .shared import PDF_MIME as PDF_MIME
from .shared import XML_MIME as XML_MIME

__all__ = [
    "EICAR_FILE_NAME",
    "EICAR_MIME",
    "eicar_bytes",
    "SCAN_PROCESS_CODES",
    "SUPPORTED_PROCESS_CODES",
    "GENERIC_TYPE",
    "Address",
    "Applicant",
    "Commune",
    "GeneratedFile",
    "generate_files",
    "identity_scan",
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
