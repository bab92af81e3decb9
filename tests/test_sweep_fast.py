"""The fast path of the class sweeps (constructions/tm_fast.py, proofs_check/class_sweep.py)
against the literal path, bit for bit, and machine numbering (simulators/sampling.py)."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from constructions.tm_fast import class_structure, compile_tm_arrays, literal_arrays
from proofs_check import class_sweep
from proofs_check.class_sweep import (
    check_chunk,
    local_views_fast,
    local_views_literal,
    parse_class,
    sample_indices,
)
from simulators.formats import format_bbchallenge
from simulators.sampling import (
    all_machines,
    machine_at,
    machine_digits,
    machine_index,
    n_machines,
)

CLASSES = [(1, 2), (2, 2), (3, 2), (2, 3), (4, 2), (3, 3)]


def _same_arrays(fast: dict, literal: dict) -> bool:
    return fast.keys() == literal.keys() and all(
        fast[n].shape == literal[n].shape and fast[n].dtype == literal[n].dtype
        and np.array_equal(fast[n], literal[n]) for n in literal)


def test_machine_numbering_is_the_order_of_all_machines() -> None:
    assert n_machines(2, 2) == 28_561 and n_machines(3, 2) == 17**6 == 24_137_569
    for i, m in enumerate(itertools.islice(all_machines(2, 2), 0, None, 211)):
        assert machine_at(211 * i, 2, 2) == m
        assert machine_index(m) == 211 * i
    last = machine_at(n_machines(3, 2) - 1, 3, 2)  # every entry the last choice: 1RZ
    assert {str(tr) for row in last.table for tr in row} == {str(last.table[0][0])}
    assert last.table[0][0].write == 1 and last.table[0][0].next_state == -1
    with pytest.raises(ValueError):
        machine_at(n_machines(2, 2), 2, 2)


@given(data=st.data(), cls=st.sampled_from(CLASSES))
def test_fast_weights_equal_compile_tm_bit_for_bit(data, cls) -> None:
    s, k = cls
    i = data.draw(st.integers(0, n_machines(s, k) - 1))
    assert _same_arrays(compile_tm_arrays(s, k, machine_digits(i, s, k)),
                        literal_arrays(machine_at(i, s, k)))


def test_fast_weights_on_a_seeded_sample_of_3x2() -> None:
    rng = random.Random(12)
    for i in rng.sample(range(n_machines(3, 2)), 150):
        assert _same_arrays(compile_tm_arrays(3, 2, machine_digits(i, 3, 2)),
                            literal_arrays(machine_at(i, 3, 2))), i


@pytest.mark.slow
def test_fast_weights_on_every_2x2_machine() -> None:
    for i in range(n_machines(2, 2)):
        assert _same_arrays(compile_tm_arrays(2, 2, machine_digits(i, 2, 2)),
                            literal_arrays(machine_at(i, 2, 2))), i


@given(data=st.data(), cls=st.sampled_from(CLASSES[:4]))
def test_fast_check_equals_the_literal_check(data, cls) -> None:
    s, k = cls
    i = data.draw(st.integers(0, n_machines(s, k) - 1))
    assert local_views_fast(s, k, machine_digits(i, s, k)) == \
        local_views_literal(machine_at(i, s, k)) is None


def test_float64_bound_covers_every_machine_of_the_class() -> None:
    """The class-wide bound of the fast path is at least each network's own layer bound."""
    for s, k in CLASSES:
        integral, bound = class_structure(s, k).float64_exact()
        assert integral and bound < 2**53
        rng = random.Random(s * 10 + k)
        for _ in range(40):
            a = compile_tm_arrays(s, k, machine_digits(rng.randrange(n_machines(s, k)), s, k))
            b = 2 * s * k + k  # the largest code
            for w, c in (("A1", "b1"), ("A2", "b2"), ("A3", "b3")):
                b = float(np.max(np.abs(a[w]).sum(axis=1) * b + np.abs(a[c])))
                assert b <= bound


