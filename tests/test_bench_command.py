"""`pyarc bench`: the output formats, the inputs, the method selection and the errors.

Inputs are a few KB so that every method runs fast; no assertion is about time."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import os
import random
import stat
from pathlib import Path

import pytest
from conftest import RunCli, assert_one_error_line

from archiver.errors import PyarcError, UsageError
from archiver.lab import measure as lab_measure
from archiver.lab import methods as lab_methods
from archiver.lab import report as lab_report
from archiver.plugins import registry

STANDARD = ("zlib-6", "zlib-9", "bz2-9", "lzma-9e")
RESULT_FIELDS = {"method", "kind", "original", "size", "bpc", "ratio", "compress_mbps",
                 "decompress_mbps", "compress_seconds", "decompress_seconds",
                 "compress_vs_zlib6", "decompress_vs_zlib6", "round_trip", "error", "best"}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a text file, a random file and a nested file of runs, a few KB each."""
    root = tmp_path_factory.mktemp("bench") / "data"
    (root / "sub").mkdir(parents=True)
    rng = random.Random(7)
    words = [b"alpha", b"beta", b"gamma", b"delta", b"compress", b"entropy", b"\n"]
    (root / "text.txt").write_bytes(b" ".join(rng.choice(words) for _ in range(800)))
    (root / "random.bin").write_bytes(rng.randbytes(3000))
    (root / "sub" / "runs.bin").write_bytes(b"".join(bytes([rng.randrange(3)]) * rng.randrange(
        1, 40) for _ in range(200)))
    return root


def method_names() -> list[str]:
    return [*registry().names(), *(f"level-{n}" for n in range(10)), "auto", "auto-sample",
            *STANDARD]


def test_table_names_every_method_and_marks_a_best(inputs: Path, run_cli: RunCli) -> None:
    code, out, err = run_cli("bench", inputs / "text.txt")
    assert code == 0, err
    text = out.decode()
    for name in method_names():
        assert name in text, name
    assert lab_report.BEST_MARK in text
    assert "best ÷ estimate" in text
    assert "Executables on PATH" in text
    assert "FAILED" not in text


def test_json_has_every_field_per_file_and_method(inputs: Path, run_cli: RunCli) -> None:
    code, out, err = run_cli("bench", "--json", "--repeat", "2", inputs)
    assert code == 0, err
    report = json.loads(out)
    assert report["repeat"] == 2 and report["reference"] == "zlib-6"
    files = {item["file"]: item for item in report["files"]}
    assert set(files) == {"data/random.bin", "data/sub/runs.bin", "data/text.txt"}
    for item in [*files.values(), report["total"]]:
        methods = [result["method"] for result in item["results"]]
        assert set(method_names()) <= set(methods)
        assert sum(result["best"] for result in item["results"]) == 1
        best = next(result for result in item["results"] if result["best"])
        assert item["best"] == best["method"] and item["best_size"] == best["size"]
        assert best["size"] == min(result["size"] for result in item["results"])
        assert item["estimate_bytes"] > 0
        assert item["best_over_estimate"] == pytest.approx(best["size"] / item["estimate_bytes"])
        for result in item["results"]:
            assert set(result) == RESULT_FIELDS
            assert result["round_trip"] is True and result["error"] is None
            assert result["bpc"] == pytest.approx(8 * result["size"] / item["size"])
            assert result["ratio"] == pytest.approx(result["size"] / item["size"])
            for key in ("compress_mbps", "decompress_mbps", "compress_vs_zlib6",
                        "decompress_vs_zlib6"):
                assert result[key] > 0, key
    assert report["total"]["size"] == sum(item["size"] for item in files.values())
    zlib6 = next(r for r in report["total"]["results"] if r["method"] == "zlib-6")
    assert zlib6["compress_vs_zlib6"] == pytest.approx(1.0)


def test_csv_parses_with_a_row_per_file_and_method(inputs: Path, run_cli: RunCli) -> None:
    code, out, err = run_cli("bench", "--csv", "--codecs", "huffman,auto,zlib-6,bz2-9",
                             inputs / "text.txt", inputs / "random.bin")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out.decode())))
    assert [(row["file"], row["method"]) for row in rows] == [
        (file, method) for file in (str(inputs / "text.txt"), str(inputs / "random.bin"))
        for method in ("huffman", "auto", "zlib-6", "bz2-9")]
    assert set(rows[0]) == set(lab_report.CSV_FIELDS)
    for row in rows:
        assert row["round_trip"] == "True"
        assert int(row["size"]) > 0 and float(row["bpc"]) > 0 and float(row["ratio"]) > 0
        assert float(row["compress_mbps"]) > 0 and float(row["decompress_vs_zlib6"]) > 0
    assert sum(row["best"] == "True" for row in rows) == 2  # one per file


