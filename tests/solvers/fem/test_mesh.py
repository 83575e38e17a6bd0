"""Structured meshes, XDMF round trip, solution export and point evaluation."""

import numpy as np
import pytest

fem = pytest.importorskip("pdesuite.solvers.fem", reason="needs dolfinx")
from pdesuite.errors import BadInput  # noqa: E402
from pdesuite.problems import NUMPY, Poisson  # noqa: E402


@pytest.mark.parametrize("cell,cells_per_square", [("triangle", 2), ("quadrilateral", 1)])
def test_structured_meshes(cell, cells_per_square):
    domain = fem.rectangle((0.0, -1.0), (2.0, 1.0), (6, 4), cell)
    assert domain.num_cells == 24 * cells_per_square and domain.num_vertices == 7 * 5
    x = domain.mesh.geometry.x
    assert x[:, 0].min() == 0.0 and x[:, 0].max() == 2.0 and x[:, 1].min() == -1.0
    assert domain.hmax() == pytest.approx(np.hypot(2 / 6, 2 / 4))  # the cells' diagonal


@pytest.mark.parametrize("bad", [
    lambda: fem.unit_square(0), lambda: fem.unit_square(2.5), lambda: fem.unit_square(4, "hexagon"),
    lambda: fem.rectangle((1, 0), (0, 1), (4, 4)), lambda: fem.read_mesh("/nonexistent.msh"),
])
def test_bad_mesh_input(bad):
    with pytest.raises(BadInput):
        bad()


def test_xdmf_round_trip_keeps_tags_and_markers(tmp_path):
    domain = fem.unstructured_rectangle(0.2)
    path = fem.write_mesh(domain, tmp_path / "rect.xdmf")
    again = fem.read_mesh(path)
    assert again.num_vertices == domain.num_vertices and again.num_cells == domain.num_cells
    assert again.markers == domain.markers and set(again.markers) == {"left", "right", "bottom", "top"}
    for name in again.markers:
        assert again.boundary_facets(name).size == domain.boundary_facets(name).size > 0
    with pytest.raises(BadInput, match="no boundary part"):
        again.boundary_facets("inlet")


def test_export_and_eval(tmp_path):
    exact = lambda x, m: 1 + x[0] ** 2 + 2 * x[1] ** 2  # noqa: E731 - P2 reproduces it exactly
    u = fem.PoissonSolver(Poisson(exact=exact), fem.unit_square(4), degree=2).solve()
    points = np.array([[0.1, 0.2], [0.5, 0.5], [0.93, 0.77], [1.0, 1.0], [1.5, 0.5]])
    values = u.eval(points)[:, 0]
    np.testing.assert_allclose(values[:4], 1 + points[:4, 0] ** 2 + 2 * points[:4, 1] ** 2, rtol=1e-12)
    assert np.isnan(values[4])  # outside the mesh
    arrays = u.to_arrays()
    np.testing.assert_allclose(arrays["values"][:, 0], exact(arrays["points"].T, NUMPY), rtol=1e-12)
    path = u.export_xdmf(tmp_path / "u.xdmf")
    assert path.exists() and path.with_suffix(".h5").exists() and "Attribute" in path.read_text()
