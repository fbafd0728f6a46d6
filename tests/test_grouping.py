"""archiver/grouping.py: the kind of a file is judged by its content first (a misleading or
missing extension does not fool it), kinds fall in the right groups, and the data order puts
groups and the files of one module together."""

from __future__ import annotations

import gzip
import importlib.util
import lzma
import py_compile
import random
import sys
import zlib
from pathlib import Path

import pytest

from archiver.grouping import (
    BINARY,
    COMPRESSED,
    EXECUTABLE,
    GROUPS,
    HEAD_SIZE,
    TEXT,
    data_order,
    extension,
    group_of,
    kind_of,
    looks_like_text,
    name_key,
)
from archiver.levels import CODED_LEVELS, DEFAULT_LEVEL
from archiver.plugins import registry

ROOT = Path(__file__).resolve().parents[1]
NOISE = random.Random(18).randbytes(HEAD_SIZE)
#: Binary that is not noise: a table of little-endian integers.
TABLE = b"".join(n.to_bytes(4, "little") for n in range(HEAD_SIZE // 4))


def pe_head() -> bytes:
    head = bytearray(512)
    head[:2] = b"MZ"
    head[0x3C:0x40] = (0x80).to_bytes(4, "little")
    head[0x80:0x84] = b"PE\x00\x00"
    return bytes(head)


@pytest.mark.parametrize(("name", "head", "kind"), [
    ("lib.txt", b"\x7fELF\x02\x01\x01" + bytes(64), "executable/elf"),
    ("libpython3.11.a", b"!<arch>\n/               0           0     0     0       8" + bytes(8),
     "executable/ar"),
    ("app.dat", pe_head(), "executable/pe"),
    ("tool", b"\xcf\xfa\xed\xfe" + bytes(60), "executable/macho"),
    ("fat", b"\xca\xfe\xba\xbe\x00\x00\x00\x02" + bytes(56), "executable/macho"),
    ("A.bin", b"\xca\xfe\xba\xbe\x00\x00\x00\x3d" + bytes(56), "bytecode/java"),
    ("notes.txt", gzip.compress(b"hello " * 100), "compressed/gzip"),
    ("data.py", lzma.compress(b"x" * 1000), "compressed/xz"),
    ("a.c", b"PK\x03\x04" + NOISE[:100], "compressed/zip"),
    ("pic", b"\x89PNG\r\n\x1a\n" + NOISE[:100], "compressed/png"),
    ("photo.txt", b"\xff\xd8\xff\xe0" + NOISE[:100], "compressed/jpeg"),
    ("x", b"\x28\xb5\x2f\xfd" + NOISE[:100], "compressed/zstd"),
    ("x", b"7z\xbc\xaf\x27\x1c" + NOISE[:100], "compressed/7z"),
    ("mod.txt", importlib.util.MAGIC_NUMBER + bytes(12) + b"\xe3" + bytes(40), "bytecode/python"),
])
def test_magic_numbers_win_over_the_extension(name: str, head: bytes, kind: str) -> None:
    assert kind_of(name, head) == kind


@pytest.mark.parametrize(("name", "head", "kind"), [
    ("pkg/mod.py", b"import os\n\ndef f():\n    return 1\n", "text/python"),
    ("include/linux/x.H", b"#ifndef X_H\n#define X_H\n#endif\n", "text/c"),
    ("bin/tool", b"#!/usr/bin/env python3\nprint(1)\n", "text/python"),
    ("configure", b"#!/bin/sh\necho hi\n", "text/shell"),
    ("README", b"Plain words, no extension.\n", "text/plain"),
    ("notes.md", "Caf\u00e9 na\u00efve \u2014 UTF-8.\n".encode(), "text/prose"),
    ("latin.txt", "Caf\u00e9 na\u00efve\n".encode("latin-1"), "text/prose"),
    ("Makefile.in", b"all:\n\tcc -o x x.c\n", "text/plain"),
    ("MZ.txt", b"MZ is a prefix, not an executable here.\n" * 4, "text/prose"),
])
def test_text_is_told_by_content_and_named_by_extension_or_shebang(
        name: str, head: bytes, kind: str) -> None:
    assert kind_of(name, head) == kind


def test_binary_content_under_a_text_extension_is_binary() -> None:
    assert kind_of("table.py", TABLE) == "binary"
    assert kind_of("random.txt", NOISE) == "compressed"  # high entropy, no magic


def test_a_short_binary_head_is_not_judged_compressed() -> None:
    """Too few bytes to tell noise from data: plain binary."""
    assert kind_of("blob", NOISE[:100]) == "binary"


def test_empty_heads_are_judged_by_extension() -> None:
    assert kind_of("a/empty.py", b"") == "text/python"
    assert kind_of("x.cpython-311.pyc", b"") == "bytecode/python"
    assert kind_of("archive.tar.gz", b"") == "compressed"
    assert kind_of("no_extension", b"") == "binary"


def test_text_test_counts_control_bytes() -> None:
    assert looks_like_text(b"a\tb\r\n\x0c\x1b[0m")
    assert not looks_like_text(b"text with a NUL\x00 byte")
    assert not looks_like_text(b"\x01\x02\x03" + b"a" * 50)  # 3 of 53 are control bytes
    assert looks_like_text(b"\x01" + b"a" * 60)


def test_real_files(tmp_path: Path) -> None:
    """The interpreter is ELF (on Linux), its compiled modules bytecode, this README prose."""
    readme = (ROOT / "README.md").read_bytes()[:HEAD_SIZE]
    assert kind_of("README.md", readme) == "text/prose"
    source = tmp_path / "m.py"
    source.write_text("'''doc'''\nX = 1\n")
    compiled = importlib.util.cache_from_source(str(source))
    py_compile.compile(str(source), cfile=compiled, doraise=True)
    assert kind_of("m.pyc", Path(compiled).read_bytes()[:HEAD_SIZE]) == "bytecode/python"
    if sys.platform.startswith("linux"):
        head = Path(sys.executable).resolve().read_bytes()[:HEAD_SIZE]
        assert kind_of("python3", head) == "executable/elf"
    assert kind_of("blob", zlib.compress(NOISE)) == "compressed"


@pytest.mark.parametrize(("kind", "group"), [
    ("text/python", TEXT), ("text/plain", TEXT), ("bytecode/python", TEXT),
    ("bytecode/java", TEXT), ("binary", BINARY), ("executable/elf", EXECUTABLE),
    ("compressed/png", COMPRESSED), ("compressed", COMPRESSED), ("something/new", BINARY),
])
def test_groups(kind: str, group: str) -> None:
    assert group_of(kind) == group


def test_every_group_has_codecs_that_exist_at_every_level() -> None:
    """pyarc's own policy plugin gives `auto` candidates for every group at every level that
    compresses, all installed; without a level, auto runs at the default one."""
    policy = registry().policy.auto
    assert set(policy) == set(CODED_LEVELS)
    for level in CODED_LEVELS:
        assert set(policy[level]) == set(GROUPS)
        for group in GROUPS:
            assert registry().auto_candidates(group, level) == list(policy[level][group])
            for spec in registry().auto_candidates(group, level):
                registry().create(spec)
    for group in GROUPS:
        assert registry().auto_candidates(group) == list(policy[DEFAULT_LEVEL][group])


def test_extension_and_name_key() -> None:
    assert extension("a/b.tar.GZ") == "gz"
    assert extension("a.b/.bashrc") == ""
    assert extension("noext") == ""
    assert name_key("pkg/__pycache__/x.cpython-311.opt-1.pyc")[:2] == ("pkg", "x")
    assert name_key("pkg/x.py")[:2] == ("pkg", "x")
    assert name_key("top.py")[:2] == ("", "top")


def test_data_order_puts_groups_and_modules_together() -> None:
    files = {
        "z/photo.png": "compressed/png",
        "a/lib.so": "executable/elf",
        "a/table.bin": "binary",
        "b/y.py": "text/python",
        "a/x.py": "text/python",
        "a/README": "text/plain",
        "a/__pycache__/x.cpython-311.pyc": "bytecode/python",
        "b/__pycache__/y.cpython-311.opt-2.pyc": "bytecode/python",
        "a/__pycache__/x.cpython-311.opt-1.pyc": "bytecode/python",
        "a/x.h": "text/c",
        "a/x.c": "text/c",
    }
    order = sorted(files, key=lambda name: data_order(name, files[name]))
    assert order == [
        "a/README",
        # bytecode shares the text group, and a module's files are side by side, whatever kind
        "a/__pycache__/x.cpython-311.opt-1.pyc", "a/__pycache__/x.cpython-311.pyc",
        "a/x.c", "a/x.h", "a/x.py",
        "b/__pycache__/y.cpython-311.opt-2.pyc", "b/y.py",
        "a/table.bin",
        "a/lib.so",
        "z/photo.png",
    ]
    groups = [group_of(files[name]) for name in order]
    assert groups == sorted(groups, key=GROUPS.index)  # each group is one run
