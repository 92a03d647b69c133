"""The demo of `make run`: démarches of a fictitious commune wired to the built-in sandbox.

Kept out of the sandbox package, which imports nothing of `demarches` or `dossiers`.
"""
