"""Rendering a `BenchReport`: rich tables, markdown, CSV and a chart, each a pure function of
the report. Plotting imports matplotlib lazily, so it stays an optional extra (`pyarc[plot]`).
"""

from __future__ import annotations

import csv
import importlib
import io
import math
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from archiver.errors import PyarcError
from archiver.lab.measure import LEGEND, BenchReport, FileReport, Result, finite
from archiver.lab.methods import EXECUTABLE, PYARC_CODEC, PYARC_CONTAINER, PYTHON

BEST_MARK = "★ best"
COLUMNS = ("method", "kind", "bytes", "bpc", "ratio", "compress MB/s", "decompress MB/s",
           "compress ÷ zlib-6", "decompress ÷ zlib-6", "round trip", "best")


def _fixed(value: float | None, digits: int = 3) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def _figure(value: float | None) -> str:
    """A speed or speed ratio with about three significant digits."""
    if value is None or not math.isfinite(value):
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 0.1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def _round_trip(result: Result) -> str:
    return "ok" if result.ok else f"FAILED ({result.error})"


def row(result: Result) -> list[str]:
    """One result as the cells of COLUMNS."""
    return [result.method, result.kind,
            f"{result.size:,}" if result.size is not None else "-",
            _fixed(result.bpc), _fixed(result.ratio, 4),
            _figure(result.compress_mbps), _figure(result.decompress_mbps),
            _figure(result.compress_vs_reference), _figure(result.decompress_vs_reference),
            _round_trip(result), BEST_MARK if result.best else ""]


def describe(report: FileReport) -> str:
    """One line: the file, its size, the entropy estimate, the best method and the gap."""
    parts = [f"{report.name}: {report.size:,} bytes"]
    if report.estimate_bytes is not None:
        parts.append(f"entropy estimate {report.estimate_bytes:,} bytes "
                     f"({_fixed(report.estimate_bpc)} bpc)")
    best = report.best
    if best is None:
        parts.append("no method succeeded")
    else:
        parts.append(f"best {best.method} {best.size:,} bytes ({_fixed(best.bpc)} bpc)")
        if report.best_over_estimate is not None:
            parts.append(f"best ÷ estimate {_fixed(report.best_over_estimate)}")
    return "; ".join(parts)


def summary_rows(report: BenchReport) -> list[list[str]]:
    """Per file: name, bytes, estimate bpc, best method, its bpc, best ÷ estimate."""
    rows = []
    for item in [*report.files, report.total] if len(report.files) > 1 else report.files:
        best = item.best
        rows.append([item.name, f"{item.size:,}", _fixed(item.estimate_bpc),
                     best.method if best else "-", _fixed(best.bpc) if best else "-",
                     _fixed(item.best_over_estimate)])
    return rows


SUMMARY_COLUMNS = ("file", "bytes", "estimate bpc", "best", "best bpc", "best ÷ estimate")


#: In a terminal narrower than this, the tables leave out `kind` and `ratio` (bpc ÷ 8).
WIDE = 150
#: Terminal headers, on two lines where they are long, and shorter in a narrow terminal.
HEADERS = {"compress MB/s": "compress\nMB/s", "decompress MB/s": "decompress\nMB/s",
           "compress ÷ zlib-6": "compress\n÷ zlib-6", "decompress ÷ zlib-6": "decompress\n÷ zlib-6",
           "round trip": "round\ntrip"}
NARROW_HEADERS = {"compress MB/s": "comp\nMB/s", "decompress MB/s": "decomp\nMB/s",
                  "compress ÷ zlib-6": "comp\n÷zlib-6", "decompress ÷ zlib-6": "decomp\n÷zlib-6",
                  "round trip": "round\ntrip"}


