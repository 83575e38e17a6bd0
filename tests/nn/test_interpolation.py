"""Trigonometric interpolation: grid values reproduced, band-limited data exact with derivatives,
spectral convergence for smooth periodic data, and the 2D tensor-product case."""

import numpy as np
import pytest
import torch

from pdesuite.nn.interpolation import TrigonometricInterpolant


def grid(n: int, origin: float, period: float) -> np.ndarray:
    return origin + period * np.arange(n) / n


@pytest.mark.parametrize("n", [7, 8])  # odd and even (Nyquist mode)
def test_reproduces_grid_values(n):
    values = np.random.default_rng(n).normal(size=(n, 2))
    x = grid(n, -1.0, 2.0)
    interpolant = TrigonometricInterpolant(values, [-1.0], [2.0])
    out = interpolant(torch.tensor(x[:, None])).numpy()
    np.testing.assert_allclose(out, values, atol=1e-13)
    # one period later the same values again
    np.testing.assert_allclose(interpolant(torch.tensor(x[:, None] + 2.0)).numpy(), values, atol=1e-12)


def test_band_limited_data_is_exact_with_derivatives():
    n = 16
    x = grid(n, 0.0, 2 * np.pi)
    interpolant = TrigonometricInterpolant((np.sin(3 * x) + np.cos(x))[:, None], [0.0], [2 * np.pi])
    assert interpolant.n_modes == 4  # ±1, ±3: round-off modes are dropped
    points = torch.linspace(-1.0, 8.0, 37, dtype=torch.float64)[:, None].requires_grad_(True)
    u = interpolant(points)
    (u_x,) = torch.autograd.grad(u.sum(), points, create_graph=True)
    (u_xx,) = torch.autograd.grad(u_x.sum(), points)
    p = points.detach()
    torch.testing.assert_close(u.detach(), torch.sin(3 * p) + torch.cos(p), atol=1e-13, rtol=0)
    torch.testing.assert_close(u_x.detach(), 3 * torch.cos(3 * p) - torch.sin(p), atol=1e-12, rtol=0)
    torch.testing.assert_close(u_xx, -9 * torch.sin(3 * p) - torch.cos(p), atol=1e-12, rtol=0)


def off_grid_error(n: int) -> float:
    x = grid(n, 0.0, 2 * np.pi)
    interpolant = TrigonometricInterpolant(np.exp(np.sin(x))[:, None], [0.0], [2 * np.pi])
    points = torch.linspace(0.0, 2 * np.pi, 301, dtype=torch.float64)[:, None]
    return float((interpolant(points) - torch.exp(torch.sin(points))).abs().max())


@pytest.mark.parametrize("n", [8, 12, 16])
def test_spectral_convergence(n):
    """exp(sin x) is entire: 8 more points cut the error by over 100x (algebraic convergence of
    order p ≤ 4 would give at most (1 + 8/n)^4 ≈ 16x), down to round-off."""
    assert off_grid_error(n + 8) < off_grid_error(n) / 100


def test_round_off_floor_and_nyquist_mode():
    assert off_grid_error(32) < 1e-13
    # cos(4x) on 8 points is the Nyquist mode: the real part of c e^{-i4x} recovers it between the points
    x = grid(8, 0.0, 2 * np.pi)
    interpolant = TrigonometricInterpolant(np.cos(4 * x)[:, None], [0.0], [2 * np.pi])
    points = torch.linspace(0.1, 6.0, 23, dtype=torch.float64)[:, None]
    torch.testing.assert_close(interpolant(points), torch.cos(4 * points), atol=1e-13, rtol=0)


def test_dropping_round_off_modes():
    """float32-stored sin x: dropping coefficients below the storage precision leaves its two modes."""
    x = grid(64, 0.0, 2 * np.pi)
    stored = np.sin(x).astype(np.float32).astype(np.float64)[:, None]
    assert TrigonometricInterpolant(stored, [0.0], [2 * np.pi]).n_modes > 2
    coarse = TrigonometricInterpolant(stored, [0.0], [2 * np.pi], drop_below=1e-6)
    points = torch.linspace(0.0, 6.0, 31, dtype=torch.float64)[:, None]
    assert coarse.n_modes == 2
    torch.testing.assert_close(coarse(points), torch.sin(points), atol=1e-7, rtol=0)


def test_two_dimensional_box():
    nx, ny = 12, 9
    x, y = grid(nx, 0.5, 2 * np.pi), grid(ny, -1.0, 2.0)
    X, Y = np.meshgrid(x, y, indexing="ij")
    values = (np.sin(X) * np.cos(np.pi * Y))[..., None]
    interpolant = TrigonometricInterpolant(values, [0.5, -1.0], [2 * np.pi, 2.0])
    points = torch.rand(50, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 5
    expected = torch.sin(points[:, :1]) * torch.cos(np.pi * points[:, 1:])
    torch.testing.assert_close(interpolant(points), expected, atol=1e-13, rtol=0)
    assert interpolant(points.float()).dtype == torch.float32
    with pytest.raises(ValueError, match="do not match"):
        TrigonometricInterpolant(values, [0.0], [1.0])