def test_markdown_is_a_table(inputs: Path, run_cli: RunCli) -> None:
    code, out, err = run_cli("bench", "--markdown", "--no-external", inputs)
    assert code == 0, err
    lines = out.decode().splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| method |"))
    assert lines[header + 1].startswith("|---|")
    body = []
    for line in lines[header + 2:]:
        if not line.startswith("|"):
            break
        body.append(line)
    assert [line.split(" | ")[0].strip("|* ") for line in body] == [
        method.name for method in lab_methods.default_methods(external=False)]
    assert all(line.count("|") == len(lab_report.COLUMNS) + 1 for line in body)
    assert sum("★ best" in line for line in body) == 1
    assert any(line.startswith("| file | bytes | estimate bpc |") for line in lines)
    assert any(line.startswith("| data/text.txt |") for line in lines)
    assert not any(line.startswith("| gzip-9 ") for line in lines)  # --no-external
    assert "Executables on PATH: " in lines[-1]


def test_plot_writes_a_png(inputs: Path, tmp_path: Path, run_cli: RunCli) -> None:
    if importlib.util.find_spec("matplotlib") is None:
        pytest.skip("matplotlib is not installed (pip install 'pyarc[plot]')")
    chart = tmp_path / "chart.png"
    code, out, err = run_cli("bench", "--codecs", "lz77,zlib-6,lzma-9e", "--plot", chart,
                             inputs / "text.txt")
    assert code == 0, err
    assert chart.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert f"chart written to {chart}" in err


def test_plot_without_matplotlib_is_one_error_line(inputs: Path, tmp_path: Path,
                                                   run_cli: RunCli) -> None:
    hide = tmp_path / "hide"
    hide.mkdir()
    (hide / "sitecustomize.py").write_text(
        "import sys\n"
        "class _Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'matplotlib' or name.startswith('matplotlib.'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, _Block())\n")
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(hide),
                                                       os.environ.get("PYTHONPATH")]))}
    code, out, err = run_cli("bench", "--plot", tmp_path / "x.png", inputs / "text.txt", env=env)
    assert code == 1
    assert "pip install 'pyarc[plot]'" in assert_one_error_line(err)
    assert not (tmp_path / "x.png").exists()


def test_folder_expands_to_its_files(inputs: Path, run_cli: RunCli) -> None:
    code, out, err = run_cli("bench", "--json", "--codecs", "store", inputs)
    assert code == 0, err
    report = json.loads(out)
    assert [item["file"] for item in report["files"]] == [
        "data/random.bin", "data/sub/runs.bin", "data/text.txt"]
    assert report["total"]["file"] == "all 3 files"


def test_codec_options_and_selection_order(inputs: Path, run_cli: RunCli) -> None:
    code, out, err = run_cli("bench", "--json", "--codecs", "arithmetic:order=1,lz77:level=2",
                             "--codecs", "window=12,zlib-9", inputs / "text.txt")
    assert code == 0, err
    methods = [r["method"] for r in json.loads(out)["files"][0]["results"]]
    assert methods == ["arithmetic:order=1", "lz77:level=2,window=12", "zlib-9"]


def test_missing_file_is_one_error_line(tmp_path: Path, run_cli: RunCli) -> None:
    code, out, err = run_cli("bench", tmp_path / "nothing-here")
    assert code == 1
    assert "nothing-here" in assert_one_error_line(err)
    assert out == b""


def test_empty_folder_is_one_error_line(tmp_path: Path, run_cli: RunCli) -> None:
    code, out, err = run_cli("bench", tmp_path)
    assert code == 1
    assert "no files" in assert_one_error_line(err)


@pytest.mark.parametrize("args", [
    ["--codecs", "nosuchcodec"],
    ["--codecs", "zlib-6,nosuchcodec"],
    ["--codecs", "lz77:nosuchoption=1"],
    ["--codecs", "gzip-9", "--no-external"],
    ["--json", "--csv"],
    ["--repeat", "0"],
])
def test_usage_errors_exit_2(inputs: Path, args: list[str], run_cli: RunCli) -> None:
    code, out, err = run_cli("bench", *args, inputs / "text.txt")
    assert code == 2, err
    assert_one_error_line(err)


def test_unknown_codec_names_it(inputs: Path, run_cli: RunCli) -> None:
    code, out, err = run_cli("bench", "--codecs", "nosuchcodec", inputs / "text.txt")
    assert code == 2
    line = assert_one_error_line(err)
    assert "nosuchcodec" in line and "zlib-6" in line


