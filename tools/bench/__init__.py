"""Benchmarks of the portal (ingest, memory, pages), run against the sandbox in throw-away
installs; installed as a Django app only with the sandbox (HUBEE_SANDBOX)."""
