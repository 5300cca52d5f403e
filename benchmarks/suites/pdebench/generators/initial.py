"""PDEBench's shared 1D initial-condition sampler (``init_multi``), written from the specification in
``benchmarks.md`` §1.4, vectorised over samples.

Each sample is a sum of ``k_tot`` sinusoids whose wavenumbers come from two integer draws, then optionally made
non-negative, sign-flipped and windowed by a smooth box. The draws are kept in :class:`InitialDraws` so that the
same function can be evaluated at shifted coordinates (the exact advection solution).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class InitialDraws:
    """The random draws of ``n`` initial conditions; arrays have a leading sample axis."""

    wavenumbers: np.ndarray  # (n, k_tot)
    amplitudes: np.ndarray  # (n, k_tot)
    phases: np.ndarray  # (n, k_tot)
    absolute: np.ndarray  # (n,) bool
    sign: np.ndarray  # (n,) +-1
    windowed: np.ndarray  # (n,) bool
    window: np.ndarray  # (n, 2): x_a, x_b

    def evaluate(self, x: np.ndarray) -> np.ndarray:
        """The initial functions at coordinates ``x`` of shape (nx,) or (n, nx); returns (n, nx)."""
        x = np.broadcast_to(x, (len(self.sign), np.shape(x)[-1]))
        # (n, nx, 1) * (n, 1, k) -> (n, nx, k), summed over modes
        u = np.sum(self.amplitudes[:, None, :] * np.sin(self.wavenumbers[:, None, :] * x[:, :, None]
                                                        + self.phases[:, None, :]), axis=-1)
        u = np.where(self.absolute[:, None], np.abs(u), u)
        u = u * self.sign[:, None]
        box = 0.5 * (np.tanh((x - self.window[:, :1]) / 0.01) - np.tanh((x - self.window[:, 1:]) / 0.01))
        return np.where(self.windowed[:, None], u * box, u)


def draw_initial(x: np.ndarray, n: int, rng: np.random.Generator, k_tot: int = 4,
                 window_probability: float = 0.1) -> InitialDraws:
    """Draw ``n`` initial conditions on cell centres ``x`` (PDEBench's ``init_multi``).

    Parameters
    ----------
    x : ndarray, shape (nx,)
        Cell centres; the wavenumber denominator is ``x[-1] - x[0]`` (= L - dx), as in PDEBench.
    n : int
        Number of samples.
    rng : numpy Generator
        Source of randomness (independent draws: the marginals of PDEBench's JAX sampler, not its joint law).
    k_tot : int
        Number of sinusoids (4 for advection, Burgers and reaction-diffusion; 3 for compressible flow).
    window_probability : float
        Probability of multiplying by the smooth box (0.1; 0.5 for compressible flow).
    """
    # two mode indices in {0..k_tot-1} with replacement -> a count in {0,1,2} for each n = 1..k_tot
    picks = rng.integers(0, k_tot, size=(n, 2))
    counts = (picks[:, :, None] == np.arange(k_tot)[None, None, :]).sum(axis=1)  # (n, k_tot)
    modes = np.arange(1, k_tot + 1)[None, :] * counts
    wavenumbers = 2.0 * np.pi * modes / (x[-1] - x[0])
    return InitialDraws(
        wavenumbers=wavenumbers,
        amplitudes=rng.uniform(0.0, 1.0, size=(n, k_tot)),
        phases=rng.uniform(0.0, 2.0 * np.pi, size=(n, k_tot)),
        absolute=rng.uniform(size=n) < 0.1,
        sign=rng.choice([-1.0, 1.0], size=n),
        windowed=rng.uniform(size=n) < window_probability,
        window=np.stack([rng.uniform(0.1, 0.45, size=n), rng.uniform(0.55, 0.9, size=n)], axis=1),
    )


def normalise_unit(u: np.ndarray) -> np.ndarray:
    """Reaction-diffusion's ``if_norm``: (u - min) / max(u - min) per sample, in [0, 1]."""
    shifted = u - u.min(axis=-1, keepdims=True)
    top = shifted.max(axis=-1, keepdims=True)
    return shifted / np.where(top > 0, top, 1.0)


def cell_centres(n_cells: int, lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
    """Centres of ``n_cells`` equal cells on (lo, hi)."""
    dx = (hi - lo) / n_cells
    return lo + dx * (np.arange(n_cells) + 0.5)
