"""Seeded data generators and the CSV dataset format.

Examples are ``x in {-1,1}^d`` and labels ``y in {-1,1}`` (the paper's setting, §2). Arrays are
``numpy.int64``: ``X`` has shape ``(m, d)``, ``y`` shape ``(m,)``.

Generators take ``seed`` (an ``int`` or a ``numpy.random.Generator``); the same seed always gives
the same data. :func:`all_points` orders the cube so that row ``a`` has ``x_k = -1`` exactly when
bit ``k`` of ``a`` is 1, which is the row order of :func:`simulators.circuits.evaluate_all` under
the sign-bit circuit convention of :mod:`simulators.learners`.

CSV format (the command-line dataset files)
-------------------------------------------
``TRAIN.csv``: one example per line, ``d`` comma-separated values then the label; ``TEST.csv``:
``d`` values per line. No header, no comments. Each field, after stripping surrounding
whitespace, must be exactly ``-1``, ``1`` or ``+1``. ``d`` is fixed by the first line (for a test
file read together with a training file, by the training file). Limits: ``1 <= d <= MAX_D``,
``1 <= m <= MAX_M`` training examples, ``1 <= n <= MAX_TEST_POINTS`` test points.

Blank lines (empty or whitespace only) are allowed only at the end of the file, where they are
ignored (so a final newline, or several, is fine); a blank line followed by more data is an
error, since it usually means a truncated or concatenated file. Files are read as UTF-8 (a
leading byte-order mark is ignored; at most :data:`~simulators.inputs.MAX_CSV_BYTES`, so an
endless special file is refused); ``\\r\\n`` line ends are accepted.

Every reading problem raises :class:`DatasetError` (a ``ValueError``) with a one-line message
``FILE:LINE: what is wrong`` (or ``FILE: ...`` when no line applies), where ``FILE`` is the path
as given, e.g. ``train.csv:3: field 4 is '2', expected -1 or 1``. Fields are numbered from 1.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from simulators.inputs import MAX_CSV_BYTES, InputError, read_text, shown

__all__ = [
    "MAX_ALL_POINTS_D",
    "MAX_D",
    "MAX_M",
    "MAX_TEST_POINTS",
    "DatasetError",
    "ParityDataset",
    "all_points",
    "check_examples",
    "check_labels",
    "format_test",
    "format_train",
    "parity_labels",
    "parse_test",
    "parse_train",
    "random_dataset",
    "random_parity",
    "read_test",
    "read_train",
    "read_train_test",
    "write_test",
    "write_train",
]

MAX_D = 64
"""Largest number of coordinates ``d`` a CSV dataset may have."""
MAX_M = 4096
"""Largest number of training examples ``m`` in a ``TRAIN.csv``."""
MAX_TEST_POINTS = 65536
"""Largest number of points in a ``TEST.csv``."""
MAX_ALL_POINTS_D = 20
""":func:`all_points` refuses ``d`` above this (``2**20`` points)."""

_VALUES = {"1": 1, "+1": 1, "-1": -1}

PathLike = str | os.PathLike[str]
Seed = int | np.random.Generator


class DatasetError(ValueError):
    """A malformed dataset file or text; the message is one line naming file and line."""


# --------------------------------------------------------------------------- validation


def check_examples(X: ArrayLike, *, name: str = "X", d: int | None = None) -> np.ndarray:
    """``X`` as an ``int64`` array of shape ``(m, d)`` with entries in ``{-1, 1}``.

    ``m = 0`` is allowed, ``d = 0`` is not. If ``d`` is given the width must match. Raises
    ``ValueError`` otherwise.
    """
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (m, d), got shape {arr.shape}")
    if arr.shape[1] == 0:
        raise ValueError(
            f"{name} must have at least one coordinate (d >= 1), got shape {arr.shape}"
        )
    if d is not None and arr.shape[1] != d:
        raise ValueError(f"{name} has d = {arr.shape[1]} coordinates, expected {d}")
    return _pm1(arr, name)


def check_labels(y: ArrayLike, m: int, *, name: str = "y") -> np.ndarray:
    """``y`` as an ``int64`` array of shape ``(m,)`` with entries in ``{-1, 1}``."""
    arr = np.asarray(y)
    if arr.ndim != 1 or arr.shape[0] != m:
        raise ValueError(f"{name} must have shape ({m},), got {arr.shape}")
    return _pm1(arr, name)


def _pm1(arr: np.ndarray, name: str) -> np.ndarray:
    if arr.size == 0:
        return arr.astype(np.int64).reshape(arr.shape)
    if arr.dtype == bool or not (
        np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)
    ):
        raise ValueError(f"{name} must hold the numbers -1 and 1, got dtype {arr.dtype}")
    bad = (arr != 1) & (arr != -1)
    if np.any(bad):
        raise ValueError(f"{name} entries must be -1 or 1, found {arr[bad].flat[0].item()!r}")
    return arr.astype(np.int64)


# --------------------------------------------------------------------------- generators


class ParityDataset(NamedTuple):
    """A parity dataset: ``y[a] = prod_{i in S} X[a, i]`` (before any label noise)."""

    X: np.ndarray
    y: np.ndarray
    S: tuple[int, ...]


def _rng(seed: Seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int or a numpy Generator, got {seed!r}")
    return np.random.default_rng(int(seed))


def _count(name: str, value: int, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def parity_labels(X: ArrayLike, S: Iterable[int]) -> np.ndarray:
    """``prod_{i in S} X[:, i]`` for each row (``+1`` for the empty set)."""
    X_ = check_examples(X)
    idx = sorted(set(int(i) for i in S))
    for i in idx:
        if not 0 <= i < X_.shape[1]:
            raise ValueError(f"index {i} is not a coordinate in range({X_.shape[1]})")
    return np.prod(X_[:, idx], axis=1, dtype=np.int64)


def random_dataset(d: int, m: int, *, seed: Seed = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)``: ``m`` uniform points of ``{-1,1}^d`` with independent uniform labels."""
    _count("d", d, 1)
    _count("m", m, 0)
    rng = _rng(seed)
    X = rng.choice(np.array([-1, 1], dtype=np.int64), size=(m, d))
    y = rng.choice(np.array([-1, 1], dtype=np.int64), size=m)
    return X, y


