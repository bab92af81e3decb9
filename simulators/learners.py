"""Plain-Python reference learners: the ground truth for the network constructions.

A learner (the paper's Def. 1, without the Turing-machine bounds) maps a training set
``((x^1, y^1), ..., (x^m, y^m))`` with ``x^a in {-1,1}^d`` and ``y^a in {-1,1}`` to a classifier
``{-1,1}^d -> {-1,1}``. Here a :class:`Learner` has ``fit(X, y) -> Classifier`` (``X`` of shape
``(m, d)``, ``y`` of shape ``(m,)``) and ``predict(train_X, train_y, test_X) -> labels``.
:data:`LEARNERS` lists them by name; every tie rule is part of the contract (a network
construction must reproduce it exactly).

Conventions shared by all learners:

* ``d >= 1``; ``m = 0`` is allowed and then **every learner returns the constant +1**. The paper
  reads an invalid classifier output as "classify everything as 1" (§2), so +1 is the default
  label whenever nothing else decides.
* A :class:`Classifier` maps one point (shape ``(d,)``) to an ``int`` and a batch (shape
  ``(n, d)``) to an ``int64`` array of shape ``(n,)``; inputs must be ``±1`` with the right ``d``.
* Learners depend on the order of the examples only where their tie rules say so.

Circuit conventions (:meth:`Classifier.circuit`): input ``k`` of the circuit is coordinate
``x_k`` and there is one output. Two bit encodings are offered:

* ``"sign"`` (default): bit 1 iff the value is ``-1``, for inputs and output. Then the product of
  ``±1`` values is the XOR of their bits, so a parity classifier is an XOR of inputs, and the
  truth-table row ``a`` of :func:`simulators.circuits.evaluate_all` is row ``a`` of
  :func:`simulators.datasets.all_points`.
* ``"paper"``: the paper's reading of a circuit's output, False = -1 and True = +1 (bit 1 iff
  the value is ``+1``), for inputs and output.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from simulators.circuit_library import xor_of
from simulators.circuits import Circuit, Gate, Op, evaluate
from simulators.datasets import check_examples, check_labels
from simulators.gf2 import solve_greedy

__all__ = [
    "CONVENTIONS",
    "LEARNERS",
    "Classifier",
    "ConstantClassifier",
    "Convention",
    "Learner",
    "NearestClassifier",
    "ParityClassifier",
    "ParityDiagnostics",
    "SwitchClassifier",
    "bits_to_labels",
    "circuit_predict",
    "fit",
    "fit_best_literal",
    "fit_constant_plus",
    "fit_first_agree",
    "fit_majority",
    "fit_nearest",
    "fit_parity",
    "labels_to_bits",
    "learner_circuit",
    "predict",
]

Convention = Literal["sign", "paper"]
CONVENTIONS: tuple[str, ...] = ("sign", "paper")
"""Circuit bit encodings: ``"sign"`` (bit 1 iff value -1) and ``"paper"`` (bit 1 iff value +1)."""


def _convention(convention: str) -> str:
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown circuit convention {convention!r}; use one of {CONVENTIONS}")
    return convention


def labels_to_bits(values: ArrayLike, convention: Convention = "sign") -> np.ndarray:
    """``±1`` values as ``uint8`` bits under ``convention`` (sign: -1 -> 1; paper: +1 -> 1)."""
    v = np.asarray(values)
    if v.size and not np.all((v == 1) | (v == -1)):
        raise ValueError("values must be -1 or 1")
    target = -1 if _convention(convention) == "sign" else 1
    return (v == target).astype(np.uint8)


def bits_to_labels(bits: ArrayLike, convention: Convention = "sign") -> np.ndarray:
    """Inverse of :func:`labels_to_bits`: ``int64`` values ``±1``."""
    b = np.asarray(bits).astype(np.int64)
    if b.size and not np.all((b == 0) | (b == 1)):
        raise ValueError("bits must be 0 or 1")
    return 1 - 2 * b if _convention(convention) == "sign" else 2 * b - 1


def circuit_predict(circuit: Circuit, X: ArrayLike, convention: Convention = "sign") -> np.ndarray:
    """Run a one-output classifier circuit on each row of ``X`` (``±1``); returns ``±1`` labels."""
    X_ = check_examples(X, d=circuit.n_inputs)
    if circuit.n_outputs != 1:
        raise ValueError(f"a classifier circuit has one output, this one has {circuit.n_outputs}")
    bits = labels_to_bits(X_, convention)
    out = np.array([evaluate(circuit, row)[0] for row in bits.tolist()], dtype=np.uint8)
    return bits_to_labels(out, convention)


# --------------------------------------------------------------------------- classifiers


def _constant_circuit(d: int, bit: int) -> Circuit:
    gate = Gate(Op.CONST1 if bit else Op.CONST0, (), d)
    return Circuit(d + 1, tuple(range(d)), (d,), (gate,), input_sizes=(d,), output_sizes=(1,))


def _with_not_output(c: Circuit) -> Circuit:
    """``c`` with its single output negated by one extra ``NOT`` gate."""
    w = c.n_wires
    return Circuit(
        w + 1,
        c.inputs,
        (w,),
        (*c.gates, Gate(Op.NOT, (c.outputs[0],), w)),
        input_sizes=c.input_sizes,
        output_sizes=c.output_sizes,
    )


class Classifier(ABC):
    """A classifier ``{-1,1}^d -> {-1,1}`` output by a learner."""

    d: int

    @abstractmethod
    def _predict(self, X: np.ndarray) -> np.ndarray:
        """Labels for a validated ``(n, d)`` batch."""

    def predict(self, X: ArrayLike) -> np.ndarray:
        """``int64`` labels ``±1`` for each row of the ``(n, d)`` batch ``X``."""
        return self._predict(check_examples(X, d=self.d))

    def __call__(self, x: ArrayLike) -> int | np.ndarray:
        """The label of one point (shape ``(d,)``, returns ``int``) or of a batch ``(n, d)``."""
        arr = np.asarray(x)
        if arr.ndim == 1:
            return int(self.predict(arr[None, :])[0])
        return self.predict(arr)

    def circuit(self, convention: Convention = "sign") -> Circuit | None:
        """This classifier as a Boolean circuit (see the module docstring), or ``None`` when
        there is no natural small one."""
        _convention(convention)
        return None


class ConstantClassifier(Classifier):
    """``x -> label`` for every ``x``."""

    def __init__(self, d: int, label: int) -> None:
        if label not in (-1, 1):
            raise ValueError(f"label must be -1 or 1, got {label!r}")
        self.d, self.label = d, int(label)

    def _predict(self, X: np.ndarray) -> np.ndarray:
        return np.full(X.shape[0], self.label, dtype=np.int64)

    def circuit(self, convention: Convention = "sign") -> Circuit:
        """A single ``CONST0``/``CONST1`` gate."""
        return _constant_circuit(self.d, int(labels_to_bits(self.label, convention)))

    def __repr__(self) -> str:
        return f"ConstantClassifier(d={self.d}, label={self.label:+d})"


class SwitchClassifier(Classifier):
    """``x -> if_plus`` when ``x[index] = +1``, else ``if_minus`` (a constant or a literal)."""

    def __init__(self, d: int, index: int, if_plus: int, if_minus: int) -> None:
        if not 0 <= index < d:
            raise ValueError(f"index {index} is not a coordinate in range({d})")
        if if_plus not in (-1, 1) or if_minus not in (-1, 1):
            raise ValueError("labels must be -1 or 1")
        self.d, self.index = d, int(index)
        self.if_plus, self.if_minus = int(if_plus), int(if_minus)

    def _predict(self, X: np.ndarray) -> np.ndarray:
        return np.where(X[:, self.index] == 1, self.if_plus, self.if_minus).astype(np.int64)

    def circuit(self, convention: Convention = "sign") -> Circuit:
        """A constant gate if both labels agree; else ``COPY`` (``x_i``) or ``NOT`` (``-x_i``)."""
        _convention(convention)
        if self.if_plus == self.if_minus:
            return _constant_circuit(self.d, int(labels_to_bits(self.if_plus, convention)))
        # The same bit encoding on both sides: label x_i is COPY, label -x_i is NOT.
        op = Op.COPY if self.if_plus == 1 else Op.NOT
        gate = Gate(op, (self.index,), self.d)
        return Circuit(
            self.d + 1,
            tuple(range(self.d)),
            (self.d,),
            (gate,),
            input_sizes=(self.d,),
            output_sizes=(1,),
        )

    def __repr__(self) -> str:
        return (
            f"SwitchClassifier(d={self.d}, index={self.index}, if_plus={self.if_plus:+d}, "
            f"if_minus={self.if_minus:+d})"
        )


@dataclass(frozen=True)
class ParityDiagnostics:
    """What the parity learner found (see :func:`fit_parity`).

    ``S``: the chosen index set; ``rank``: GF(2) rank of the example bit matrix; ``consistent``:
    whether some parity fits every example; ``determined``: whether the kept examples pin
    ``S`` down uniquely (``rank == d``); ``kept``/``dropped``: example indices used / discarded
    as contradicting earlier kept examples.
    """

    S: tuple[int, ...]
    rank: int
    consistent: bool
    determined: bool
    kept: tuple[int, ...]
    dropped: tuple[int, ...]


class ParityClassifier(Classifier):
    """``x -> prod_{i in S} x_i`` (``+1`` for the empty set)."""

    def __init__(
        self, d: int, S: Sequence[int], diagnostics: ParityDiagnostics | None = None
    ) -> None:
        idx = tuple(sorted(int(i) for i in S))
        if len(set(idx)) != len(idx) or any(not 0 <= i < d for i in idx):
            raise ValueError(f"S must be distinct coordinates in range({d}), got {tuple(S)}")
        self.d, self.S, self.diagnostics = d, idx, diagnostics

    def _predict(self, X: np.ndarray) -> np.ndarray:
        return np.prod(X[:, list(self.S)], axis=1, dtype=np.int64)

    def circuit(self, convention: Convention = "sign") -> Circuit:
        """Sign: the XOR of inputs ``S`` (:func:`~simulators.circuit_library.xor_of`). Paper:
        the same XOR, negated when ``|S|`` is even (``NOT(XOR(NOT p_i)) = XOR(p_i) ^ (|S|+1)``)."""
        c = xor_of(self.S, self.d)
        if _convention(convention) == "paper" and len(self.S) % 2 == 0:
            c = _with_not_output(c)
        return c

    def __repr__(self) -> str:
        return f"ParityClassifier(d={self.d}, S={self.S})"


class NearestClassifier(Classifier):
    """1-nearest neighbour in Hamming distance; ties go to the earliest training example.

    No circuit is offered (a faithful one compares ``m`` distances of ``log d`` bits each).
    """

    _CHUNK = 1 << 22  # entries of the (batch, m) distance matrix computed at once

    def __init__(self, X: np.ndarray, y: np.ndarray) -> None:
        if X.shape[0] == 0:
            raise ValueError("NearestClassifier needs at least one training example")
        self.d, self.X, self.y = X.shape[1], X, y
        self._Xt = X.T.astype(np.float64)  # inner products of +-1 vectors are exact in float64

    def _predict(self, X: np.ndarray) -> np.ndarray:
        out = np.empty(X.shape[0], dtype=np.int64)
        step = max(1, self._CHUNK // self.X.shape[0])
        for start in range(0, X.shape[0], step):
            block = X[start : start + step]
            # Hamming distance = (d - <x, x^a>) / 2, so the nearest maximises the inner product;
            # argmax returns the first maximum, i.e. the earliest nearest example.
            nearest = np.argmax(block.astype(np.float64) @ self._Xt, axis=1)
            out[start : start + step] = self.y[nearest]
        return out

    def __repr__(self) -> str:
        return f"NearestClassifier(d={self.d}, m={self.X.shape[0]})"


# --------------------------------------------------------------------------- learners


def _majority_label(y: np.ndarray) -> int:
    return 1 if int(y.sum()) >= 0 else -1


def fit_majority(X: np.ndarray, y: np.ndarray) -> ConstantClassifier:
    """The constant majority label; a tie (including ``m = 0``) gives +1."""
    return ConstantClassifier(X.shape[1], _majority_label(y))


def fit_constant_plus(X: np.ndarray, y: np.ndarray) -> ConstantClassifier:
    """The constant +1, ignoring the data (the paper's reading of an invalid output)."""
    return ConstantClassifier(X.shape[1], 1)


def fit_first_agree(X: np.ndarray, y: np.ndarray) -> SwitchClassifier:
    """``x ->`` the label of the first training example with the same first coordinate ``x_0``;
    if no training example has that ``x_0``, the majority label (tie +1)."""
    fallback = _majority_label(y)
    labels = {}
    for value in (1, -1):
        hits = np.flatnonzero(X[:, 0] == value)
        labels[value] = int(y[hits[0]]) if hits.size else fallback
    return SwitchClassifier(X.shape[1], 0, labels[1], labels[-1])


def fit_nearest(X: np.ndarray, y: np.ndarray) -> Classifier:
    """1-nearest neighbour in Hamming distance; ties -> the earliest of the nearest examples;
    ``m = 0`` -> the constant +1."""
    if X.shape[0] == 0:
        return ConstantClassifier(X.shape[1], 1)
    return NearestClassifier(X, y)


def fit_parity(X: np.ndarray, y: np.ndarray) -> ParityClassifier:
    """Gaussian elimination over GF(2) (§3's motivating example).

    With ``u_i = 1 iff x_i = -1`` and ``v = 1 iff y = -1``, a parity ``prod_{i in S} x_i`` fits an
    example iff ``v = XOR_{i in S} u_i``; the learner solves these equations for the indicator
    of ``S`` with :func:`simulators.gf2.solve_greedy`:

    * Underdetermined (rank < d): free variables are 0, i.e. ``S`` is contained in the pivot
      columns of the reduced row echelon form, and ``sum_{i in S} 2**i`` is the least among all
      consistent parities (coordinates with larger index are avoided first).
    * Inconsistent (label noise): examples are taken in order and an example that contradicts
      the examples kept before it is dropped; ``S`` solves the kept ones. This keeps all the
      information of a clean prefix (a noisy example that arrives after ``d`` independent clean
      ones is simply ignored) and is what an online elimination does naturally, whereas "return
      +1" would throw a nearly-determined answer away for one bad label.

    The returned classifier's ``diagnostics`` is a :class:`ParityDiagnostics`.
    """
    U = (X == -1).astype(np.uint8)
    v = (y == -1).astype(np.uint8)
    g = solve_greedy(U, v)
    S = tuple(int(i) for i in np.flatnonzero(g.solution))
    diag = ParityDiagnostics(S, g.rank, g.consistent, g.determined, g.kept, g.dropped)
    return ParityClassifier(X.shape[1], S, diag)


def fit_best_literal(X: np.ndarray, y: np.ndarray) -> Classifier:
    """Empirical risk minimisation over the ``2d + 2`` classifiers ``+1, -1, x_0, -x_0, x_1, -x_1,
    ...``: the first one in that order with the fewest training mistakes."""
    m, d = X.shape
    plus = int((y == -1).sum())  # mistakes of the constant +1
    best_err, best = plus, ConstantClassifier(d, 1)
    if m - plus < best_err:
        best_err, best = m - plus, ConstantClassifier(d, -1)
    agree = (X == y[:, None]).sum(axis=0)  # agreements of x_i with the label, per i
    for i in range(d):
        for sign, err in ((1, m - int(agree[i])), (-1, int(agree[i]))):
            if err < best_err:
                best_err, best = err, SwitchClassifier(d, i, sign, -sign)
    return best


@dataclass(frozen=True)
class Learner:
    """A named reference learner: ``fit`` validates the data then calls ``fit_fn``.

    ``description`` is one line; ``ties`` states every tie rule; ``has_circuit`` says whether
    every classifier it returns has a natural circuit (:meth:`Classifier.circuit` not ``None``).
    """

    name: str
    description: str
    ties: str
    fit_fn: Callable[[np.ndarray, np.ndarray], Classifier]
    has_circuit: bool

    def fit(self, X: ArrayLike, y: ArrayLike) -> Classifier:
        """The classifier learned from ``X`` (``(m, d)``, ``±1``, ``d >= 1``) and ``y`` (``±1``)."""
        X_ = check_examples(X)
        y_ = check_labels(y, X_.shape[0])
        return self.fit_fn(X_, y_)

    def predict(self, train_X: ArrayLike, train_y: ArrayLike, test_X: ArrayLike) -> np.ndarray:
        """Labels (``int64``, ``±1``) of the rows of ``test_X`` under ``fit(train_X, train_y)``."""
        return self.fit(train_X, train_y).predict(test_X)


LEARNERS: dict[str, Learner] = {
    learner.name: learner
    for learner in (
        Learner(
            "majority",
            "The constant majority label of the training set.",
            "Equal counts (and m = 0) give +1.",
            fit_majority,
            True,
        ),
        Learner(
            "first_agree",
            "The label of the first training example whose x_0 equals the test point's x_0.",
            "The first such example in training order wins; if there is none, the majority "
            "label (tie +1).",
            fit_first_agree,
            True,
        ),
        Learner(
            "nearest",
            "1-nearest neighbour in Hamming distance.",
            "Among equally near examples the earliest in training order wins; m = 0 gives +1.",
            fit_nearest,
            False,
        ),
        Learner(
            "parity",
            "The parity prod_{i in S} x_i found by Gaussian elimination over GF(2).",
            "Underdetermined: free variables 0 (S within the RREF pivot columns, least "
            "sum 2^i). Inconsistent: examples contradicting earlier kept ones are dropped.",
            fit_parity,
            True,
        ),
        Learner(
            "constant_plus",
            "The constant +1 whatever the data (the paper's reading of an invalid output).",
            "None (ignores the data).",
            fit_constant_plus,
            True,
        ),
        Learner(
            "best_literal",
            "The fewest-training-mistakes classifier among +1, -1 and the literals x_i, -x_i.",
            "Ties go to the first in the order +1, -1, x_0, -x_0, x_1, -x_1, ...",
            fit_best_literal,
            True,
        ),
    )
}
"""The reference learners by name."""


def _learner(name: str) -> Learner:
    try:
        return LEARNERS[name]
    except KeyError:
        raise KeyError(f"no learner {name!r}; known: {', '.join(LEARNERS)}") from None


def fit(name: str, X: ArrayLike, y: ArrayLike) -> Classifier:
    """``LEARNERS[name].fit(X, y)``."""
    return _learner(name).fit(X, y)


def predict(name: str, train_X: ArrayLike, train_y: ArrayLike, test_X: ArrayLike) -> np.ndarray:
    """``LEARNERS[name].predict(train_X, train_y, test_X)``."""
    return _learner(name).predict(train_X, train_y, test_X)


def learner_circuit(
    name: str, X: ArrayLike, y: ArrayLike, convention: Convention = "sign"
) -> Circuit | None:
    """The circuit of the classifier learner ``name`` outputs on ``(X, y)``, or ``None`` if it has
    no natural circuit (``nearest``)."""
    return fit(name, X, y).circuit(convention)
