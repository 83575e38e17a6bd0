"""Shared test helpers."""

from __future__ import annotations

import pytest


@pytest.fixture
def cli(capsys):
    """Run `pdesuite ARGS` in-process; returns (exit status, stdout, stderr)."""
    from pdesuite.cli import main

    def run(*args):
        code = main([str(a) for a in args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run
