"""Mutation operators: turn a valid input (text or bytes) into a hostile one.

Every operator takes a seeded ``random.Random`` and returns new bytes; :func:`mutate` applies
one to three of them. Besides generic byte edits (flip, insert, delete, truncate, duplicate
a span) there are the shapes that broke the parsers before: huge integers, deep nesting,
alias bombs, names holding a newline, a control character or a lone surrogate, NUL bytes,
invalid UTF-8, long tokens, byte-order marks and CRLF line ends.
"""

from __future__ import annotations

import random
import re

HOSTILE_TOKENS: tuple[str, ...] = (
    "9" * 5000, "-" + "9" * 400, "1" * 101, "0", "-1", "4294967296", "1e999", "nan", "-0",
    "1_000", "0x" + "f" * 300, "NaN", ".inf", "~", "null", "true", "yes", "''", '""',
    "A\nB", "\t", "\x00", "\x1b[31m", "\u2028", "\u200b", "\ufeff", "\ud800", "\udfff",
    "é", "名前", "😀", '"\\ud800"', '"A\\nB"', '"\\x1b"', "\\udc80", "$self", "*", "#",
    ":", ",", "=", "(", ")", "[", "]", "{", "}",
    "&a", "*a", "!!binary", "!!python/object:os.system", "<<", "---", "...", "%YAML 1.1",
    "Z", "HALT", "halt", "x" * 100_000, " " * 300, "_" * 50, "---" * 80,
)
"""Tokens dropped into inputs: numbers past every limit, YAML specials, separators of every
format, names that are not printable, and very long tokens."""


def _span(rng: random.Random, n: int) -> tuple[int, int]:
    if n == 0:
        return 0, 0
    i = rng.randrange(n)
    return i, min(n, i + rng.choice((1, 1, 2, 4, 16, 64, 512)))


def flip(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return bytes([rng.randrange(256)])
    b = bytearray(data)
    i = rng.randrange(len(b))
    b[i] ^= 1 << rng.randrange(8)
    return bytes(b)


def insert_byte(rng: random.Random, data: bytes) -> bytes:
    i = rng.randrange(len(data) + 1)
    byte = rng.choice([0, 0xFF, 0xC3, 0x80, 0x0A, 0x0D, 0x09, 0x1B, 0x7F, 0x22, 0x27,
                       rng.randrange(256)])
    return data[:i] + bytes([byte]) + data[i:]


def delete(rng: random.Random, data: bytes) -> bytes:
    i, j = _span(rng, len(data))
    return data[:i] + data[j:]


def truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def duplicate(rng: random.Random, data: bytes) -> bytes:
    i, j = _span(rng, len(data))
    times = rng.choice((2, 3, 10, 100))
    return data[:i] + data[i:j] * times + data[j:]


def splice_token(rng: random.Random, data: bytes) -> bytes:
    """Replace one token (a run of word characters) by a hostile token."""
    text = data.decode("utf-8", "surrogateescape")
    tokens = list(re.finditer(r"[\w.+-]+", text))
    token = rng.choice(HOSTILE_TOKENS)
    if not tokens:
        out = token + text
    else:
        m = rng.choice(tokens)
        out = text[: m.start()] + token + text[m.end():]
    try:
        return out.encode("utf-8", "surrogateescape")  # bytes that were invalid stay so
    except UnicodeEncodeError:
        return out.encode("utf-8", "surrogatepass")  # a lone surrogate: invalid UTF-8 bytes


def insert_token(rng: random.Random, data: bytes) -> bytes:
    i = rng.randrange(len(data) + 1)
    return data[:i] + rng.choice(HOSTILE_TOKENS).encode("utf-8", "surrogatepass") + data[i:]


def nest(rng: random.Random, data: bytes) -> bytes:
    """Wrap the text (or insert) thousands of brackets: deep nesting."""
    depth = rng.choice((65, 100, 1000, 3000))
    open_, close = rng.choice([("[", "]"), ("{a: ", "}"), ('{"a": ', "}"), ("- ", "")])
    i = rng.randrange(len(data) + 1)
    return data[:i] + (open_ * depth + close * depth).encode() + data[i:]


def alias_bomb(rng: random.Random, data: bytes) -> bytes:
    levels = rng.choice((4, 6, 9))
    width = rng.choice((4, 9))
    lines = ["b0: &b0 [" + ", ".join(["x"] * width) + "]"]
    for k in range(1, levels):
        lines.append(f"b{k}: &b{k} [" + ", ".join([f"*b{k - 1}"] * width) + "]")
    field = rng.choice(("states", "symbols", "name", "transitions", "expect", "halt"))
    lines.append(f"{field}: *b{levels - 1}")
    bomb = ("\n".join(lines) + "\n").encode()
    return bomb + data if rng.random() < 0.5 else data + b"\n" + bomb


def line_ends(rng: random.Random, data: bytes) -> bytes:
    choice = rng.randrange(4)
    if choice == 0:
        return data.replace(b"\n", b"\r\n")
    if choice == 1:
        return b"\xef\xbb\xbf" + data
    if choice == 2:
        return data.replace(b"\n", b"\r")
    return data.replace(b"\n", b"\n\n")


def invalid_utf8(rng: random.Random, data: bytes) -> bytes:
    i = rng.randrange(len(data) + 1)
    bad = rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80\x80"])
    return data[:i] + bad + data[i:]


OPERATORS = (flip, insert_byte, delete, truncate, duplicate, splice_token, splice_token,
             insert_token, nest, alias_bomb, line_ends, invalid_utf8)


def mutate(rng: random.Random, data: bytes, max_bytes: int = 1 << 20) -> bytes:
    """One to three random operators applied to ``data`` (result cut at ``max_bytes``)."""
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        data = rng.choice(OPERATORS)(rng, data)
        if len(data) > max_bytes:
            data = data[:max_bytes]
    return data
