"""The 1D compressible Navier–Stokes generator: Sod's shock tube against an exact Riemann solver (written here,
independently of the scheme), first-order convergence through the shock, exact conservation on the periodic
domain with viscosity, and the generated family in PDEBench's CFD layout."""

from __future__ import annotations

import numpy as np

from benchmarks.suites.pdebench.generators.euler import cfd1d, conserved, evolve, primitive

GAMMA = 1.4  # Sod's classic test uses air


def _exact_riemann(x: np.ndarray, t: float, left: tuple, right: tuple, gamma: float = GAMMA) -> tuple:
    """Exact solution (Toro, ch. 4) of the Riemann problem with the interface at x = 0: (rho, v, p) at x / t."""
    rl, ul, pl = left
    rr, ur, pr = right
    cl, cr = np.sqrt(gamma * pl / rl), np.sqrt(gamma * pr / rr)

    def f(p, r, pk, ck):  # pressure function of one side and its derivative
        if p > pk:
            a, b = 2 / ((gamma + 1) * r), (gamma - 1) / (gamma + 1) * pk
            return (p - pk) * np.sqrt(a / (p + b)), np.sqrt(a / (p + b)) * (1 - (p - pk) / (2 * (b + p)))
        ratio = p / pk
        return (2 * ck / (gamma - 1) * (ratio ** ((gamma - 1) / (2 * gamma)) - 1),
                ratio ** (-(gamma + 1) / (2 * gamma)) / (r * ck))

    p = 0.5 * (pl + pr)
    for _ in range(100):  # Newton on f_L(p) + f_R(p) + (u_R - u_L) = 0
        fl, dl = f(p, rl, pl, cl)
        fr, dr = f(p, rr, pr, cr)
        step = (fl + fr + ur - ul) / (dl + dr)
        p = max(p - step, 1e-12)
        if abs(step) < 1e-14 * p:
            break
    u = 0.5 * (ul + ur) + 0.5 * (f(p, rr, pr, cr)[0] - f(p, rl, pl, cl)[0])
    s = x / t
    rho, vel, pres = np.empty_like(x), np.empty_like(x), np.empty_like(x)
    for i, si in enumerate(s):
        if si <= u:  # left of the contact
            r, uk, pk, ck, sign = rl, ul, pl, cl, -1
        else:
            r, uk, pk, ck, sign = rr, ur, pr, cr, 1
        if p > pk:  # shock
            shock = uk + sign * ck * np.sqrt((gamma + 1) / (2 * gamma) * p / pk + (gamma - 1) / (2 * gamma))
            inside = si < shock if sign > 0 else si > shock
            star = r * (p / pk + (gamma - 1) / (gamma + 1)) / ((gamma - 1) / (gamma + 1) * p / pk + 1)
            rho[i], vel[i], pres[i] = (star, u, p) if inside else (r, uk, pk)
        else:  # rarefaction
            star = r * (p / pk) ** (1 / gamma)
            c_star = ck * (p / pk) ** ((gamma - 1) / (2 * gamma))
            head, tail = uk + sign * ck, u + sign * c_star
            if (sign < 0 and si <= head) or (sign > 0 and si >= head):
                rho[i], vel[i], pres[i] = r, uk, pk
            elif (sign < 0 and si >= tail) or (sign > 0 and si <= tail):
                rho[i], vel[i], pres[i] = star, u, p
            else:  # inside the fan
                vel[i] = 2 / (gamma + 1) * (-sign * ck + (gamma - 1) / 2 * uk + si)
                c = -sign * (vel[i] - si)
                rho[i] = r * (c / ck) ** (2 / (gamma - 1))
                pres[i] = pk * (c / ck) ** (2 * gamma / (gamma - 1))
    return rho, vel, pres