def random_parity(d: int, k: int, m: int, *, noise: float = 0.0, seed: Seed = 0) -> ParityDataset:
    """A random parity problem (§3's motivating example).

    ``S`` is a uniform ``k``-subset of ``range(d)`` (returned sorted), ``X`` has ``m`` uniform rows
    and ``y = prod_{i in S} x_i``; then each label is flipped independently with probability
    ``noise`` (``0 <= noise <= 1``).
    """
    _count("d", d, 1)
    _count("m", m, 0)
    _count("k", k, 0)
    if k > d:
        raise ValueError(f"k = {k} exceeds d = {d}")
    if not 0.0 <= noise <= 1.0:
        raise ValueError(f"noise must be a probability in [0, 1], got {noise!r}")
    rng = _rng(seed)
    S = tuple(sorted(int(i) for i in rng.choice(d, size=k, replace=False)))
    X = rng.choice(np.array([-1, 1], dtype=np.int64), size=(m, d))
    y = parity_labels(X, S) if m else np.zeros(0, dtype=np.int64)
    if noise > 0.0:
        flips = rng.random(m) < noise
        y = np.where(flips, -y, y)
    return ParityDataset(X, y, S)


def all_points(d: int) -> np.ndarray:
    """All ``2**d`` points of ``{-1,1}^d``; row ``a`` has ``x_k = -1`` iff ``a`` has bit ``k``."""
    _count("d", d, 1)
    if d > MAX_ALL_POINTS_D:
        raise ValueError(f"all_points is limited to d <= {MAX_ALL_POINTS_D}, got d = {d}")
    a = np.arange(1 << d, dtype=np.int64)[:, None]
    bits = (a >> np.arange(d, dtype=np.int64)) & 1
    return 1 - 2 * bits


# --------------------------------------------------------------------------- CSV writing


def _row(values: Iterable[int]) -> str:
    return ",".join("1" if v == 1 else "-1" for v in values)


def format_train(X: ArrayLike, y: ArrayLike) -> str:
    """The ``TRAIN.csv`` text for ``(X, y)`` (``1``/``-1``, one line per example, final newline)."""
    X_ = check_examples(X)
    y_ = check_labels(y, X_.shape[0])
    return "".join(_row([*row, label]) + "\n" for row, label in zip(X_.tolist(), y_.tolist()))


def format_test(X: ArrayLike) -> str:
    """The ``TEST.csv`` text for ``X``."""
    X_ = check_examples(X)
    return "".join(_row(row) + "\n" for row in X_.tolist())


def write_train(path: PathLike, X: ArrayLike, y: ArrayLike) -> None:
    """Write ``(X, y)`` to ``path`` in the ``TRAIN.csv`` format."""
    Path(path).write_text(format_train(X, y), encoding="ascii")


def write_test(path: PathLike, X: ArrayLike) -> None:
    """Write ``X`` to ``path`` in the ``TEST.csv`` format."""
    Path(path).write_text(format_test(X), encoding="ascii")


