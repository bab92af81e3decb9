"""The cell encoding: named digits of one number, laid out in exactly one place.

Each grid cell carries a single real value (Definition 5 has a single channel). A cell's
*fields* (tape symbol, whether the head is here, the machine state, ...) are the digits of
that value in a mixed radix, least significant first::

    value = sum_i digit_i * scale_i,      scale_0 = 1,  scale_{i+1} = scale_i * radix_i

The paper writes these fields as base-3 digits; we use one digit per field with the field's
own radix, which is the same idea with fewer wasted codes (see docs/tm_compiler.md).
Every code value is an integer, so it is exact in any binary floating-point format whose
mantissa holds the largest code.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    """One digit of the cell value: ``name`` takes values ``0 .. radix-1``."""

    name: str
    radix: int
    doc: str = ""


class EncodingError(ValueError):
    """A value is not a valid cell code, or a digit is out of range."""


@dataclass(frozen=True)
class CellEncoding:
    """A mixed-radix layout of named fields, with a validity predicate on digit tuples.

    ``valid(digits)`` says which digit combinations are codes (e.g. "no head ⇒ state 0");
    invalid combinations are never produced by the network and are rejected by decoders.
    """

    fields: tuple[Field, ...]
    valid: Callable[[Mapping[str, int]], bool] = lambda digits: True

    @functools.cached_property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @functools.cached_property
    def scales(self) -> dict[str, int]:
        out, scale = {}, 1
        for f in self.fields:
            out[f.name] = scale
            scale *= f.radix
        return out

    @property
    def span(self) -> int:
        """Number of digit combinations, valid or not (one more than the largest raw code)."""
        n = 1
        for f in self.fields:
            n *= f.radix
        return n

    def encode(self, **digits: int) -> int:
        """The code of the given digits (missing fields are 0)."""
        unknown = set(digits) - set(self.names)
        if unknown:
            raise EncodingError(f"unknown field(s) {sorted(unknown)}; fields are {self.names}")
        full = {f.name: digits.get(f.name, 0) for f in self.fields}
        for f in self.fields:
            if not 0 <= full[f.name] < f.radix:
                raise EncodingError(
                    f"field {f.name!r} = {full[f.name]} is outside 0..{f.radix - 1}"
                )
        if not self.valid(full):
            raise EncodingError(f"digits {full} are not a valid combination")
        scales = self.scales
        return sum(full[n] * scales[n] for n in self.names)

    def decode(self, code: int) -> dict[str, int]:
        """The digits of ``code``; raises :class:`EncodingError` if it is not a valid code."""
        if code != int(code) or not 0 <= code < self.span:
            raise EncodingError(f"{code!r} is not an integer code in 0..{self.span - 1}")
        rest, digits = int(code), {}
        for f in self.fields:
            rest, digits[f.name] = divmod(rest, f.radix)
        if not self.valid(digits):
            raise EncodingError(f"code {code} has invalid digits {digits}")
        return digits

    def codes(self) -> list[int]:
        """Every valid code, ascending."""
        out = []
        for combo in itertools.product(*(range(f.radix) for f in self.fields)):
            digits = dict(zip(self.names, combo))
            if self.valid(digits):
                out.append(self.encode(**digits))
        return sorted(out)

    def table(self, rows: Iterable[int] | None = None) -> list[dict[str, int]]:
        """A worked table: one dict per code with the code and its digits (for docs)."""
        return [{"code": c, **self.decode(c)} for c in (self.codes() if rows is None else rows)]
