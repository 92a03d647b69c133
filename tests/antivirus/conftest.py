"""A real clamd for the antivirus tests (tools/bench/clamd.py, which the ingest benchmark
shares): started once per test process (xdist worker) with only test signatures, so that it is
up in well under a second.

Its database holds `.hdb` lines made by `sigtool --md5`: one from the EICAR test file, assembled
at run time by the sandbox (never committed whole: a scanner reading the repository stays
quiet), one from a readable PDF (a file agents could preview before the signatures knew it). No
`User` line: it runs as whoever runs the tests (root in CI). Under CI=true a missing clamd fails
the run; elsewhere the tests say how to install it and skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hubee_portal.sandbox.content import eicar_bytes, make_pdf
from tests.dossiers.conftest import Hubee, hubee, pdf_bytes  # noqa: F401  (fixtures)
from tools.bench import clamd as local_clamd

EICAR = eicar_bytes()
SIGNATURE = "Eicar-Test-Signature"
# A real PDF, which the portal can preview, known bad to this clamd only.
HOSTILE_PDF = make_pdf("Facture", ["Montant dû : 1 200 €", "À régler sous huit jours."])
HOSTILE_SIGNATURE = "Hubee-Test-Hostile-PDF"
# Small limits, so a test file goes over them quickly (MaxFileSize and MaxScanSize stay under
# StreamMaxLength: AlertExceedsMax reports those as Heuristics.Limits.Exceeded.*).
STREAM_MAX = 1024 * 1024
FILE_MAX = 512 * 1024


@pytest.fixture(scope="session")
def clamd(tmp_path_factory):
    if not local_clamd.available():
        if os.environ.get("CI") == "true":
            pytest.fail(local_clamd.INSTALL_HINT)
        pytest.skip(local_clamd.INSTALL_HINT)
    # A short folder: a UNIX socket path is limited to about 100 bytes.
    server = local_clamd.LocalClamd(
        Path(tmp_path_factory.mktemp("clamd", numbered=True)),
        {SIGNATURE: EICAR, HOSTILE_SIGNATURE: HOSTILE_PDF},
        stream_max=STREAM_MAX,
        file_max=FILE_MAX,
    )
    try:
        server.start()
    except local_clamd.ClamdError as exc:
        pytest.fail(str(exc))
    yield server
    server.stop()


@pytest.fixture
def antivirus(clamd, settings, tmp_path):
    """The portal scanning with the test clamd, its quarantine in the test's folder."""
    if clamd.process is None:
        clamd.start()  # a test stopped it and failed before starting it again
    settings.ANTIVIRUS = "clamd"
    settings.CLAMD_SOCKET = clamd.socket
    settings.HUBEE_QUARANTINE_DIR = tmp_path / "quarantaine"
    return clamd
