"""Grouping for solid blocks: what kind of data a file holds, and the order of the data.

`pack` concatenates the data of regular files into one stream that is cut into solid blocks,
each compressed alone. What shares a block, and in which order, decides how much the codec can
learn from one file for the next. This module decides both, from a file's name and the first
HEAD_SIZE bytes of its content:

- `kind_of(name, head)`: the file's *kind*, a short string "family/detail" such as
  "text/python", "bytecode/python", "executable/elf", "compressed/png" or "binary". The content
  decides the family (a magic number, or whether the bytes look like text), so a file without an
  extension, or with a misleading one, is judged by what it holds; the extension only names the
  language of a text file (and decides alone when the head is empty);
- `group_of(kind)`: the *group*, what may share a solid block. A new block starts where the
  group changes, so that `auto` picks a codec per group: text (with the bytecode compiled from
  it), binary, executable, compressed;
- which codecs `auto` tries on a block of each group is not decided here: the plugins say
  (hookspecs.auto_candidates; pyarc's own choice and its measurements are in
  plugins/policy.py); how big a solid block may grow is format.DEFAULT_BLOCK_SIZE;
- `data_order(name, kind)`: the sort key of a file's data: group, then a name key that puts
  the files of one module side by side (`x.py`, `__pycache__/x.*.pyc`; `x.c`, `x.h`).

Why bytecode goes with text (measured on the Python stdlib packages with their `__pycache__`,
ppm order 16): a `.pyc` repeats the names, strings and docstrings of its `.py`, so
one block holding both is smaller than the two kinds apart (1,307,049 bytes against 1,380,028).
Inside a group, module order matters once the group spans several solid blocks: the copies a
`.pyc` shares with its `.py` then stay in one block (docs/solid.md has the tables).

All functions are pure, and fast: no regular expressions, one zlib call at most per file, and
only for binary data that no magic number names.
"""

from __future__ import annotations

import sys
import zlib

#: The bytes of a file's start that `kind_of` looks at.
HEAD_SIZE = 4096

#: Groups in the order their data appears in the stream; a kind outside them falls in BINARY.
TEXT, BINARY, EXECUTABLE, COMPRESSED = "text", "binary", "executable", "compressed"
GROUPS = (TEXT, BINARY, EXECUTABLE, COMPRESSED)
_GROUP_RANK = {group: rank for rank, group in enumerate(GROUPS)}

#: The language of a text file, by its extension (lower case, without the dot).
TEXT_LANGUAGES = {
    **dict.fromkeys(("py", "pyi", "pyw", "pyx", "pxd"), "python"),
    **dict.fromkeys(("c", "h", "cc", "cpp", "cxx", "hh", "hpp", "hxx", "inl"), "c"),
    **dict.fromkeys(("s", "asm"), "assembly"),
    **dict.fromkeys(("js", "mjs", "cjs", "ts", "tsx", "jsx"), "javascript"),
    **dict.fromkeys(("java", "kt", "scala"), "java"),
    **dict.fromkeys(("rs",), "rust"),
    **dict.fromkeys(("go",), "go"),
    **dict.fromkeys(("sh", "bash", "zsh", "fish"), "shell"),
    **dict.fromkeys(("pl", "pm", "rb", "lua", "tcl", "php"), "script"),
    **dict.fromkeys(("html", "htm", "xhtml", "xml", "xsd", "xsl", "svg", "plist"), "markup"),
    **dict.fromkeys(("css", "scss"), "css"),
    **dict.fromkeys(("json", "yaml", "yml", "toml", "ini", "cfg", "conf", "csv", "tsv"), "data"),
    **dict.fromkeys(("md", "rst", "txt", "tex", "1", "5", "8", "man"), "prose"),
}
#: What a file with no head (empty, or unread) is taken to be, by its extension.
BINARY_EXTENSIONS = {
    **dict.fromkeys(("pyc", "pyo"), "bytecode/python"),
    **dict.fromkeys(("class",), "bytecode/java"),
    **dict.fromkeys(("so", "o", "ko", "elf"), "executable/elf"),
    **dict.fromkeys(("a", "lib"), "executable/ar"),
    **dict.fromkeys(("exe", "dll", "sys", "pyd"), "executable/pe"),
    **dict.fromkeys(("dylib",), "executable/macho"),
    **dict.fromkeys(("gz", "tgz", "zip", "whl", "jar", "png", "jpg", "jpeg", "gif", "webp",
                     "xz", "txz", "bz2", "tbz", "zst", "7z", "rar", "lz4", "mp3", "mp4", "ogg"),
                    "compressed"),
}

