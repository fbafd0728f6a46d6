"""`pyarc entropy` and archiver/lab/entropy.py: each measure against values worked out by hand on
small inputs, random data judged incompressible, and the command's output and errors."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import numpy as np
import pytest
from conftest import RunCli, assert_one_error_line, corpus_file

from archiver.lab.entropy import (
    DEFAULT_ORDER,
    MAX_ORDER,
    adaptive_code_length,
    empirical_entropy,
    estimate,
)


def symbols(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.uint8)


def test_h0_by_hand() -> None:
    """H0 of 'aab' is -(2/3 log2 2/3 + 1/3 log2 1/3); of one repeated byte, 0; of all 256
    values once each, 8."""
    expected = -(2 / 3 * math.log2(2 / 3) + 1 / 3 * math.log2(1 / 3))
    assert empirical_entropy(symbols(b"aab"), 0) == pytest.approx(expected)
    assert empirical_entropy(symbols(b"x" * 100), 0) == 0
    assert empirical_entropy(symbols(bytes(range(256))), 0) == pytest.approx(8)


def test_conditional_entropy_by_hand() -> None:
    """In 'abab...' each byte follows from the one before: H1 = 0 while H0 = 1. In 'aabb'
    (a zero byte before the start), the contexts are 0->a, a->a, a->b, b->b: context a is
    split evenly, so H1 = 2 bits / 4 bytes = 0.5."""
    assert empirical_entropy(symbols(b"ab" * 50), 1) == 0
    assert empirical_entropy(symbols(b"ab" * 50), 0) == pytest.approx(1)
    assert empirical_entropy(symbols(b"aabb"), 1) == pytest.approx(0.5)


def test_adaptive_code_length_by_hand() -> None:
    """Order 0, KT: the first byte of 'ab' costs -log2(0.5/128) = 8 bits, the second
    -log2(0.5/129); 'aa' second byte -log2(1.5/129). Order 1 of 'aa': two fresh contexts
    (zero, then 'a'), 8 bits each."""
    first = -math.log2(0.5 / 128)
    assert adaptive_code_length(symbols(b"ab"), 0) == pytest.approx(
        (first - math.log2(0.5 / 129)) / 2)
    assert adaptive_code_length(symbols(b"aa"), 0) == pytest.approx(
        (first - math.log2(1.5 / 129)) / 2)
    assert adaptive_code_length(symbols(b"aa"), 1) == pytest.approx(8)


def test_adaptive_code_length_learns() -> None:
    """A run of n bytes costs about 127.5 log2(n) bits in all (the price of the KT prior's
    255 unused symbols), far below a bit per byte; a higher order sees a periodic pattern
    that order 0 cannot."""
    assert 0.05 < adaptive_code_length(symbols(b"z" * 10_000), 0) < 0.15
    periodic = symbols(bytes(range(16)) * 1000)
    assert adaptive_code_length(periodic, 1) < 1 < 3.9 < adaptive_code_length(periodic, 0)


def test_random_bytes_are_incompressible() -> None:
    """1 MB of random bytes: H3 looks small (1M samples of 16M contexts) but is descriptive;
    the estimate of the achievable is at least 7.99 bits per byte (8: store it)."""
    data = random.Random(1).randbytes(1 << 20)
    report = estimate(data, max_order=3)
    assert report.empirical[2].name == "H3" and report.empirical[2].bits_per_byte < 1
    assert report.achievable_bits_per_byte >= 7.99
    assert report.achievable_bytes >= 0.999 * len(data)
    assert "incompressible" in report.reasoning


def test_text_estimate_is_an_achieved_code_length() -> None:
    """On text, the estimate is the shortest of the achievable code lengths, below H0."""
    data = (Path(__file__).resolve().parents[1] / "README.md").read_bytes()
    report = estimate(data, max_order=2)
    achievable = [measure.bits_per_byte for measure in report.adaptive]
    assert report.achievable_bits_per_byte == min(achievable) < report.h0
    assert any(measure.name.endswith("model") for measure in report.adaptive)


def test_empty_input() -> None:
    report = estimate(b"")
    assert report.size == 0 and report.achievable_bytes == 0


def test_cli_table_and_json(tmp_path: Path, run_cli: RunCli) -> None:
    """The table names every measure and the estimate; --json has them per file."""
    text = tmp_path / "text.txt"
    text.write_bytes(b"the quick brown fox jumps over the lazy dog. " * 200)
    noise = tmp_path / "noise.bin"
    noise.write_bytes(random.Random(4).randbytes(20_000))
    code, out, err = run_cli("entropy", "--max-order", "2", text, noise)
    assert code == 0, err
    for label in (b"H0", b"H1", b"H2", b"adaptive order 0", b"adaptive order 2",
                  b"estimated achievable"):
        assert label in out
    code, out, err = run_cli("entropy", "--json", "-k", "1", text, noise)
    assert code == 0, err
    reports = json.loads(out)
    assert set(reports) == {str(text), str(noise)}
    assert reports[str(noise)]["achievable_bits_per_byte"] == 8.0
    assert reports[str(text)]["achievable_bytes"] < 0.2 * text.stat().st_size
    assert [m["name"] for m in reports[str(text)]["empirical"]] == ["H1"]


def test_cli_errors(tmp_path: Path, run_cli: RunCli) -> None:
    """A missing file is one error line and exit 1; a folder or a bad order, exit 2."""
    code, _, err = run_cli("entropy", tmp_path / "missing")
    assert code == 1
    assert "missing" in assert_one_error_line(err)
    code, _, err = run_cli("entropy", tmp_path)
    assert code == 2
    assert "directory" in assert_one_error_line(err)
    (tmp_path / "f").write_bytes(b"abc")
    code, _, err = run_cli("entropy", "-k", "9", tmp_path / "f")
    assert code == 2
    assert "max-order" in assert_one_error_line(err)


def test_cli_states_the_orders_of_the_lab() -> None:
    """The CLI declares --max-order without importing the laboratory: its default and the bound
    in its help are those of archiver.lab.entropy."""
    import inspect

    import archiver.cli

    option = inspect.signature(archiver.cli.entropy).parameters["max_order"]
    assert option.default == DEFAULT_ORDER
    assert f"(0 to {MAX_ORDER})" in str(option.annotation)


@pytest.mark.corpus
def test_estimate_is_near_the_best_pyarc_reaches(corpus_dir: Path) -> None:
    """On every Calgary file the estimated achievable size is within 10% of the smallest
    payload of any installed codec (the estimate is a code length a coder attains, so it is
    never far above it; a model much better than the codecs would show as far below)."""
    from archiver.plugins import registry

    for name in ("bib", "geo", "obj1", "paper2", "pic", "progp", "trans"):
        data = corpus_file(corpus_dir, name)
        best = min(len(registry().create(codec).encode(data)) for codec in registry().names())
        estimated = estimate(data, max_order=3).achievable_bytes
        assert abs(estimated / best - 1) <= 0.10, (name, estimated, best)
