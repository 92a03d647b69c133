"""The EICAR antivirus test file: 68 harmless bytes every antivirus reports as a virus, to see a
file blocked end to end (the sandbox's deposit form, tests/antivirus's clamd).

Assembled at run time, never written whole in the repository: a scanner reading the sources or
a clone stays quiet.
"""

from __future__ import annotations

# The file a deposit carries when asked for it (a « .com », as eicar.org names it).
EICAR_FILE_NAME = "test-antivirus-eicar.com"
EICAR_MIME = "application/octet-stream"


def eicar_bytes() -> bytes:
    return b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR" + b"-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