def test_a_wrong_network_fails_on_both_paths(monkeypatch) -> None:
    """Both checks can fail: one output bias off by one is caught, with the machine."""
    import constructions.tm_fast as tm_fast

    real = tm_fast.compile_tm_arrays

    def broken(s, k, digits):
        a = real(s, k, digits)
        a["b3"] = a["b3"] + 1
        return a
    monkeypatch.setattr(tm_fast, "compile_tm_arrays", broken)
    rec = check_chunk(2, 2, 100, 103)
    assert rec["checked"] == 3 and [f["index"] for f in rec["failed"]] == [100, 101, 102]
    assert "local views wrong" in rec["failed"][0]["reason"]
    assert [f["machine"] for f in rec["failed"]] == \
        [format_bbchallenge(machine_at(i, 2, 2)) for i in (100, 101, 102)]
    monkeypatch.undo()
    assert check_chunk(2, 2, 100, 103)["failed"] == []


def test_a_check_that_raises_is_a_failure_of_its_machine(monkeypatch) -> None:
    def explode(s, k, digits):
        if digits[0] == 3:
            raise RuntimeError("boom")
        return None
    monkeypatch.setitem(class_sweep.MACHINE_CHECKS, "boom", (local_views_literal, explode))
    rec = check_chunk(2, 2, 0, 13**3 * 4, check="boom")
    assert rec["checked"] == 13**3 * 4
    assert {f["index"] // 13**3 for f in rec["failed"]} == {3}
    assert len(rec["failed"]) == 13**3 and "RuntimeError: boom" in rec["failed"][0]["reason"]


def test_literal_and_fast_chunks_agree_on_a_sample() -> None:
    sample = (40, 5)
    fast = check_chunk(3, 2, 0, 40, sample=sample)
    literal = check_chunk(3, 2, 0, 40, sample=sample, literal=True)
    assert fast["checked"] == literal["checked"] == 40
    assert fast["failed"] == literal["failed"] == []
    idx = sample_indices(n_machines(3, 2), 40, 5)
    assert len(set(idx)) == 40 and list(idx) == sorted(idx)


def test_parse_class() -> None:
    assert parse_class("3x2").size == 24_137_569
    for bad in ("3", "x2", "0x2", "3x1", "axb", "9x2"):
        with pytest.raises(ValueError, match="unknown class"):
            parse_class(bad)


@given(data=st.data(), cls=st.sampled_from(CLASSES[:4]))
def test_fast_certificate_equals_the_certificate(data, cls) -> None:
    """The sweep's default check: its fast path gives the verdict of certify_machine."""
    s, k = cls
    i = data.draw(st.integers(0, n_machines(s, k) - 1))
    digits = machine_digits(i, s, k)
    assert class_sweep.machine_index_of(s, k, digits) == i
    assert class_sweep.certificate_fast(s, k, digits) == \
        class_sweep.certificate_literal(machine_at(i, s, k)) is None


def test_a_wrong_network_is_not_certified_on_either_path(monkeypatch) -> None:
    """One output bias off by one: the fast and the literal certificate both refuse it."""
    from dataclasses import replace

    import constructions.tm as tm
    import constructions.tm_fast as tm_fast

    real_fast, real_compile = tm_fast.compile_tm_arrays, tm.compile_tm

    def broken_fast(s, k, digits):
        a = real_fast(s, k, digits)
        a["b3"] = a["b3"] + 1
        return a

    def broken_compile(machine):
        ctm = real_compile(machine)
        b3 = ctm.patch.b3.copy()
        b3[0] += 1
        return replace(ctm, patch=replace(ctm.patch, b3=b3))

    monkeypatch.setattr(tm_fast, "compile_tm_arrays", broken_fast)
    monkeypatch.setattr(tm, "compile_tm", broken_compile)
    fast = check_chunk(2, 2, 100, 103, check="certificate")
    literal = check_chunk(2, 2, 100, 103, check="certificate", literal=True)
    assert [f["index"] for f in fast["failed"]] == [100, 101, 102]
    assert [f["index"] for f in literal["failed"]] == [100, 101, 102]
    assert all(f["reason"].startswith("not certified") for f in fast["failed"] +
               literal["failed"])