# --------------------------------------------------------------------------- CSV reading


def _data_lines(text: str, source: str) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` for the data lines, one at a time (no list of every line);
    rejects blank lines before the end."""
    blank: int | None = None  # first blank line since the last data line
    for i, line in enumerate(io.StringIO(text.removeprefix("\ufeff"), newline="\n"),
                             start=1):
        line = line.rstrip("\n").rstrip("\r")
        if not line.strip():
            if blank is None:
                blank = i
            continue
        if blank is not None:
            raise DatasetError(
                f"{source}:{blank}: blank line before the end of the file "
                "(only trailing blank lines are allowed)"
            )
        yield i, line


def _parse_rows(
    text: str,
    source: str,
    *,
    label: bool,
    d: int | None,
    d_source: str | None,
    limit: int,
    what: str,
) -> tuple[np.ndarray, int]:
    """Parse rows of ``d`` values (plus a label when ``label``); returns ``(rows, d)``."""
    extra = 1 if label else 0
    first_line: int | None = None
    rows: list[list[int]] = []
    for count, (ln, line) in enumerate(_data_lines(text, source), start=1):
        if first_line is None:
            first_line = ln
        if count > limit:
            raise DatasetError(f"{source}:{ln}: more than {limit} {what}s (the limit)")
        n = line.count(",") + 1  # counted before splitting: a huge line is never split
        if d is None:
            if n - extra < 1:
                raise DatasetError(
                    f"{source}:{ln}: 1 field, expected at least 2 (d >= 1 values and a label)"
                )
            if n - extra > MAX_D:
                raise DatasetError(
                    f"{source}:{ln}: {n - extra:,} values per {what}, more than the limit "
                    f"d <= {MAX_D}"
                )
            d = n - extra
        elif n != d + extra:
            if label:
                why = f"d = {d} values and a label, as on line {first_line}"
            elif d_source is not None:
                why = f"d = {d} from {d_source}"
            else:
                why = f"d = {d}, as on line {first_line}"
            plural = "field" if n == 1 else "fields"
            raise DatasetError(f"{source}:{ln}: {n:,} {plural}, expected {d + extra} ({why})")
        row = []
        for j, field in enumerate(line.split(","), start=1):
            token = field.strip()
            value = _VALUES.get(token)
            if value is None:
                name = f"field {j} (the label)" if label and j == n else f"field {j}"
                shown_token = "is empty" if not token else f"is {shown(token)}"
                raise DatasetError(f"{source}:{ln}: {name} {shown_token}, expected -1 or 1")
            row.append(value)
        rows.append(row)
    if not rows:
        raise DatasetError(f"{source}: no {what}s (the file is empty or blank)")
    assert d is not None
    return np.array(rows, dtype=np.int64).reshape(len(rows), d + extra), d


def parse_train(text: str, source: str = "train.csv") -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` from ``TRAIN.csv`` text; ``source`` names it in error messages."""
    rows, d = _parse_rows(
        text, source, label=True, d=None, d_source=None, limit=MAX_M, what="example"
    )
    return rows[:, :d], rows[:, d].copy()


def parse_test(
    text: str, source: str = "test.csv", *, d: int | None = None, d_source: str | None = None
) -> np.ndarray:
    """``X`` from ``TEST.csv`` text. If ``d`` is given (e.g. from the training file named
    ``d_source``) every line must have ``d`` values."""
    rows, _ = _parse_rows(
        text,
        source,
        label=False,
        d=d,
        d_source=d_source,
        limit=MAX_TEST_POINTS,
        what="test point",
    )
    return rows


def _read_text(path: PathLike) -> str:
    try:
        return read_text(path, MAX_CSV_BYTES, "CSV file")
    except InputError as e:
        raise DatasetError(str(e)) from None


def read_train(path: PathLike) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` from a ``TRAIN.csv`` file (see the module docstring for the format)."""
    return parse_train(_read_text(path), os.fspath(path))


def read_test(path: PathLike, *, d: int | None = None, d_source: str | None = None) -> np.ndarray:
    """``X`` from a ``TEST.csv`` file; with ``d``, each line must have ``d`` values."""
    return parse_test(_read_text(path), os.fspath(path), d=d, d_source=d_source)


def read_train_test(
    train_path: PathLike, test_path: PathLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(X, y, X_test)``; the test file must have the training file's ``d``."""
    X, y = read_train(train_path)
    X_test = read_test(test_path, d=X.shape[1], d_source=os.fspath(train_path))
    return X, y, X_test
