"""Certificates (proofs_check/certificates*.py): proofs on every valid local view.

Each check here can fail: a certificate that passed a wrong network, a counterexample that
is not one, a fast path that drifted from the literal one, a view set that misses a view a
real grid shows."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from constructions.export import weight_arrays
from constructions.tm import compile_tm
from proofs_check.certificates import (
    PatchCertifier,
    certify_patch,
    exact_forward,
    executor_forward,
    executor_tensors,
    executor_values,
    reads_of,
)
from proofs_check.certificates_files import certify_compiled, certify_machine
from proofs_check.certificates_views import (
    CROSS,
    LearnerValues,
    learner_layer1_views,
    next_centre,
    tm_views,
)
from simulators.formats import builtin_machines, load_machine
from simulators.turing import HALT, Configuration, TuringMachine, step
from tests.machines import ALL_MOVES, machines


def arrays_of(compiled, dtype: str = "float32") -> dict[str, np.ndarray]:
    return {k: v.astype(np.float64) for k, v in weight_arrays(compiled, dtype).items()}


def all_views(m: TuringMachine) -> tuple[np.ndarray, np.ndarray]:
    """Brute force: every 3x3 view with at most one head among its 9 cells, and the next
    centre code from the reference simulator."""
    s, k = m.n_states, m.n_symbols

    def code(a: int, h: int, q: int) -> int:
        return a + k * h + 2 * k * q
    views, spec = [], []
    for cells in itertools.product(range(k), repeat=9):
        views.append([code(a, 0, 0) for a in cells])
        spec.append(code(cells[4], 0, 0))
    for p, q, a in itertools.product(range(9), range(s + 1), range(k)):
        for rest in itertools.product(range(k), repeat=8):
            cells = list(rest)
            cells.insert(p, a)
            v = [code(x, 0, 0) for x in cells]
            v[p] = code(a, 1, q)
            views.append(v)
            spec.append(code(*next_centre(m, (p // 3 - 1, p % 3 - 1), q, a, cells[4])))
    return np.array(views, dtype=float), np.array(spec, dtype=float)


def test_executor_forward_is_the_rcnn_patch_network_bit_for_bit() -> None:
    from constructions.engine import network_model

    ctm = compile_tm(builtin_machines()["bb4"])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 9)) * 7
    for dtype in ("float32", "float64"):
        model = network_model(ctm, dtype)
        t = executor_tensors(arrays_of(ctm, dtype), dtype)
        xt = torch.tensor(x).to(t["A1"].dtype)
        with torch.no_grad():
            assert torch.equal(executor_forward(t, xt), model.patch_network(xt))


@pytest.mark.parametrize("name", ["bb2", "bb2_undefined", "bb4", "bb2x3", "counter",
                                  "grid_square"])
def test_library_machines_are_certified(name: str) -> None:
    cert = certify_compiled(compile_tm(builtin_machines()[name]))
    assert cert.proven, cert.to_json()
    assert all(p.views_enumerated == 0 for p in cert.parts)  # every view proven symbolically


def test_view_counts_match_the_formula() -> None:
    # k^5 + 5 k (s + 1) k^4 views of the 5 read cells with at most one head
    for name in ("bb2", "bb4", "bb2x3"):
        m = builtin_machines()[name]
        s, k = m.n_states, m.n_symbols
        fams = tm_views(m, CROSS).families
        assert sum(f.views for f in fams) == k**5 + 5 * k * (s + 1) * k**4
        fams9 = tm_views(m, range(9)).families
        assert sum(f.views for f in fams9) == k**9 + 9 * k * (s + 1) * k**8


def test_views_of_real_configurations_are_in_the_families_with_the_reference_step() -> None:
    """Views cut from random valid configurations (any state, halted or not, non-blank
    tapes) are views of the families, and the reference's whole-tape step agrees with the
    per-view specification."""
    rng = random.Random(3)
    for name in ("bb4", "grid_square", "bb2_undefined"):
        m = builtin_machines()[name]
        k = m.n_symbols
        fams = tm_views(m, range(9)).families
        index = {}
        for f in fams:
            for r in range(len(f.rows)):
                vs, sp = f.row_views(r)
                for v, s in zip(vs, sp):
                    index[tuple(v)] = s
        for _ in range(40):
            tape = {(r, c): rng.randrange(k) for r in range(-2, 3) for c in range(-2, 3)}
            state = rng.choice([*range(m.n_states), HALT])
            cfg = Configuration(tape={p: a for p, a in tape.items() if a}, head=(0, 0),
                                state=state)
            nxt = cfg if cfg.is_halted(m) else step(m, cfg)

            for r, c in itertools.product(range(-1, 2), repeat=2):
                view = tuple(float(_code_at(m, cfg, (r + dr, c + dc)))
                             for dr in (-1, 0, 1) for dc in (-1, 0, 1))
                assert index[view] == _code_at(m, nxt, (r, c))


def _code_at(m: TuringMachine, c: Configuration, p: tuple[int, int]) -> int:
    """The cell code of position ``p`` in configuration ``c``."""
    k = m.n_symbols
    a = c.tape.get(p, 0)
    if c.head != p:
        return a
    q = m.n_states if c.state == HALT else c.state
    return a + k + 2 * k * q


@settings(max_examples=25)
@given(machines(max_states=6, max_symbols=3, moves=ALL_MOVES))
def test_random_machines_are_certified(m: TuringMachine) -> None:
    verdict = certify_machine(m)
    assert verdict["proven"], verdict


def _mutate(arr: dict[str, np.ndarray], data, how: str) -> dict[str, np.ndarray]:
    out = {k: v.copy() for k, v in arr.items()}
    name = data.draw(st.sampled_from(["A1", "b1", "A2", "b2", "A3", "b3"]))
    a = out[name]
    nz = np.argwhere(a != 0)
    if len(nz) and data.draw(st.booleans()):
        idx = tuple(nz[data.draw(st.integers(0, len(nz) - 1))])
    else:
        idx = tuple(data.draw(st.integers(0, n - 1)) for n in a.shape)
    delta = {"small": 2.0**-10, "large": 2.0**-3, "flip": None}[how]
    if delta is None:
        a[idx] = -a[idx]
    else:
        a[idx] += delta * data.draw(st.sampled_from([-1, 1]))
    return out


@settings(max_examples=25)
@given(machines(max_states=4, max_symbols=2, moves=ALL_MOVES), st.data(),
       st.sampled_from(["small", "large", "flip"]))
def test_perturbed_weights_fail_exactly_when_some_view_changes(m, data, how) -> None:
    """A perturbed network is certified iff no valid view's output changed (brute force over
    every view of 9 cells, with the executor), and never when a rollout from a random valid
    configuration goes wrong."""
    arr = _mutate(arrays_of(compile_tm(m)), data, how)
    views, spec = all_views(m)
    got, _ = executor_values(arr, "float32", views)
    wrong = got != spec
    cert = certify_patch(arr, "float32", tm_views(m, reads_of(arr)).families)
    assert cert.proven == (not wrong.any()), (cert.summary(), int(wrong.sum()))
    if cert.counterexample:
        ce = cert.counterexample
        exact, _ = exact_forward(arr, ce["view"])
        assert float(exact) != ce["expected"] and ce["computed"] != ce["expected"]
    # a rollout from a random valid configuration
    rng = random.Random(data.draw(st.integers(0, 10**6)))
    k = m.n_symbols
    grid = np.array([[rng.randrange(k) for _ in range(9)] for _ in range(5)], dtype=float)
    q = rng.randrange(m.n_states + 1)
    grid[2, 4] += k + 2 * k * q
    t = executor_tensors(arr, "float32")
    cfg = Configuration(tape={(r - 2, c - 4): int(grid[r, c]) % k for r in range(5)
                              for c in range(9) if int(grid[r, c]) % k},
                        head=(0, 0), state=HALT if q == m.n_states else q)
    g = torch.tensor(grid, dtype=torch.float32)
    for _ in range(2):
        padded = torch.nn.functional.pad(g[None], (1, 1, 1, 1))[0]
        patches = torch.stack([padded[i:i + 5, j:j + 9] for i in range(3) for j in range(3)],
                              dim=-1).reshape(-1, 9)
        with torch.no_grad():
            g = executor_forward(t, patches).reshape(5, 9)
        if not cfg.is_halted(m):
            cfg = step(m, cfg)
        if abs(cfg.head[0]) > 1 or abs(cfg.head[1]) > 3:
            break  # the 5x9 window no longer holds the whole step
        ref = np.zeros((5, 9))
        for (r, c), a in cfg.tape.items():
            if -2 <= r <= 2 and -4 <= c <= 4:
                ref[r + 2, c + 4] = a
        hq = m.n_states if cfg.state == HALT else cfg.state
        ref[cfg.head[0] + 2, cfg.head[1] + 4] += k + 2 * k * hq
        inner = (slice(1, 4), slice(1, 8))  # cells whose patches stay inside the window
        if not np.array_equal(g.numpy()[inner], ref[inner]):
            assert not cert.proven
            break


def test_incremental_certificate_equals_the_literal_one() -> None:
    """The fast path (re-deriving a changed network from the unchanged one's tables) gives
    the literal certificate's verdict, counts and counterexample, bit for bit."""
    rng = random.Random(5)
    m = builtin_machines()["bb4"]
    base = arrays_of(compile_tm(m))
    pc = PatchCertifier(base, "float32", tm_views(m, reads_of(base)).families, floor=-10,
                        rebuild=lambda r: tm_views(m, r).families)
    for _ in range(40):
        name = rng.choice(["A1", "b1", "A2", "b2", "A3", "b3"])
        idx = tuple(rng.randrange(n) for n in base[name].shape)
        value = base[name][idx] + rng.choice([2.0**-10, -2.0**-10, -2 * base[name][idx]])
        arr = {k: v.copy() for k, v in base.items()}
        arr[name][idx] = value
        fast = pc.mutant(name, idx, value).summary()
        slow = certify_patch(arr, "float32", tm_views(m, reads_of(arr)).families).summary()
        fast.pop("seconds"), slow.pop("seconds")
        assert fast == slow, (name, idx)


def test_enumeration_fallback_and_its_counterexamples() -> None:
    """A network whose layer-1 units read many positions cannot be tabulated per position:
    its views are enumerated with the executor, and a wrong output is still found."""
    m = builtin_machines()["bb2"]
    arr = arrays_of(compile_tm(m))
    dense = np.full((1, 9), 0.5)
    arr["A1"] = np.vstack([arr["A1"], dense])  # a dead unit reading all 9 positions
    arr["b1"] = np.append(arr["b1"], -1000.0)
    arr["A2"] = np.hstack([arr["A2"], np.ones((arr["A2"].shape[0], 1))])
    res = certify_patch(arr, "float32", tm_views(m, range(9)).families)
    assert res.proven and res.views_enumerated == res.views == 14336 and res.notes
    arr["b1"][-1] = 1.0  # now alive: it adds to the output on every view
    res = certify_patch(arr, "float32", tm_views(m, range(9)).families)
    assert not res.proven and res.counterexample["computed"] != res.counterexample["expected"]


def test_lower_precision_is_enumerated_or_refuted() -> None:
    ctm = compile_tm(builtin_machines()["bb4"])
    arr = {k: np.array([float(x) for x in a.ravel()]).reshape(a.shape)
           for k, a in ctm.patch.arrays().items()}
    fams = tm_views(ctm.machine, reads_of(arr)).families
    assert certify_patch(arr, "float16", fams).views_enumerated == 0  # 10 bits <= 11
    b = certify_patch(arr, "bfloat16", fams)  # 10 bits > 8: not provable in every order
    assert b.views_enumerated > 0 and "executor" in " ".join(b.notes)


def _learner_values(dtype: str = "float32") -> LearnerValues:
    third = float(torch.tensor(1 / 3, dtype=getattr(torch, dtype)))
    return LearnerValues(-1.0, third, -4.0, -2.0, 2.0)


def test_majority_learner_is_certified_with_its_jacobians() -> None:
    from constructions.learner import compile_library_learner

    cert = certify_compiled(compile_library_learner("majority"))
    assert cert.proven, cert.to_json()
    assert [p.name for p in cert.parts] == ["layer 1", "layers 2..L", "head"]


@pytest.mark.parametrize("where", ["layer 1", "layers 2..L"])
def test_a_wrong_carrier_slope_is_caught(where: str) -> None:
    """Keep every value but change a carrier's slope: Lemma 1 (1) would fail (SGD would write
    a wrong W), and the certificate says so with a Jacobian counterexample."""
    from constructions.learner import CARRIER, compile_library_learner
    from proofs_check.certificates_views import learner_step_views

    learner = compile_library_learner("majority")
    arr = arrays_of(learner)
    names = learner.net.units2
    carriers = [i for i, n in enumerate(names) if n == "carrier"]
    i = carriers[0] if where == "layer 1" else carriers[-1]
    units1 = learner.net.units1
    j = next(u for u in np.flatnonzero(arr["A2"][i]) if units1[u].startswith("pass"))
    shift = arr["b1"][j] / arr["A1"][j].max()  # the unit is relu(x_c + shift)
    anchor = 0.0 if where == "layer 1" else float(CARRIER)
    arr["A2"][i, j] += 0.5
    arr["b2"][i] -= 0.5 * (anchor + shift)  # the same value at the carrier's anchor
    v = _learner_values()
    build = learner_layer1_views if where == "layer 1" else learner_step_views
    res = certify_patch(arr, "float32", build(learner.machine, v, reads_of(arr)).families)
    assert not res.proven and res.counterexample.get("what") == "jacobian", res.summary()


def _memory_grid(m: int, d: int, l: int, phase: int | None, rng: random.Random,  # noqa: E741
                 t: float) -> np.ndarray:
    """Raw memory values of Algorithm 1 (rows < phase filled; phase None: test time)."""
    g = np.zeros((m + 1, d + 1 + l))
    g[:, d + 1:] = 1.0
    rows = m + 1 if phase is None else phase
    for a in range(rows):
        for b in range(d + 1):
            g[a, b] = rng.choice([t, -t])
    if phase is None:
        g[m, d] = t  # the dummy's label
    return g


def test_layer1_views_contain_every_view_of_a_memory_grid() -> None:
    """Views harvested from memory grids of every small shape and phase are layer-1 views;
    at test time their specified codes are the learner tape's (simulators.learner_tape)."""
    from constructions.learner import compile_library_learner
    from simulators.learner_tape import learner_tape, start_cell

    learner = compile_library_learner("majority")
    v = _learner_values()
    fams = learner_layer1_views(learner.machine, v, CROSS).families
    spec = {}
    for f in fams:
        for r in range(len(f.rows)):
            vs, sp = f.row_views(r)
            for view, s in zip(vs, sp):
                spec[tuple(view[list(CROSS)])] = s
    rng = random.Random(0)
    k = learner.machine.n_symbols
    for m, d, l in itertools.product(range(0, 3), range(1, 4), range(1, 3)):  # noqa: E741
        for phase in [*range(m + 1), None]:
            for _ in range(3):
                g = _memory_grid(m, d, l, phase, rng, v.third)
                p = np.pad(g, 1, constant_values=v.pad)
                for r, c in itertools.product(range(m + 1), range(d + 1 + l)):
                    view = (p[r + 1, c + 1], p[r, c + 1], p[r + 2, c + 1], p[r + 1, c],
                            p[r + 1, c + 2])  # centre, north, south, west, east (CROSS)
                    assert view in spec, (m, d, l, phase, r, c, view)
                if phase is None:
                    signs = np.sign(g[:, :d + 1]).astype(int)
                    x, y = signs[m, :d], signs[:m, d]  # cell sign = y_a X_ab x_b
                    X = signs[:m, :d] * y[:, None] * x[None, :]
                    tape = learner_tape(X, y, x, l, symbols=learner.machine)
                    for r, c in itertools.product(range(m + 1), range(d + 1 + l)):
                        view = (p[r + 1, c + 1], p[r, c + 1], p[r + 2, c + 1],
                                p[r + 1, c], p[r + 1, c + 2])
                        want = v.offset + tape.cells[r][c] + (k if (r, c) == start_cell(m, d)
                                                              else 0)
                        assert spec[view] == want, (m, d, l, r, c, view, tape.cells)


def test_time_bound_expressions_match_the_time_bounds() -> None:
    from constructions.learner import TIME_BOUND_EXPRESSIONS
    from simulators.learner_tape import LIBRARY_LEARNERS, time_bound

    assert set(TIME_BOUND_EXPRESSIONS) == set(LIBRARY_LEARNERS)
    for name, expr in TIME_BOUND_EXPRESSIONS.items():
        for m, d in itertools.product(range(0, 14), range(1, 11)):
            got = eval(expr, {"__builtins__": {}, "min": min}, {"m": m, "d": d})  # noqa: S307
            assert got == time_bound(name, m, d), (name, m, d)


def test_the_issue_examples_are_caught() -> None:
    """The changes that passed the rollout checks before certificates (issue 12)."""
    m = builtin_machines()["bb4"]
    base = arrays_of(compile_tm(m))
    fams = tm_views(m, reads_of(base)).families
    for name, idx, how in (("A1", (17, 4), "flip"), ("A2", (0, 17), "+")):
        arr = {k: v.copy() for k, v in base.items()}
        arr[name][idx] = -arr[name][idx] if how == "flip" else arr[name][idx] + 2.0**-10
        assert not certify_patch(arr, "float32", fams).proven
    r5 = load_machine("0RC1RD_1RA1LE_1LB1RB_1LA0LA_0LE0LE")
    base = arrays_of(compile_tm(r5))
    fams = tm_views(r5, reads_of(base)).families
    for name in ("b2", "A3"):
        for i in np.flatnonzero(base[name].ravel())[:8]:
            arr = {k: v.copy() for k, v in base.items()}
            arr[name].ravel()[i] += 2.0**-10
            assert not certify_patch(arr, "float32", fams).proven


@settings(max_examples=15)
@given(machines(max_states=5, max_symbols=3, moves=ALL_MOVES))
def test_the_cheap_machine_verdict_is_the_full_certificate(m: TuringMachine) -> None:
    """certify_machine's fast path (one evaluation per view, exact by the compiler's bound)
    gives the full certificate's verdict and view count."""
    fast, full = certify_machine(m), certify_machine(m, cheap=False)
    assert fast["proven"] == full["proven"] and fast["views"] == full["views"]
    assert "compiler's bound" in fast["how"] and "every summation order" in full["how"]
