"""Coverage-guided fuzzing of the archive readers with atheris (libFuzzer for Python).

Run by `make fuzz-reader` (atheris is the optional `fuzz` extra); any exception other than a
PyarcError from reading arbitrary bytes as an archive is a finding, and libFuzzer stops and
writes the input that caused it as crash-<hash>. The seeds are the good test archives in
spec/vectors/1.0/good and spec/vectors/2.0/good, copied to build/fuzz-corpus where libFuzzer
adds what it finds.

    python tests/fuzz_reader_atheris.py build/fuzz-corpus -max_total_time=300
"""

import contextlib
import io
import sys
from collections.abc import Iterator

import atheris

with atheris.instrument_imports():
    import archiver
    from archiver.errors import PyarcError
    from archiver.reader import StreamReader


def read_everything(data: bytes) -> None:
    with contextlib.suppress(PyarcError):
        archiver.decompress(data)
    with contextlib.suppress(PyarcError):
        for _, chunks in StreamReader(io.BytesIO(data)).deliveries():
            for _ in chunks if isinstance(chunks, Iterator) else ():
                pass


if __name__ == "__main__":
    atheris.Setup(sys.argv, read_everything)
    atheris.Fuzz()
