"""Each offline PDE generator against what its equation guarantees: exact solutions, conservation, convergence
under refinement, boundary conditions, the discrete equation."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("scipy")

from benchmarks.suites.pdebench.generators import GENERATORS  # noqa: E402
from benchmarks.suites.pdebench.generators.darcy import darcy, darcy_residual, solve_darcy  # noqa: E402
from benchmarks.suites.pdebench.generators.fv1d import burgers_flux, heat_step, integrate, muscl_pc_step  # noqa: E402
from benchmarks.suites.pdebench.generators.hyperbolic import (  # noqa: E402
    advection,
    advection_exact,
    burgers,
    logistic_step,
    reaction_diffusion,
)
from benchmarks.suites.pdebench.generators.initial import cell_centres, draw_initial, normalise_unit  # noqa: E402
from benchmarks.suites.pdebench.generators.sorption import CONSTANTS, diffusion_sorption, sorption_rhs  # noqa: E402


def test_initial_sampler_marginals() -> None:
    x = cell_centres(256)
    draws = draw_initial(x, 4000, np.random.default_rng(0))
    u = draws.evaluate(x)
    assert u.shape == (4000, 256) and np.isfinite(u).all()
    assert abs(draws.absolute.mean() - 0.1) < 0.02 and abs(draws.windowed.mean() - 0.1) < 0.02
    assert abs((draws.sign > 0).mean() - 0.5) < 0.03
    modes = draws.wavenumbers * (x[-1] - x[0]) / (2 * np.pi)  # n * s_n with s_n in {0, 1, 2}, two picks in all
    counts = modes / np.arange(1, 5)
    assert np.allclose(counts.sum(axis=1), 2) and set(np.unique(np.rint(counts))) <= {0, 1, 2}
    assert (u[draws.absolute & (draws.sign > 0)] >= 0).all()
    v = normalise_unit(u)
    assert np.allclose(v.min(axis=1), 0) and np.allclose(v.max(axis=1)[np.ptp(u, axis=1) > 0], 1)


def _smooth_periodic(nx: int) -> tuple[np.ndarray, np.ndarray]:
    x = cell_centres(nx)
    return x, np.sin(2 * np.pi * x)[None] + 0.5 * np.cos(4 * np.pi * x)[None]


@pytest.mark.parametrize("beta", [0.4, -1.0])
def test_advection_matches_the_exact_shift_and_converges(beta: float) -> None:
    errors = []
    for nx in (64, 128, 256):
        x, u0 = _smooth_periodic(nx)
        dx = 1.0 / nx
        from benchmarks.suites.pdebench.generators.fv1d import advection_flux

        flux = advection_flux(beta)
        frames = integrate(u0, np.array([0.0, 1.0]), lambda u: 0.4 * dx / abs(beta),
                           lambda u, dt: muscl_pc_step(u, dt, dx, flux))
        exact = np.sin(2 * np.pi * (x - beta)) + 0.5 * np.cos(4 * np.pi * (x - beta))
        errors.append(np.sqrt(np.mean((frames[0, -1] - exact) ** 2)))
    assert errors[-1] < 0.02
    assert errors[0] / errors[1] > 2.5 and errors[1] / errors[2] > 2.5  # better than first order


def test_advection_generator_against_the_exact_generator() -> None:
    num = advection(50, 512, seed=3, progress=False)
    ex = advection_exact(50, 512, seed=3)
    assert num.fields.shape == ex.fields.shape == (50, 201, 512)
    assert np.allclose(num.fields[:, 0], ex.fields[:, 0], atol=1e-6)  # same draws
    rel = np.linalg.norm(num.fields[:, -1] - ex.fields[:, -1]) / np.linalg.norm(ex.fields[:, -1])
    assert rel < 0.05, rel  # the initial data's windows and boundary jumps are not smooth: a few percent
    assert num.attrs["beta"] == 0.4 and num.dropped == 0


def test_burgers_conserves_mass_and_converges() -> None:
    g = burgers(20, 128, seed=1, t_end=0.2, dt_save=0.05, progress=False)
    mass = g.fields.astype(np.float64).sum(axis=2) / 128
    assert np.allclose(mass, mass[:, :1], atol=1e-5)
    assert np.abs(g.fields[:, -1]).max() <= np.abs(g.fields[:, 0]).max() + 1e-6  # no new extrema

    def final(nx: int) -> np.ndarray:
        x, u0 = _smooth_periodic(nx)
        dx, kappa = 1.0 / nx, 0.01 / np.pi

        def step(u: np.ndarray, dt: float) -> np.ndarray:
            u = heat_step(u, 0.5 * kappa * dt, dx)
            return heat_step(muscl_pc_step(u, dt, dx, burgers_flux), 0.5 * kappa * dt, dx)

        out = integrate(u0, np.array([0.0, 0.1]), lambda u: 0.4 * dx / np.abs(u).max(), step)[0, -1]
        return out.reshape(-1, nx // 64).mean(axis=1)  # cell averages on the 64-cell grid

    coarse, mid, fine, finest = (final(n) for n in (64, 128, 256, 512))
    e1, e2, e3 = (np.abs(a - finest).max() for a in (coarse, mid, fine))
    assert e1 > e2 > e3 and e3 < 0.01


def test_reaction_without_diffusion_is_the_exact_logistic_solution() -> None:
    g = reaction_diffusion(10, 64, seed=2, nu=0.0, rho=1.0, progress=False)
    u0 = g.fields[:, :1].astype(np.float64)
    t = g.t[None, :, None]
    exact = u0 * np.exp(t) / (1 - u0 + u0 * np.exp(t))
    assert np.allclose(g.fields, exact, atol=2e-6)
    assert g.fields.min() >= -1e-9 and g.fields.max() <= 1 + 1e-9  # FFT round-off only
    assert np.allclose(logistic_step(np.array([0.0, 1.0]), 5.0), [0.0, 1.0])


def test_reaction_diffusion_stays_in_unit_interval_and_diffuses() -> None:
    g = reaction_diffusion(10, 128, seed=0, progress=False)
    assert g.fields.shape == (10, 101, 128) and g.fields.min() >= -1e-6 and g.fields.max() <= 1 + 1e-6
    assert np.ptp(g.fields[:, -1], axis=1).mean() < np.ptp(g.fields[:, 0], axis=1).mean()


def test_diffusion_sorption_boundary_conditions() -> None:
    nx = 64
    dx = 1.0 / nx
    ones = np.ones((1, nx))
    assert np.allclose(sorption_rhs(ones, dx, **CONSTANTS), 0)  # the Dirichlet value everywhere is steady
    g = diffusion_sorption(5, nx, seed=0, t_end=100.0, n_frames=11)
    u = g.fields[..., 0]
    u0 = u[:, 0, :1]
    assert np.allclose(u[:, 0], u0)  # spatially constant start
    assert (u >= u0[:, None] - 1e-5).all() and (u <= 1 + 1e-5).all()  # between the start and the boundary value
    assert (np.diff(u[:, -1], axis=1) <= 1e-6).all()  # decreasing away from the u = 1 boundary
    assert (u[:, -1, 0] > u[:, 1, 0]).all() and (u[:, -1, 0] > 0.5).all()  # the left cell rises towards 1


def test_darcy_satisfies_its_discrete_equation() -> None:
    g = darcy(4, 32, seed=0, progress=False)
    a = g.coefficient.astype(np.float64)
    assert np.allclose(np.unique(a), [0.1, 1.0])
    u = solve_darcy(a, 0.1, progress=False)
    for ui, ai in zip(u, a):
        r = darcy_residual(ui, ai, 0.1, 1 / 32)
        assert np.abs(r).max() < 1e-9 * 0.1 * 32**2
    assert (u > 0).all()  # positive forcing, zero boundary: positive inside
    assert np.allclose(g.fields[:, 0], u, atol=1e-6)


def test_every_generator_is_registered_and_tags_its_layout() -> None:
    assert set(GENERATORS) == {"advection", "burgers", "reaction-diffusion", "diffusion-sorption", "darcy", "darcy-fno",
                               "shallow-water", "reaction-diffusion-2d", "cfd1d"}
    short = {"diffusion-sorption": {"t_end": 5.0, "n_frames": 3}, "shallow-water": {"t_end": 0.1, "n_frames": 3},
             "reaction-diffusion-2d": {"t_end": 0.1, "n_frames": 3}, "cfd1d": {"t_end": 0.02}}
    layouts = {name: fn(2, 16, 0, progress=False, **short.get(name, {})).layout for name, fn in GENERATORS.items()}
    assert layouts == {"advection": "tensor", "burgers": "tensor", "reaction-diffusion": "tensor",
                       "diffusion-sorption": "groups", "darcy": "darcy", "darcy-fno": "darcy",
                       "shallow-water": "groups", "reaction-diffusion-2d": "groups", "cfd1d": "cfd"}


def test_non_finite_samples_are_dropped_and_counted() -> None:
    from benchmarks.suites.pdebench.generators.base import drop_non_finite

    fields = np.zeros((4, 3, 5))
    fields[1, 2, 0] = np.nan
    fields[3, 0, 4] = np.inf
    kept, (other,), dropped = drop_non_finite(fields, np.arange(4))
    assert dropped == 2 and kept.shape == (2, 3, 5) and other.tolist() == [0, 2]


def test_fno_darcy_regeneration() -> None:
    from scipy.sparse.linalg import spsolve as solve

    from benchmarks.suites.pdebench.generators.darcy_fno import (
        _to_nodes,
        darcy_fno,
        grf_fields,
        node_matrix,
        threshold,
    )

    g = grf_fields(400, 24, np.random.default_rng(0))
    assert abs(g.mean()) < 1e-12 and np.allclose(g.mean(axis=(1, 2)), 0, atol=1e-12)  # no constant mode
    a = threshold(g)
    assert set(np.unique(a)) == {3.0, 12.0} and 0.35 < (a == 12).mean() < 0.65
    s = 21
    nodes = _to_nodes(threshold(grf_fields(1, s, np.random.default_rng(1)))[0], s)
    A = node_matrix(nodes)
    assert abs(A - A.T).max() == 0  # symmetric five-point operator
    u = np.zeros((s, s))
    u[1:-1, 1:-1] = solve(A, np.ones((s - 2) ** 2)).reshape(s - 2, s - 2)
    # the discrete equation, by an independent stencil on the nodes (spacing 1/(s-1), zero boundary)
    face = lambda p, q: 0.5 * (p + q)  # noqa: E731
    c, uc = nodes[1:-1, 1:-1], u[1:-1, 1:-1]
    div = (face(c, nodes[1:-1, 2:]) * (u[1:-1, 2:] - uc) - face(c, nodes[1:-1, :-2]) * (uc - u[1:-1, :-2])
           + face(c, nodes[2:, 1:-1]) * (u[2:, 1:-1] - uc) - face(c, nodes[:-2, 1:-1]) * (uc - u[:-2, 1:-1]))
    assert np.abs(-div * (s - 1) ** 2 - 1).max() < 1e-9
    data = darcy_fno(3, 17, seed=0, progress=False)
    assert data.fields.shape == (3, 1, 17, 17) and data.coefficient.shape == (3, 17, 17)
    assert (data.fields.max(axis=(1, 2, 3)) > 0).all() and data.layout == "darcy"


def test_fitzhugh_nagumo_pieces_and_generator() -> None:
    from scipy.integrate import solve_ivp

    from benchmarks.suites.pdebench.generators.planar import (
        diffusion_reaction_2d,
        fhn_reaction,
        fhn_reaction_step,
        neumann_heat,
    )

    rng = np.random.default_rng(0)
    field = rng.normal(size=(2, 16, 12))
    dx = 2.0 / 16
    smoothed = neumann_heat(field, 1e-3 * 0.5, dx)
    assert np.allclose(smoothed.mean(axis=(1, 2)), field.mean(axis=(1, 2)))  # no flux through the walls
    # against many small explicit steps of the same no-flux five-point Laplacian
    ref = field.copy()
    for _ in range(2000):
        g = np.pad(ref, ((0, 0), (1, 1), (1, 1)), mode="edge")  # mirrored ghosts = zero flux
        lap = (g[:, 2:, 1:-1] + g[:, :-2, 1:-1] + g[:, 1:-1, 2:] + g[:, 1:-1, :-2] - 4 * ref) / dx**2
        ref = ref + 1e-3 * (0.5 / 2000) * lap
    assert np.abs(smoothed - ref).max() < 1e-4
    # the reaction step against an accurate ODE solve of one cell
    u0, v0 = np.array([1.5]), np.array([-0.7])
    u, v = u0, v0
    for _ in range(100):
        u, v = fhn_reaction_step(u, v, 0.01, 5e-3)
    exact = solve_ivp(lambda t, y: np.array(fhn_reaction(y[0], y[1], 5e-3)), (0, 1), [1.5, -0.7], rtol=1e-10,
                      atol=1e-12).y[:, -1]
    assert np.allclose([u[0], v[0]], exact, atol=1e-7)
    g = diffusion_reaction_2d(2, 16, seed=0, t_end=0.5, n_frames=6, progress=False)
    assert g.fields.shape == (2, 6, 16, 16, 2) and np.isfinite(g.fields).all() and g.layout == "groups"


def test_shallow_water_rest_symmetry_and_mass() -> None:
    from benchmarks.suites.pdebench.generators.planar import shallow_water, swe_rhs

    rest = np.zeros((3, 1, 8, 8))
    rest[0] = 1.3
    assert np.abs(swe_rhs(rest, 0.1)).max() < 1e-12  # a lake at rest stays at rest
    g = shallow_water(2, 32, seed=0, t_end=0.5, n_frames=6, progress=False)
    h = g.fields[..., 0].astype(np.float64)
    assert g.fields.shape == (2, 6, 32, 32, 1) and (h > 0).all()
    mass = h.sum(axis=(2, 3))
    assert np.allclose(mass, mass[:, :1], rtol=1e-6)  # waves have not reached the outflow walls by t = 0.5
    assert np.allclose(h[:, -1], h[:, -1].transpose(0, 2, 1)) and np.allclose(h[:, -1], h[:, -1, ::-1])  # radial
    assert not np.allclose(h[:, -1], h[:, 0])  # the dam broke