def tables(report: BenchReport, width: int = WIDE) -> list[Any]:
    """rich renderables: a table per file, the totals over all files, and the summary; for a
    terminal `width` columns wide (narrower than WIDE: without `kind` and `ratio`)."""
    from rich import box
    from rich.table import Table

    wide = width >= WIDE
    headers = HEADERS if wide else NARROW_HEADERS
    out: list[Any] = []
    numeric = {"bytes", "bpc", "ratio"} | {name for name in COLUMNS
                                           if "MB/s" in name or "÷" in name}
    shown = [index for index, column in enumerate(COLUMNS)
             if wide or column not in ("kind", "ratio")]
    items = [*report.files, report.total] if len(report.files) > 1 else report.files
    for item in items:
        table = Table(title=describe(item), title_justify="left",
                      box=box.HEAVY_HEAD if wide else box.SIMPLE_HEAD)
        rows = [row(result) for result in item.results]
        for index in shown:
            column = COLUMNS[index]
            # Figures are never cut: when the terminal is too narrow, method names are.
            fixed = column in numeric or column == "best"
            table.add_column(headers.get(column, column), overflow="fold",
                             no_wrap=column != "round trip",
                             min_width=max((len(cells[index]) for cells in rows), default=1)
                             if fixed else 5 if column == "round trip" else None,
                             justify="right" if column in numeric else "left")
        for result, cells in zip(item.results, rows, strict=True):
            table.add_row(*(cells[index] for index in shown),
                          style="bold" if result.best else None)
        out.append(table)
    if len(report.files) > 1:
        summary = Table(title="per file: best result and entropy estimate", title_justify="left")
        for column in SUMMARY_COLUMNS:
            summary.add_column(column, justify="left" if column in ("file", "best") else "right",
                               overflow="fold")
        for cells in summary_rows(report):
            summary.add_row(*cells)
        out.append(summary)
    return out


def _markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]],
                    right: Callable[[str], bool]) -> list[str]:
    def escape(cell: str) -> str:
        return cell.replace("|", "\\|")

    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---:" if right(name) else "---" for name in header) + "|"]
    lines += ["| " + " | ".join(escape(cell) for cell in cells) + " |" for cells in rows]
    return lines


def markdown(report: BenchReport) -> str:
    """The totals table (or the one file's), the per-file summary, and bits per byte per file
    and method with the best in bold."""

    def right(name: str) -> bool:
        return name not in ("method", "kind", "round trip", "best", "file")

    out: list[str] = []
    main = report.total if len(report.files) > 1 else report.files[0]
    out += [f"**{describe(main)}**", ""]
    rows = []
    for result in main.results:
        cells = row(result)
        if result.best:
            cells[0], cells[2] = f"**{cells[0]}**", f"**{cells[2]}**"
        rows.append(cells)
    out += _markdown_table(COLUMNS, rows, right)
    if len(report.files) > 1:
        out += ["", "Per file: the best result and the entropy estimate", ""]
        out += _markdown_table(SUMMARY_COLUMNS, summary_rows(report),
                               lambda name: name not in ("file", "best"))
        out += ["", "Bits per byte per file (best in bold)", ""]
        methods = [result.method for result in report.total.results]
        matrix = []
        for item in report.files:
            cells = [item.name, f"{item.size:,}", _fixed(item.estimate_bpc)]
            for result in item.results:
                cell = _fixed(result.bpc) if result.ok else "failed"
                cells.append(f"**{cell}**" if result.best else cell)
            matrix.append(cells)
        out += _markdown_table(["file", "bytes", "estimate", *methods], matrix,
                               lambda name: name != "file")
    out += ["", f"Best of {report.repeat} run{'s' if report.repeat != 1 else ''}. {LEGEND} "
            f"{executables_line(report)}."]
    return "\n".join(out) + "\n"


def executables_line(report: BenchReport) -> str:
    """Which archiver executables were found on PATH (and measured unless --no-external)."""
    found = ", ".join(name for name, where in report.executables.items() if where)
    missing = ", ".join(name for name, where in report.executables.items() if not where)
    return f"Executables on PATH: {found or 'none'}" + (f"; not found: {missing}" if missing
                                                          else "")


