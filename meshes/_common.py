"""Shared command-line plumbing of the geometry scripts in this folder."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def output_paths(output: str) -> tuple[Path, Path]:
    """``-o out/dfg`` (or ``out/dfg.msh`` / ``out/dfg.xdmf``) -> (out/dfg.msh, out/dfg.xdmf)."""
    path = Path(output)
    stem = path.with_suffix("") if path.suffix in (".msh", ".xdmf") else path
    stem.parent.mkdir(parents=True, exist_ok=True)
    return stem.with_suffix(".msh"), stem.with_suffix(".xdmf")


def parser(description: str, default_output: str, default_h: float) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--h", type=float, default=default_h, help=f"target cell size (default {default_h})")
    p.add_argument("-o", "--output", default=default_output,
                   help="output path without suffix; .msh and .xdmf (+ .h5) are written "
                        f"(default {default_output})")
    return p


def fail(exc: Exception) -> None:
    """Invalid arguments: one line on stderr, exit status 2 (as the pdesuite CLI does)."""
    print(f"error: {exc}", file=sys.stderr)
    sys.exit(2)


def finish(domain, msh: Path, xdmf: Path) -> None:
    """Write the XDMF copy and print a one-line summary with the mesh's provenance."""
    from pdesuite.errors import BadInput
    from pdesuite.solvers.fem.mesh import write_mesh

    try:
        write_mesh(domain, xdmf)
    except BadInput as exc:
        fail(exc)
    if domain.comm.rank == 0:
        print(f"wrote {msh} and {xdmf}: {domain.num_cells} cells, {domain.num_vertices} vertices, "
              f"markers {domain.markers}")
        print(json.dumps(domain.description))
