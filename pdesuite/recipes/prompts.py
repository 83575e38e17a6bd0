"""Sentences that describe a simulated sample, for text-conditioned surrogates (Text2PDE).

Each prompt is written from the sample's own parameters and from simple quantities measured on its
solution, in one of several phrasings drawn from the sample's generator (after every physical draw,
so the fields stay what they were), so a model cannot key on one template:

* smoke: the buoyancy b_y (and whether it is weak, moderate or strong within the dataset's range),
  where the smoke starts (the densest blob of the initial smoke, in ninths of the box: "bottom left" …
  "centre" … "top right") and where it goes (the densest blob's rise and sideways drift between the
  initial smoke and the last frame);
* cylinder flow: the Reynolds number, the peak inflow speed, and whether vortices are shed (the lift
  coefficient oscillates with an amplitude above ``SHEDDING_LIFT``).

Prompts are deterministic given the generator, so a regenerated file has the same ones.
"""

from __future__ import annotations

import numpy as np

#: Lift-coefficient half amplitude above which a cylinder sample counts as shedding vortices.
SHEDDING_LIFT = 0.02

ROWS = ("bottom", "middle", "top")
COLUMNS = ("left", "centre", "right")


def region(fx: float, fy: float) -> str:
    """The ninth of the box a point lies in ("bottom left" … "centre" … "top right"), from its
    fractional coordinates in [0, 1]²."""
    row, column = ROWS[min(2, max(0, int(fy * 3)))], COLUMNS[min(2, max(0, int(fx * 3)))]
    return "centre" if (row, column) == ("middle", "centre") else f"{row} {column}"


def densest_point(density: np.ndarray, x: np.ndarray, y: np.ndarray, blur: float = 2.0) -> tuple[float, float]:
    """(x, y) of the maximum of ``density`` (n_x, n_y) on cell centres ``x``, ``y`` after a Gaussian blur
    of ``blur`` cells: where the thickest smoke is. (Noise smoke fills the whole box, so its centroid
    sits at the centre whatever the sample; its densest blob does not.)"""
    from scipy.ndimage import gaussian_filter

    smooth = gaussian_filter(np.asarray(density, dtype=float), blur, mode="nearest")
    i, j = np.unravel_index(int(np.argmax(smooth)), smooth.shape)
    return float(x[i]), float(y[j])


def smoke_descriptors(initial: np.ndarray, final: np.ndarray, x: np.ndarray, y: np.ndarray,
                      size: float) -> dict:
    """Where the smoke starts and how its centroid moves: fractions of the box side ``size``."""
    x0, y0 = densest_point(initial, x, y)
    x1, y1 = densest_point(final, x, y)
    return {"start": region(x0 / size, y0 / size), "rise": (y1 - y0) / size, "drift": (x1 - x0) / size,
            "start_x": x0 / size, "start_y": y0 / size}


def strength(value: float, low: float, high: float) -> str:
    """"weak", "moderate" or "strong": the third of [low, high] that ``value`` falls in."""
    if high <= low:
        return "moderate"
    third = (value - low) / (high - low)
    return "weak" if third < 1 / 3 else "strong" if third > 2 / 3 else "moderate"


def _motion(rise: float, drift: float) -> str:
    """"straight up", "up and to the left", ...: the centroid's path (fractions of the box)."""
    if abs(drift) < 0.05:
        return "straight up" if rise > 0 else "hardly at all"
    side = "right" if drift > 0 else "left"
    return f"up and to the {side}" if rise > 0 else f"to the {side}"


def smoke_prompt(buoyancy: float, descriptors: dict, buoyancy_range: tuple[float, float],
                 rng: np.random.Generator) -> str:
    """One sentence about a smoke sample (see the module docstring)."""
    d = descriptors
    kind = strength(buoyancy, *buoyancy_range)
    motion = _motion(d["rise"], d["drift"])
    rise = f"{100 * max(d['rise'], 0.0):.0f}% of the box height"
    templates = (
        f"Smoke released in the {d['start']} of a closed box rises {motion} under a buoyancy of {buoyancy:.2f}.",
        f"A {kind} buoyancy force (b_y = {buoyancy:.2f}) lifts a smoke cloud from the {d['start']} of the box by "
        f"about {rise}.",
        f"Buoyant smoke starting near the {d['start']} drifts {motion}; buoyancy {buoyancy:.2f}, closed walls.",
        f"In a sealed square box, smoke from the {d['start']} region climbs {rise}, pushed by {kind} buoyancy "
        f"({buoyancy:.2f}).",
        f"Simulation of {kind}ly buoyant smoke (b = {buoyancy:.2f}) that begins in the {d['start']} and moves "
        f"{motion}.",
    )
    return templates[int(rng.integers(len(templates)))]


def shedding(lift: np.ndarray) -> bool:
    """Whether the lift coefficient oscillates (half amplitude > ``SHEDDING_LIFT``): vortex shedding."""
    lift = np.asarray(lift, dtype=float)
    return bool(lift.size > 1 and 0.5 * (lift.max() - lift.min()) > SHEDDING_LIFT)


def cylinder_prompt(reynolds: float, max_inflow: float, lift: np.ndarray, rng: np.random.Generator) -> str:
    """One sentence about a cylinder-flow sample (see the module docstring)."""
    sheds = shedding(lift)
    wake = "a vortex street forms behind the cylinder" if sheds else "the wake stays steady, without shedding"
    regime = "An unsteady" if sheds else "A steady"
    templates = (
        f"Channel flow past a cylinder at Reynolds number {reynolds:.0f}; {wake}.",
        f"Fluid enters a channel at up to {max_inflow:.3f} m/s and flows around a circular obstacle (Re = "
        f"{reynolds:.0f}): {wake}.",
        f"{regime} cylinder wake at Re {reynolds:.0f} with peak inflow speed {max_inflow:.3f} m/s.",
        f"Flow around a cylinder in a narrow channel, Reynolds {reynolds:.0f}, "
        f"{'with' if sheds else 'without'} periodic vortex shedding.",
    )
    return templates[int(rng.integers(len(templates)))]