def test_missing_executable_is_skipped_silently(inputs: Path, tmp_path: Path,
                                                run_cli: RunCli) -> None:
    """With nothing on PATH no executable is measured, and asking for one names it."""
    env = {"PATH": str(tmp_path)}
    code, out, err = run_cli("bench", "--json", inputs / "text.txt", env=env)
    assert code == 0, err
    report = json.loads(out)
    assert not any(r["kind"] == lab_methods.EXECUTABLE for r in report["files"][0]["results"])
    assert all(where is None for where in report["executables"].values())
    code, out, err = run_cli("bench", "--codecs", "xz-9e", inputs / "text.txt", env=env)
    assert code == 1
    assert "xz" in assert_one_error_line(err)


def test_a_method_that_fails_is_reported_not_dropped(tmp_path: Path) -> None:
    def broken_decompress(packed: bytes, size: int) -> bytes:
        return packed[:size] + b"!"

    def crashing(data: bytes) -> bytes:
        raise RuntimeError("boom")

    methods = [lab_methods.Method("liar", "test", lambda d: bytes(d), broken_decompress),
               lab_methods.Method("crash", "test", crashing, broken_decompress),
               *lab_methods.select_methods(["zlib-6"])]
    report = lab_measure.run([("a", b"abc" * 100), ("b", b"xyz" * 50)], methods, entropy=False)
    for item in [*report.files, report.total]:
        liar, crash, zlib6 = item.results
        assert not liar.ok and not crash.ok and zlib6.ok and zlib6.best
    assert report.files[0].results[0].error == "decompressed data differs from the original"
    assert report.files[0].results[1].error == "RuntimeError: boom"
    assert report.total.results[0].error == "failed on 2 of 2 files"
    text = lab_report.markdown(report)
    assert "| liar | test | 300 |" not in text  # the totals: no size for a failed method
    assert "| liar | test | - |" in text and "FAILED (failed on 2 of 2 files)" in text
    assert "| a | 300 | - | failed | failed | **0.400** |" in text
    one = lab_measure.run([("a", b"abc" * 100)], methods, entropy=False)
    assert "| crash | test | - |" in lab_report.markdown(one)
    assert "FAILED (RuntimeError: boom)" in lab_report.markdown(one)
    assert json.loads(json.dumps(report.as_dict()))["total"]["best"] == "zlib-6"