def _sod(nx: int, t: float) -> tuple:
    """Sod's problem on the periodic (-1, 1) (a second, mirrored interface at +-1 stays out of the window)."""
    x = -1 + (np.arange(nx) + 0.5) * 2 / nx
    inside = np.abs(x) < 0.5
    rho = np.where(x < 0, 1.0, 0.125)
    p = np.where(x < 0, 1.0, 0.1)
    U0 = conserved(rho[None], np.zeros((1, nx)), p[None], GAMMA)
    out = evolve(U0, np.array([0.0, t]), 2 / nx, eta=0.0, zeta=0.0, gamma=GAMMA)[:, -1]
    got = primitive(out, GAMMA)
    exact = _exact_riemann(x, t, (1.0, 0.0, 1.0), (0.125, 0.0, 0.1))
    return [np.mean(np.abs(g[0][inside] - e[inside])) for g, e in zip(got, exact)]


def test_sod_shock_tube_matches_the_exact_riemann_solution_and_converges() -> None:
    coarse = _sod(200, 0.2)
    fine = _sod(800, 0.2)
    assert max(fine) < 0.01, fine  # L1 error over |x| < 0.5 of density, velocity and pressure
    assert all(f < 0.55 * c for f, c in zip(fine, coarse)), (coarse, fine)  # four times the cells: error at least
    # halved (first order through the shock and the contact, as any shock-capturing scheme)


def test_mass_momentum_and_energy_are_conserved_with_viscosity() -> None:
    rng = np.random.default_rng(0)
    nx = 128
    x = -1 + (np.arange(nx) + 0.5) * 2 / nx
    rho = 2 + np.sin(np.pi * x)[None] + 0.1 * rng.random((3, nx))
    v = np.cos(2 * np.pi * x)[None] * np.ones((3, 1))
    p = 20 + 5 * np.cos(np.pi * x)[None] * np.ones((3, 1))
    U0 = conserved(rho, v, p)
    out = evolve(U0, np.array([0.0, 0.05, 0.1]), 2 / nx, eta=0.1, zeta=0.1)
    totals = out.sum(axis=-1)  # (n, T, 3)
    np.testing.assert_allclose(totals[:, -1], totals[:, 0], rtol=1e-12)
    # the viscosity acts: a run without it keeps more kinetic energy
    inviscid = evolve(U0, np.array([0.0, 0.1]), 2 / nx, eta=0.0, zeta=0.0)
    kinetic = lambda U: 0.5 * (U[:, 1] ** 2 / U[:, 0]).sum()  # noqa: E731
    assert kinetic(out[:, -1]) < kinetic(inviscid[:, -1])


def test_generated_family_has_the_cfd_layout_and_physical_states(tmp_path) -> None:
    from benchmarks.suites.pdebench import layouts

    gen = cfd1d(4, 64, seed=0, t_end=0.05, dt_save=0.01, progress=False)
    assert gen.layout == "cfd" and gen.fields.shape == (4, 6, 64, 3)
    rho, p = gen.fields[..., 0], gen.fields[..., 1]
    assert (rho > 0).all() and (p > 0).all()
    assert 1 <= rho[:, 0].min() and rho[:, 0].max() <= 20 and 10 <= p[:, 0].min() and p[:, 0].max() <= 200
    path = layouts.write(tmp_path / "cfd.h5", gen, {"orca_source": "generated offline"})
    info = layouts.inspect(path)
    assert (info.layout, info.n_samples, info.spatial, info.channels) == ("cfd", 4, (64,), 3)
    X, y = layouts.read_pairs(path, np.arange(4), input_time=0.0, target_time=0.05, resolution=64)
    assert X.shape == y.shape == (4, 3, 64)
    np.testing.assert_allclose(X[:, 0], rho[:, 0], rtol=1e-6)  # channel order: density, pressure, Vx
    np.testing.assert_allclose(y[:, 1], p[:, -1], rtol=1e-6)  # the target: the pressure of the last saved step
    np.testing.assert_allclose(y[:, 2], gen.fields[:, -1, :, 2], rtol=1e-6)
