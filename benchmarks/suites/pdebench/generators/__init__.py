"""Offline generators for the PDEBench families: our own NumPy/SciPy numerics, written from the specifications
in ``benchmarks.md`` §1 (never PDEBench's code), vectorised over samples, seeded, with progress bars.

``GENERATORS[family](n, nx, seed, **params)`` returns a :class:`~.base.Generated` in the family's PDEBench
layout; :func:`benchmarks.suites.pdebench.layouts.write` stores it tagged "generated offline" with
:data:`~.base.GENERATOR_VERSION`.
"""

from __future__ import annotations

from collections.abc import Callable

from .base import GENERATOR_VERSION, Generated
from .darcy import darcy
from .darcy_fno import darcy_fno
from .euler import cfd1d
from .hyperbolic import advection, burgers, reaction_diffusion
from .planar import diffusion_reaction_2d, shallow_water
from .sorption import diffusion_sorption

GENERATORS: dict[str, Callable[..., Generated]] = {
    "advection": advection,
    "burgers": burgers,
    "reaction-diffusion": reaction_diffusion,
    "diffusion-sorption": diffusion_sorption,
    "cfd1d": cfd1d,
    "darcy": darcy,
    "darcy-fno": darcy_fno,
    "shallow-water": shallow_water,
    "reaction-diffusion-2d": diffusion_reaction_2d,
}

__all__ = ["GENERATORS", "GENERATOR_VERSION", "Generated"]