CSV_FIELDS = ("file", "original", "method", "kind", "size", "bpc", "ratio", "compress_mbps",
              "decompress_mbps", "compress_vs_zlib6", "decompress_vs_zlib6", "round_trip",
              "error", "best", "estimate_bytes", "best_over_estimate")


def to_csv(report: BenchReport) -> str:
    """One row per (file, method); the totals are left to the reader."""
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for item in report.files:
        for result in item.results:
            values = result.as_dict()
            writer.writerow({
                **{key: values[key] for key in CSV_FIELDS if key in values},
                "file": item.name, "estimate_bytes": item.estimate_bytes,
                "best_over_estimate": finite(item.best_over_estimate) if result.best else None,
            })
    return out.getvalue()


def _label_rows(results: Sequence[Result], speed: str) -> list[tuple[Result, int]]:
    """Each point with how many text lines its label moves down so that labels of points close
    together (gzip-9 and zlib-9, say) do not overprint one another."""
    points = [(result, math.log10(getattr(result, speed)), result.bpc or 0.0)
              for result in results if getattr(result, speed)]
    if not points:
        return []
    xs, ys = [x for _, x, _ in points], [y for _, _, y in points]
    width, height = (max(xs) - min(xs)) or 1.0, (max(ys) - min(ys)) or 1.0
    placed: list[tuple[float, float]] = []
    rows = []
    for result, x, y in sorted(points, key=lambda point: (-point[2], point[1])):
        down = 0
        while any(abs(x - px) / width < 0.12 and abs(y - py - down * 0.028 * height) / height
                  < 0.028 for px, py in placed):
            down += 1
        placed.append((x, y - down * 0.028 * height))
        rows.append((result, down))
    return rows


PLOT_NEEDS = "--plot needs matplotlib (pip install 'pyarc[plot]')"


def check_plotting() -> None:
    """Raise a PyarcError naming the extra to install when matplotlib is missing."""
    try:
        importlib.import_module("matplotlib")
    except ImportError:
        raise PyarcError(PLOT_NEEDS) from None


def plot(report: BenchReport, path: str | os.PathLike[str], title: str = "") -> None:
    """Size against speed, one point per method (but `store`), over all files: bits per byte
    against compress and against decompress MB/s (log scale), written as a PNG."""
    check_plotting()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    item = report.total if len(report.files) > 1 else report.files[0]
    # `store` (8 bits per byte at memcpy speed) would only stretch both axes.
    done = [result for result in item.results
            if result.ok and result.bpc is not None and result.method != "store"]
    colours = {PYARC_CODEC: "tab:red", PYARC_CONTAINER: "tab:purple", PYTHON: "tab:blue",
               EXECUTABLE: "tab:green"}
    figure, axes = plt.subplots(1, 2, figsize=(13, 6), sharey=True)
    for axis, label, speed in ((axes[0], "compress", "compress_mbps"),
                               (axes[1], "decompress", "decompress_mbps")):
        for kind, colour in colours.items():
            points = [(getattr(result, speed), result.bpc) for result in done
                      if result.kind == kind and getattr(result, speed)]
            if points:
                axis.scatter(*zip(*points, strict=True), c=colour, label=kind, s=36)
        for result, lines_down in _label_rows(done, speed):
            axis.annotate(result.method + (" ★" if result.best else ""),
                          (getattr(result, speed), result.bpc), textcoords="offset points",
                          xytext=(4, 3 - 9 * lines_down), fontsize=8,
                          fontweight="bold" if result.best else "normal")
        axis.set_xscale("log")
        axis.set_xlabel(f"{label} MB/s (log scale; best of {report.repeat})")
        axis.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("bits per byte (lower is better)")
    if item.estimate_bpc is not None:
        for axis in axes:
            axis.axhline(item.estimate_bpc, color="grey", linestyle="--", linewidth=1,
                         label="entropy estimate")
    axes[1].legend(loc="best", fontsize=8)
    figure.suptitle(title or f"pyarc bench: {describe(item)}", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
