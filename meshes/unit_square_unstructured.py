"""Unstructured triangle mesh of the unit square [0, 1]² (or a rectangle) made with gmsh.

    python meshes/unit_square_unstructured.py --h 0.05 -o meshes/out/square

writes meshes/out/square.msh (physical groups left/right/bottom/top) and meshes/out/square.xdmf.
"""

from __future__ import annotations

from _common import fail, finish, output_paths, parser


def main(argv=None) -> None:
    p = parser(__doc__.splitlines()[0], "meshes/out/unit_square", 0.05)
    p.add_argument("--width", type=float, default=1.0, help="x-extent (default 1)")
    p.add_argument("--height", type=float, default=1.0, help="y-extent (default 1)")
    args = p.parse_args(argv)
    from mpi4py import MPI  # noqa: F401 - before dolfinx

    from pdesuite.errors import BadInput
    from pdesuite.solvers.fem.unstructured import unstructured_rectangle

    msh, xdmf = output_paths(args.output)
    try:
        domain = unstructured_rectangle(args.h, (0.0, 0.0), (args.width, args.height), msh_path=msh)
    except BadInput as exc:
        fail(exc)
    finish(domain, msh, xdmf)


if __name__ == "__main__":
    main()