def test_seven_zip_through_temporary_files(inputs: Path, tmp_path: Path,
                                           run_cli: RunCli) -> None:
    """7z is driven through temporary files: a stand-in 7z on PATH (a copy in both directions)
    checks the plumbing where the real one is not installed."""
    fake = tmp_path / "bin" / "7z"
    fake.parent.mkdir()
    fake.write_text(  # `7z a ... ARCHIVE SOURCE`, `7z e -so ... ARCHIVE`
        '#!/bin/sh\nfor last; do :; done\n'
        'if [ "$1" = a ]; then shift $(($# - 2)); cp "$2" "$1"; else cat "$last"; fi\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    env = {"PATH": f"{fake.parent}{os.pathsep}{os.environ['PATH']}"}
    code, out, err = run_cli("bench", "--json", "--codecs", "7z-mx9", inputs / "text.txt",
                             env=env)
    assert code == 0, err
    result = json.loads(out)["files"][0]["results"][0]
    assert result["method"] == "7z-mx9" and result["round_trip"] is True
    assert result["size"] == (inputs / "text.txt").stat().st_size


def test_split_names() -> None:
    assert lab_methods.split_names(["lz77:level=9,window=22,zlib-6", " auto ,", "bz2-9"]) == [
        "lz77:level=9,window=22", "zlib-6", "auto", "bz2-9"]


def test_select_methods_errors() -> None:
    with pytest.raises(UsageError, match="given twice"):
        lab_methods.select_methods(["zlib-6", "zlib-6"])
    with pytest.raises(UsageError, match="unknown method 'zlib'"):
        lab_methods.select_methods(["zlib"])
    with pytest.raises(PyarcError):
        lab_measure.read_inputs(["/nonexistent/pyarc/bench"])


def test_help_and_readme_name_every_standard_method(run_cli: RunCli) -> None:
    code, out, err = run_cli("bench", "--help", env={"COLUMNS": "200"})
    assert code == 0, err
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for candidate in lab_methods.standard_candidates():
        assert candidate.name in out.decode(), candidate.name
        assert f"`{candidate.name}`" in readme, candidate.name
    assert "pyarc[plot]" in out.decode() and "pyarc[plot]" in readme


def test_empty_file(tmp_path: Path, run_cli: RunCli) -> None:
    (tmp_path / "empty").write_bytes(b"")
    code, out, err = run_cli("bench", "--json", "--no-external", tmp_path / "empty")
    assert code == 0, err
    item = json.loads(out)["files"][0]
    assert item["size"] == 0 and item["best_over_estimate"] is None
    assert all(result["round_trip"] and result["bpc"] is None for result in item["results"])


# -- on workers, and resumed ---------------------------------------------------------------------

SOME = "lz77,ppm,zlib-6,bz2-9"


def _sizes(report: dict) -> list[tuple[str, str, int | None]]:  # type: ignore[type-arg]
    return [(file["file"], result["method"], result["size"]) for file in report["files"]
            for result in file["results"]] + [(file["file"], "estimate", file["estimate_bytes"])
                                              for file in report["files"]]


def test_bench_on_worker_processes_measures_the_same(inputs: Path, run_cli: RunCli) -> None:
    code, here, err = run_cli("bench", "--codecs", SOME, "--no-external", "--json", inputs)
    assert code == 0, err
    code, there, err = run_cli("bench", "--codecs", SOME, "--no-external", "--json",
                               "--executor", "processes:2", inputs)
    assert code == 0, err
    assert _sizes(json.loads(there)) == _sizes(json.loads(here))
    assert all(result["compress_vs_zlib6"] for file in json.loads(there)["files"]
               for result in file["results"])


def test_bench_refuses_threads(inputs: Path, run_cli: RunCli) -> None:
    code, _, err = run_cli("bench", "--codecs", SOME, "-e", "threads:2", inputs)
    assert code == 2
    assert "threads" in assert_one_error_line(err)


def test_resume_keeps_each_cell_and_measures_it_once(inputs: Path, tmp_path: Path,
                                                     run_cli: RunCli) -> None:
    kept = tmp_path / "cells.jsonl"
    code, first, err = run_cli("bench", "--codecs", SOME, "--json", "--resume", kept, inputs)
    assert code == 0, err
    lines = kept.read_text().splitlines()
    assert len(lines) == 3 * (1 + 4)  # per file: its estimate and the four methods
    code, again, err = run_cli("bench", "--codecs", SOME, "--json", "--resume", kept, inputs)
    assert code == 0, err
    assert kept.read_text().splitlines() == lines  # nothing measured twice
    assert json.loads(again)["files"] == json.loads(first)["files"]  # times too: as kept


def test_resume_after_a_run_that_died(inputs: Path, tmp_path: Path, run_cli: RunCli) -> None:
    kept = tmp_path / "cells.jsonl"
    code, _, err = run_cli("bench", "--codecs", SOME, "--resume", kept, inputs)
    assert code == 0, err
    lines = kept.read_text().splitlines()
    # A run killed after 6 cells, in the middle of writing the seventh.
    kept.write_text("\n".join(lines[:6]) + "\n" + lines[6][: len(lines[6]) // 2])
    code, out, err = run_cli("bench", "--codecs", SOME, "--json", "--resume", kept, inputs)
    assert code == 0, err
    records = [json.loads(line) for line in kept.read_text().splitlines()[7:]]
    assert sorted(record["cell"] for record in records) == sorted(
        json.loads(line)["cell"] for line in lines[6:])  # the rest, each once
    assert len(json.loads(out)["files"]) == 3


def test_resume_measures_a_changed_file_again(inputs: Path, tmp_path: Path,
                                              run_cli: RunCli) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "f").write_bytes(b"first contents " * 100)
    kept = tmp_path / "cells.jsonl"
    assert run_cli("bench", "--codecs", "lz77", "--resume", kept, data)[0] == 0
    (data / "f").write_bytes(b"other contents " * 100)
    assert run_cli("bench", "--codecs", "lz77", "--resume", kept, data)[0] == 0
    assert len(kept.read_text().splitlines()) == 2 * 3  # estimate, lz77, zlib-6: twice


def test_resume_into_a_folder_is_one_error_line(inputs: Path, tmp_path: Path,
                                                run_cli: RunCli) -> None:
    code, _, err = run_cli("bench", "--codecs", "lz77", "--resume", tmp_path, inputs)
    assert code == 1
    assert "--resume" in assert_one_error_line(err)


def test_inputs_are_read_one_at_a_time_when_measured(inputs: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    found = lab_measure.read_inputs([str(inputs)])
    assert all(isinstance(contents, Path) for _, contents in found)  # nothing read yet
    reads: list[str] = []
    real = lab_measure._read_input

    def counted(item: tuple[str, object]) -> bytes:
        reads.append(item[0])
        return real(item)  # type: ignore[arg-type]

    monkeypatch.setattr(lab_measure, "_read_input", counted)
    methods = lab_methods.select_methods(["lz77", "zlib-6"])
    report = lab_measure.run(found, methods)
    assert reads == [name for name, _ in found]  # each once, in order
    assert [file.size for file in report.files] == [path.stat().st_size for _, path in found]
