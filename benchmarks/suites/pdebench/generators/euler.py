"""1D compressible Navier–Stokes (PDEBench's ``1D_CFD_Rand_Eta0.1_Zeta0.1_periodic`` family), written from the
specification in ``benchmarks.md`` §1.5 (5), vectorised over samples.

- Conserved variables ``U = (rho, rho v, E)`` with ``E = p / (gamma - 1) + rho v^2 / 2``, ``gamma = 5/3``, on
  periodic cells of (-1, 1); saved every ``dt_save`` up to ``t_end`` (101 frames).
- Inviscid part: MUSCL predictor-corrector on the primitive variables ``(rho, v, p)`` with the limited slopes of
  :func:`.fv1d.limited_slopes` (a face whose reconstructed density or pressure is not positive falls back to the
  cell values) and the HLLC Riemann solver; ``dt = cfl dx / max(c_s + |v|)`` with ``cfl = 0.3``, over all samples
  at once; pressure floor 1e-4.
- Viscous part: explicit sub-steps of ``dt_v = 0.3 * dx^2 / 2 / (4 eta / 3 + zeta)`` (shortened further when
  the density varies enough that the face-density factor needs it), with the momentum flux
  ``(4 eta / 3 + zeta) rho_face dv/dx`` and the energy flux ``(4 eta / 3 + zeta) rho_face d(v^2 / 2)/dx``. The
  density factor is what PDEBench's code does ("so that dv/dt = eta d2v/dx2"); it is not the physical stress,
  but it is what the published files contain.
- Initial conditions: PDEBench's ``init_multi_HD`` (:func:`.initial.draw_initial` with ``k_tot = 3`` and window
  probability 0.5), one independent draw each for density, pressure and velocity; density and pressure are
  scaled to [0, 1] and then to ``u m + b`` with ``m, b`` log-uniform in [1, 10] (density) and [10, 100]
  (pressure); the velocity is the raw sum of sinusoids.

Every step is conservative (face fluxes), so mass, momentum and energy are conserved to round-off on the periodic
domain (tested), and the scheme reproduces the exact solution of Sod's shock tube (tested against an exact
Riemann solver).
"""

from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

from .base import Generated, drop_non_finite
from .fv1d import limited_slopes
from .initial import cell_centres, draw_initial, normalise_unit

GAMMA = 5.0 / 3.0
P_FLOOR = 1e-4