#: Magic numbers at offset 0, and the kind they name. Checked before anything else: they are
#: what the content says, whatever the name says.
MAGICS = (
    (b"\x7fELF", "executable/elf"),
    (b"!<arch>\n", "executable/ar"),  # a static library: object files
    (b"\xfe\xed\xfa\xce", "executable/macho"), (b"\xce\xfa\xed\xfe", "executable/macho"),
    (b"\xfe\xed\xfa\xcf", "executable/macho"), (b"\xcf\xfa\xed\xfe", "executable/macho"),
    (b"\x1f\x8b", "compressed/gzip"),
    (b"PK\x03\x04", "compressed/zip"), (b"PK\x05\x06", "compressed/zip"),
    (b"\x89PNG\r\n\x1a\n", "compressed/png"),
    (b"\xff\xd8\xff", "compressed/jpeg"),
    (b"GIF87a", "compressed/gif"), (b"GIF89a", "compressed/gif"),
    (b"\xfd7zXZ\x00", "compressed/xz"),
    (b"\x28\xb5\x2f\xfd", "compressed/zstd"),
    (b"7z\xbc\xaf\x27\x1c", "compressed/7z"),
    (b"Rar!\x1a\x07", "compressed/rar"),
    (b"\x04\x22\x4d\x18", "compressed/lz4"),
)
_ALL_MAGICS = tuple(magic for magic, _ in MAGICS)
#: Control bytes that text holds: tab, line feed, vertical tab, form feed, carriage return, ESC.
_TEXT_CONTROLS = b"\t\n\x0b\x0c\r\x1b"
_CONTROLS = bytes(byte for byte in range(32) if byte not in _TEXT_CONTROLS) + b"\x7f"
#: Text: no NUL byte, and at most one byte in TEXT_MAX_CONTROL_SHARE another control byte.
TEXT_MAX_CONTROL_SHARE = 50
#: High entropy: zlib's fastest level saves less than 1/INCOMPRESSIBLE_SHARE of the head (a head
#: of at least MIN_ENTROPY_HEAD bytes; smaller ones say too little to judge).
INCOMPRESSIBLE_SHARE = 32
MIN_ENTROPY_HEAD = 512
#: Interpreters named on a script's first line (`#!/usr/bin/env python3`), and their language.
SHEBANGS = (("python", "python"), ("bash", "shell"), ("/sh", "shell"), ("perl", "script"),
            ("ruby", "script"), ("node", "javascript"))


def extension(name: str) -> str:
    """The last extension of a name, lower case and without the dot ('' for none)."""
    base = name.rpartition("/")[2]
    dot = base.rfind(".")
    return base[dot + 1:].lower() if dot > 0 else ""


def looks_like_text(head: bytes) -> bool:
    """No NUL byte and few other control bytes: text in ASCII, UTF-8 or any 8-bit encoding."""
    if b"\x00" in head:
        return False
    controls = len(head) - len(head.translate(None, _CONTROLS))
    return controls * TEXT_MAX_CONTROL_SHARE <= len(head)


def _is_python_bytecode(head: bytes) -> bool:
    """A .pyc header: a 16-bit magic number of Python 3 (3000-3999), then CR LF."""
    return len(head) >= 16 and head[2:4] == b"\r\n" and 3000 <= head[0] | head[1] << 8 < 4000


