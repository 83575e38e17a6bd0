"""Mesh of the DFG cylinder benchmark channel [0, 2.2] × [0, 0.41] minus the disc r = 0.05 at (0.2, 0.2).

    python meshes/dfg_channel.py --h 0.01 --h-max 0.04 -o meshes/out/dfg

writes meshes/out/dfg.msh (gmsh, physical groups inlet/outlet/walls/cylinder) and
meshes/out/dfg.xdmf (+ .h5, with facet tags). ``--h`` is the cell size on the cylinder.
"""

from __future__ import annotations

from _common import fail, finish, output_paths, parser


def main(argv=None) -> None:
    p = parser(__doc__.splitlines()[0], "meshes/out/dfg_channel", 0.01)
    p.add_argument("--h-max", type=float, default=0.04, help="largest cell size, away from the cylinder")
    p.add_argument("--grading", type=float, default=0.15,
                   help="size growth per unit distance from the cylinder")
    args = p.parse_args(argv)
    from mpi4py import MPI  # noqa: F401 - before dolfinx

    from pdesuite.errors import BadInput
    from pdesuite.solvers.fem.unstructured import dfg_channel

    msh, xdmf = output_paths(args.output)
    try:
        domain = dfg_channel(args.h, args.h_max, msh_path=msh, grading=args.grading)
    except BadInput as exc:
        fail(exc)
    finish(domain, msh, xdmf)


if __name__ == "__main__":
    main()
