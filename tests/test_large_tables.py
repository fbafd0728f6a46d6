"""plugins/coding/large_tables.py: zeroed tables for models, on huge pages where granted."""

from __future__ import annotations

import ctypes
import mmap
import sys
from array import array
from pathlib import Path

import pytest

from pyarc_plugins.coding import large_tables
from pyarc_plugins.coding.large_tables import HUGE_PAGE, zeroed

THP_SETTING = Path("/sys/kernel/mm/transparent_hugepage/enabled")


@pytest.mark.parametrize("nbytes", [0, 1, 4096, HUGE_PAGE - 4, HUGE_PAGE, 3 * HUGE_PAGE + 8])
@pytest.mark.parametrize("item", ["B", "I", "H"])
def test_zeroed_is_zero_writable_and_of_its_item(nbytes: int, item: str) -> None:
    size = array(item).itemsize
    nbytes -= nbytes % size
    table = zeroed(nbytes, item)
    assert table.format == item and table.nbytes == nbytes and len(table) == nbytes // size
    assert not table.readonly
    assert not any(table[:: max(1, len(table) // 997)])
    if len(table) > 1:
        table[0], table[-1] = 5, 7
        assert (table[0], table[1], table[-1]) == (5, 0 if len(table) > 2 else 7, 7)


def test_two_tables_share_no_memory() -> None:
    # A shared mapping would still be private to this process, but two tables must never alias.
    first, second = zeroed(HUGE_PAGE), zeroed(HUGE_PAGE)
    first[123] = 1
    assert second[123] == 0


def test_without_huge_page_support_a_bytearray_serves(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(mmap, "MADV_HUGEPAGE", raising=False)
    table = zeroed(4 * HUGE_PAGE)
    assert isinstance(table.obj, bytearray) and table.nbytes == 4 * HUGE_PAGE


def test_a_refused_advice_keeps_the_mapping(monkeypatch: pytest.MonkeyPatch) -> None:
    if not hasattr(mmap, "MADV_HUGEPAGE"):
        pytest.skip("this platform's mmap has no MADV_HUGEPAGE")

    class Refusing(mmap.mmap):
        def madvise(self, *args: int) -> None:
            raise OSError(22, "Invalid argument")

    monkeypatch.setattr(large_tables.mmap, "mmap", Refusing)
    table = zeroed(HUGE_PAGE)
    assert isinstance(table.obj, Refusing) and not any(table[::4096])


def _anon_huge_kib(address: int) -> int:
    """AnonHugePages of the mapping that holds `address`, from /proc/self/smaps."""
    inside = False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()[0]
        if "-" in head and not head.endswith(":"):
            start, end = (int(part, 16) for part in head.split("-"))
            inside = start <= address < end
        elif inside and head == "AnonHugePages:":
            return int(line.split()[1])
    return 0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="huge pages as Linux grants them")
def test_a_large_table_gets_huge_pages_where_the_system_grants_them() -> None:
    setting = THP_SETTING.read_text() if THP_SETTING.exists() else "[never]"
    if "[never]" in setting:
        pytest.skip(f"this system grants no huge pages ({THP_SETTING}: {setting.strip()})")
    table = zeroed(8 * HUGE_PAGE)
    for i in range(0, len(table), 4096):  # touch every page, as a model's look-ups do
        table[i] = 1
    address = ctypes.addressof(ctypes.c_char.from_buffer(table.obj))
    # Of a 16 MiB mapping, at least the 2 MiB-aligned pages inside it are huge.
    assert _anon_huge_kib(address) >= 6 * (HUGE_PAGE >> 10)
