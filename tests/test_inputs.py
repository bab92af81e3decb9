"""simulators/inputs.py: each limit holds exactly at its boundary, the safe loaders agree
with the plain ones on ordinary documents, and messages are one printable line."""

from __future__ import annotations

import json
import os

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from simulators import inputs
from simulators.inputs import (
    InputError,
    check_name,
    decode_text,
    load_json,
    load_yaml,
    position,
    printable,
    read_bytes,
    shown,
    source_label,
)

any_text = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF,
                                 blacklist_categories=()), max_size=300)


@given(any_text)
def test_printable_and_shown_are_one_printable_line(text):
    assert printable(text).isprintable()
    assert shown(text).isprintable() and len(shown(text)) <= inputs.MAX_QUOTED + 40
    if text.isprintable():
        assert printable(text) == text


@given(st.recursive(st.none() | st.integers() | any_text,
                    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(any_text, inner,
                                                                                 max_size=5)))
def test_shown_of_any_value_is_short(value):
    text = shown(value)
    assert text.isprintable() and len(text) < 1000


@given(st.text(max_size=200), st.data())
def test_position_is_line_and_column(text, data):
    offset = data.draw(st.integers(0, len(text)))
    line, col = position(text, offset)
    before = text[:offset].split("\n")
    assert (line, col) == (len(before), len(before[-1]) + 1)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**30), 10**30) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=30)


@given(json_values, st.booleans())
def test_load_json_agrees_with_json(value, ascii_only):
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert load_json(text, "t") == json.loads(text)


@given(json_values)
def test_load_yaml_agrees_with_safe_load(value):
    text = yaml.safe_dump(value)
    assert load_yaml(text, "t") == yaml.safe_load(text)


@pytest.mark.parametrize("loader, wrap", [(load_json, ("[", "]")), (load_yaml, ("[", "]")),
                                          (load_yaml, ("- ", ""))])
def test_depth_limit_is_exact(loader, wrap):
    def doc(depth):
        open_, close = wrap
        if open_ == "- ":  # block sequences: one level per indented line, [] innermost
            return "".join(f"{'  ' * i}-\n" for i in range(depth - 2)) + \
                f"{'  ' * (depth - 2)}- []\n"
        return open_ * depth + close * depth
    loader(doc(inputs.MAX_DEPTH), "t")
    with pytest.raises(InputError, match=f"deeper than {inputs.MAX_DEPTH} levels") as e:
        loader(doc(inputs.MAX_DEPTH + 1), "t")
    assert e.value.line is not None and e.value.col is not None


@pytest.mark.parametrize("loader", [load_json, load_yaml])
def test_integer_limit_is_exact(loader):
    ok = "9" * inputs.MAX_INT_DIGITS
    assert loader(f"[{ok}]", "t") == [int(ok)]
    with pytest.raises(InputError, match=f"{inputs.MAX_INT_DIGITS + 1} digits") as e:
        loader(f"[1, -{ok}9]", "t")
    assert (e.value.line, e.value.col) == (1, 5)
    assert loader("[1.5e+400, 0.000000000000000000000000000001]", "t")[0] == float("inf")


def test_yaml_alias_expansion_limit():
    width = 10
    lines = ["a0: &a0 [" + ", ".join(["x"] * width) + "]"]
    for i in range(1, 5):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    load_yaml("\n".join(lines[:4]), "t")  # ~11,000 nodes: allowed
    with pytest.raises(InputError, match="aliases are expanded") as e:
        load_yaml("\n".join(lines), "t")  # ~111,000 nodes
    assert e.value.line == 5


@pytest.mark.parametrize("text, where", [
    ('{"a": 1,\n "a": 2}', (2, 2)),
    ('{"x": {"b": 1, "b": 2}}', (1, 16)),
])
def test_json_duplicate_keys_are_located(text, where):
    with pytest.raises(InputError, match="duplicate key") as e:
        load_json(text, "t")
    assert (e.value.line, e.value.col) == where


def test_json_strings_do_not_confuse_the_scanner():
    text = json.dumps({"k": "[[[[{" * 100, "a": ["]", "}"], "b": "\\\"["})
    assert load_json(text, "t") == json.loads(text)


def test_read_bytes_limit_is_exact(tmp_path):
    p = tmp_path / "f"
    p.write_bytes(b"x" * 100)
    assert read_bytes(p, 100) == b"x" * 100
    with pytest.raises(InputError, match="100 bytes, more than the limit of 99"):
        read_bytes(p, 99)
    with pytest.raises(InputError, match="is a directory"):
        read_bytes(tmp_path, 10)
    with pytest.raises(InputError, match="no such file"):
        read_bytes(tmp_path / "missing", 10)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_read_bytes_of_an_endless_device_is_bounded():
    with pytest.raises(InputError, match="more than 1,000 bytes"):
        read_bytes("/dev/zero", 1000)


@pytest.mark.parametrize("data, where, byte", [
    (b"ab\ncd\xffe", (2, 3), "0xff at offset 5"),
    ("a\né\n".encode() + b"\xc3", (3, 1), "0xc3 at offset 5"),
    (b"ok\n\xe2\x82", (2, 1), "0xe2 at offset 3"),
])
def test_decode_names_the_bad_byte(data, where, byte):
    with pytest.raises(InputError, match=byte) as e:
        decode_text(data, "f")
    assert (e.value.line, e.value.col) == where


def test_decode_refuses_nul_and_drops_a_bom():
    assert decode_text(b"\xef\xbb\xbfname", "f") == "name"
    with pytest.raises(InputError, match="NUL") as e:
        decode_text(b"a\nb\x00", "f")
    assert (e.value.line, e.value.col) == (2, 2)


@pytest.mark.parametrize("name, ok", [("A", True), ("q0.x", True), ("a b", True),
                                      ("é", True), ("", False), ("a\nb", False),
                                      ("\x1b", False), ("\ud800", False), ("\u2028", False),
                                      ("x" * 256, True), ("x" * 257, False)])
def test_check_name(name, ok):
    assert (check_name(name, "name") is None) == ok


def test_source_label():
    assert source_label("") == "''"
    assert source_label("a\nb") == "a\\nb"
    long = "d/" * 500
    assert len(source_label(long)) < 200 and source_label(long).startswith("d/d/")


@pytest.mark.parametrize("text, what", [
    ("a: *" + "x" * 100_000, "found undefined alias"),  # found by the thorough fuzz run
    ("a: !" + "y" * 5000 + " x", "could not determine a constructor"),
    ("a: [" + "z" * 5000 + "\n", "YAML error"),
])
def test_yaml_library_messages_are_clipped(text, what):
    with pytest.raises(InputError, match=what) as e:
        load_yaml(text, "m.yaml")
    message = str(e.value)
    assert len(message) < 400 and "\n" not in message and message.startswith("m.yaml:")