def primitive(U: np.ndarray, gamma: float = GAMMA) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(rho, v, p)`` from conserved ``U`` (n, 3, m), with the pressure floor."""
    rho, mom, energy = U[:, 0], U[:, 1], U[:, 2]
    v = mom / rho
    p = np.maximum((gamma - 1.0) * (energy - 0.5 * rho * v**2), P_FLOOR)
    return rho, v, p


def conserved(rho: np.ndarray, v: np.ndarray, p: np.ndarray, gamma: float = GAMMA) -> np.ndarray:
    """``U`` (n, 3, m) from primitives (n, m)."""
    return np.stack([rho, rho * v, p / (gamma - 1.0) + 0.5 * rho * v**2], axis=1)


def hllc(left: tuple[np.ndarray, ...], right: tuple[np.ndarray, ...], gamma: float = GAMMA) -> np.ndarray:
    """HLLC flux (n, 3, faces) between primitive states ``(rho, v, p)`` on each side of every face (Toro, ch. 10,
    with Davis's wave-speed estimates)."""
    rl, ul, pl = left
    rr, ur, pr = right
    cl, cr = np.sqrt(gamma * pl / rl), np.sqrt(gamma * pr / rr)
    sl = np.minimum(ul - cl, ur - cr)
    sr = np.maximum(ul + cl, ur + cr)
    el = pl / (gamma - 1.0) + 0.5 * rl * ul**2
    er = pr / (gamma - 1.0) + 0.5 * rr * ur**2
    # contact speed
    sm = (pr - pl + rl * ul * (sl - ul) - rr * ur * (sr - ur)) / (rl * (sl - ul) - rr * (sr - ur))
    fl = np.stack([rl * ul, rl * ul**2 + pl, ul * (el + pl)], axis=1)
    fr = np.stack([rr * ur, rr * ur**2 + pr, ur * (er + pr)], axis=1)
    ul_c = np.stack([rl, rl * ul, el], axis=1)
    ur_c = np.stack([rr, rr * ur, er], axis=1)

    def star(r, u, p, e, s):  # the star-region state on one side: (n, 3, faces)
        factor = r * (s - u) / (s - sm)
        return np.stack([factor, factor * sm, factor * (e / r + (sm - u) * (sm + p / (r * (s - u))))], axis=1)

    fl_star = fl + sl[:, None] * (star(rl, ul, pl, el, sl) - ul_c)
    fr_star = fr + sr[:, None] * (star(rr, ur, pr, er, sr) - ur_c)
    return np.where((sl >= 0)[:, None], fl,
                    np.where((sm >= 0)[:, None], fl_star, np.where((sr > 0)[:, None], fr_star, fr)))


def _faces(U: np.ndarray, gamma: float) -> np.ndarray:
    """HLLC fluxes at the nx + 1 faces of periodic cells ``U`` (n, 3, nx), from limited primitive slopes."""
    rho, v, p = primitive(U, gamma)
    sides = []
    for q in (rho, v, p):
        g = np.concatenate([q[:, -2:], q, q[:, :2]], axis=1)  # two periodic ghosts each side: (n, nx + 4)
        slope = limited_slopes(g)  # cells -1 .. nx: (n, nx + 2)
        inner = g[:, 1:-1]
        sides.append((inner + 0.5 * slope, inner - 0.5 * slope, inner))
    # face i - 1/2 (i = 0..nx): left state = right face of cell i - 1, right state = left face of cell i
    left = [s[0][:, :-1] for s in sides]
    right = [s[1][:, 1:] for s in sides]
    bad = (left[0] <= 0) | (left[2] <= 0) | (right[0] <= 0) | (right[2] <= 0)
    if bad.any():  # first order where the reconstruction is not physical
        left = [np.where(bad, s[2][:, :-1], lv) for s, lv in zip(sides, left)]
        right = [np.where(bad, s[2][:, 1:], rv) for s, rv in zip(sides, right)]
    return hllc(tuple(left), tuple(right), gamma)


def inviscid_step(U: np.ndarray, dt: float, dx: float, gamma: float = GAMMA) -> np.ndarray:
    """One MUSCL predictor-corrector step of the Euler equations."""
    f = _faces(U, gamma)
    half = U - 0.5 * dt / dx * (f[..., 1:] - f[..., :-1])
    f = _faces(half, gamma)
    return U - dt / dx * (f[..., 1:] - f[..., :-1])


def viscous_step(U: np.ndarray, dt: float, dx: float, visc: float, gamma: float = GAMMA) -> np.ndarray:
    """One explicit viscous sub-step (conservative face fluxes, PDEBench's density factor)."""
    rho, v, _ = primitive(U, gamma)
    rho_face = 0.5 * (rho + np.roll(rho, -1, axis=1))  # face i + 1/2
    mom_flux = visc * rho_face * (np.roll(v, -1, axis=1) - v) / dx
    energy_flux = 0.5 * visc * rho_face * (np.roll(v, -1, axis=1) ** 2 - v**2) / dx
    out = U.copy()
    out[:, 1] += dt / dx * (mom_flux - np.roll(mom_flux, 1, axis=1))
    out[:, 2] += dt / dx * (energy_flux - np.roll(energy_flux, 1, axis=1))
    return out


def evolve(U0: np.ndarray, save_times: np.ndarray, dx: float, eta: float, zeta: float, gamma: float = GAMMA,
           cfl: float = 0.3, desc: str = "") -> np.ndarray:
    """Advance ``U0`` (n, 3, nx) and return the states at ``save_times`` (n, T, 3, nx); ``save_times[0] = 0``."""
    visc = 4.0 * eta / 3.0 + zeta
    frames = np.empty((U0.shape[0], len(save_times), *U0.shape[1:]))
    frames[:, 0] = U = U0
    bar = tqdm(total=len(save_times) - 1, desc=desc, leave=False, disable=not desc)
    for k in range(1, len(save_times)):
        t, t_next = save_times[k - 1], save_times[k]
        while t < t_next - 1e-12:
            rho, v, p = primitive(U, gamma)
            speed = float(np.nanmax(np.sqrt(gamma * p / rho) + np.abs(v)))
            dt = min(cfl * dx / speed, t_next - t) if np.isfinite(speed) else t_next - t
            U = inviscid_step(U, dt, dx, gamma)
            if visc > 0:
                ratio = float(np.nanmax(0.5 * (rho + np.roll(rho, -1, axis=1)) / np.minimum(rho, np.roll(rho, -1,
                                                                                                    axis=1))))
                dt_v = 0.3 * 0.5 * dx**2 / visc / max(1.0, ratio)
                n_sub = max(1, int(np.ceil(dt / dt_v - 1e-9)))
                for _ in range(n_sub):
                    U = viscous_step(U, dt / n_sub, dx, visc, gamma)
            t += dt
        frames[:, k] = U
        bar.update(1)
    bar.close()
    return frames


def _scaled(x: np.ndarray, n: int, rng: np.random.Generator, lo: float, hi: float) -> np.ndarray:
    """One ``init_multi_HD`` field scaled to [0, 1], then to ``u m + b`` with m, b log-uniform in [lo, hi]."""
    u = normalise_unit(draw_initial(x, n, rng, k_tot=3, window_probability=0.5).evaluate(x))
    m = np.exp(rng.uniform(np.log(lo), np.log(hi), size=(n, 1)))
    b = np.exp(rng.uniform(np.log(lo), np.log(hi), size=(n, 1)))
    return u * m + b


def cfd1d(n: int, nx: int, seed: int, eta: float = 0.1, zeta: float = 0.1, t_end: float = 1.0,
          dt_save: float = 0.01, progress: bool = True) -> Generated:
    """``n`` runs at ``nx`` cells of (-1, 1): ``fields`` (n, T, nx, 3) holding density, pressure and Vx."""
    x = cell_centres(nx, -1.0, 1.0)
    dx = 2.0 / nx
    t = np.round(np.arange(0, round(t_end / dt_save) + 1) * dt_save, 12)
    rng = [np.random.default_rng([seed, k]) for k in range(3)]  # density, pressure, velocity: independent keys
    rho0 = _scaled(x, n, rng[0], 1.0, 10.0)
    p0 = _scaled(x, n, rng[1], 10.0, 100.0)
    v0 = draw_initial(x, n, rng[2], k_tot=3, window_probability=0.5).evaluate(x)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        frames = evolve(conserved(rho0, v0, p0), t, dx, eta, zeta, desc="cfd1d" if progress else "")
        rho, v, p = primitive(frames.reshape(-1, 3, nx))  # (n*T, nx) each
    fields = np.stack([rho, p, v], axis=-1).reshape(n, len(t), nx, 3)  # channels: density, pressure, Vx
    fields, _, dropped = drop_non_finite(fields)
    return Generated("cfd", fields.astype(np.float32), x, t,
                     attrs={"eta": eta, "zeta": zeta, "gamma": GAMMA, "scheme": "MUSCL-PC + HLLC, viscous sub-steps",
                            "fields": "density,pressure,Vx"}, dropped=dropped)
