"""A preview worker that never finishes: the parent must kill it at the wall limit. It writes
its pid beside the source file first, so the test can check it is gone."""

import os
import sys
import time
from pathlib import Path

if __name__ == "__main__":
    source = Path(sys.argv[2])
    (source.parent / "worker.pid").write_text(str(os.getpid()))
    time.sleep(60)