def _is_pe(head: bytes) -> bool:
    """'MZ', and the offset at 0x3c points at the PE signature inside the head (a real one
    lies in the first few hundred bytes; text that starts with 'MZ' does not have it)."""
    if not head.startswith(b"MZ") or len(head) < 0x40:
        return False
    offset = int.from_bytes(head[0x3C:0x40], "little")
    return head[offset:offset + 4] == b"PE\x00\x00"


def _sniff_binary(head: bytes) -> str | None:
    """The kind a binary head's magic number names, or None."""
    if head.startswith(_ALL_MAGICS):  # one call rules out most files
        return next(kind for magic, kind in MAGICS if head.startswith(magic))
    if _is_python_bytecode(head):
        return "bytecode/python"
    if head.startswith(b"\xca\xfe\xba\xbe") and len(head) >= 8:
        # Java classes and fat Mach-O binaries share this magic; a fat binary's next word is
        # its small count of architectures, a class file's its version (45 and up).
        return "executable/macho" if int.from_bytes(head[4:8], "big") < 45 else "bytecode/java"
    if _is_pe(head):
        return "executable/pe"
    return None


def _language(name: str, head: bytes) -> str:
    language = TEXT_LANGUAGES.get(extension(name))
    if language:
        return language
    if head.startswith(b"#!"):
        first_line = head[:128].split(b"\n", 1)[0]
        for word, named in SHEBANGS:
            if word.encode() in first_line:
                return named
    return "plain"


def kind_of(name: str, head: bytes) -> str:
    """The kind of a file, from its name and its first bytes (HEAD_SIZE are enough).

    The content decides first: a magic number (ELF, ar, PE, Mach-O, Python or Java bytecode,
    gzip, zip, png, jpeg, gif, xz, zstd, 7z, rar, lz4); then text, whose language the
    extension or a `#!` line names ("text/python", "text/c", ..., "text/plain"); then binary
    that zlib cannot shrink ("compressed"); else "binary". An empty head (an empty file) is
    judged by the extension alone. Kinds are interned: a tree of a million files holds one
    string per kind, not per file.
    """
    if not head:
        ext = extension(name)
        if ext in TEXT_LANGUAGES:
            return sys.intern("text/" + TEXT_LANGUAGES[ext])
        return BINARY_EXTENSIONS.get(ext, "binary")
    sniffed = _sniff_binary(head)
    if sniffed:
        return sniffed
    if looks_like_text(head):
        return sys.intern("text/" + _language(name, head))
    if len(head) >= MIN_ENTROPY_HEAD and (
            len(zlib.compress(head, 1)) * INCOMPRESSIBLE_SHARE
            >= len(head) * (INCOMPRESSIBLE_SHARE - 1)):
        return "compressed"
    return "binary"


def group_of(kind: str) -> str:
    """The group of a kind: what may share a solid block with it.

    Bytecode shares the text group: it repeats the identifiers and strings of its source.
    """
    family = kind.partition("/")[0]
    if family == "bytecode":
        return TEXT
    return family if family in _GROUP_RANK else BINARY


def name_key(name: str) -> tuple[str, str, str]:
    """The files of one module side by side: (folder, stem, name), where a `__pycache__`
    folder counts as its parent and the stem is the name up to its first dot, so that
    `pkg/x.py` and `pkg/__pycache__/x.cpython-311.opt-1.pyc` get the same folder and stem."""
    folder, _, base = name.rpartition("/")
    parent, _, last = folder.rpartition("/")
    if last == "__pycache__":
        folder = parent
    # A folder's files share its string while a million of these keys are sorted.
    return sys.intern(folder), base.partition(".")[0], name


def data_order(name: str, kind: str) -> tuple[int, str, str, str]:
    """The sort key of a file's data in the stream: its group (in GROUPS order), then name_key.

    Sorting by it makes each group one run, and puts a module's files side by side inside its
    group, whatever their kinds: with solid blocks of 4 MiB, a `.py` beside its `.pyc` files
    packs 4.5% smaller than all `.py` first and all `.pyc` after (the stdlib packages).
    """
    return (_GROUP_RANK[group_of(kind)], *name_key(name))
