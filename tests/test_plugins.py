"""archiver.plugins: codecs arrive through entry points; a broken plugin never takes others down.

The plugins are the plain modules in tests/plugins_for_tests/ (see its README), loaded through
hand-made `importlib.metadata.EntryPoint` objects passed to `load_registry(entry_points=...)`.
"""

from __future__ import annotations

import importlib.metadata
import re
import warnings
from pathlib import Path

import pytest

import archiver
import archiver.cli
from archiver import MissingCodecError
from archiver.codec import kernel_status
from archiver.plugins import KernelWarning, PluginWarning, Registry, load_registry, registry

GROUP = "pyarc.codecs"
FIXTURES = Path(__file__).parent / "plugins_for_tests"
DATA = b"aaaaaaaabbbbbbbbbbbbcccc" * 100 + b"tail"  # repetitive: xorcodec shrinks it


def ep(name: str, module: str) -> importlib.metadata.EntryPoint:
    return importlib.metadata.EntryPoint(name, module, GROUP)


STORE = ep("store", "pyarc_plugins.store")
CODECS = ep("testcodecs", "pt_codecs")


@pytest.fixture(autouse=True)
def fixture_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(FIXTURES))


def load(*entry_points: importlib.metadata.EntryPoint) -> Registry:
    """load_registry, asserting that it warns about nothing."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return load_registry(entry_points=list(entry_points))


def load_warning(
    *entry_points: importlib.metadata.EntryPoint, one_line: bool = True
) -> tuple[Registry, str]:
    """load_registry, asserting exactly one PluginWarning; returns the registry and its text.
    The CLI prints a warning as one `pyarc: warning:` line, so its text must be one line."""
    with pytest.warns(PluginWarning) as caught:
        reg = load_registry(entry_points=list(entry_points))
    messages = [str(w.message) for w in caught if issubclass(w.category, PluginWarning)]
    assert len(messages) == 1, messages
    if one_line:
        assert "\n" not in messages[0]
    return reg, messages[0]


def assert_store_works(reg: Registry) -> None:
    assert "store" in reg
    blob = archiver.compress(DATA, "store", registry=reg)
    assert archiver.decompress(blob, registry=reg) == DATA


# -- isolation of broken plugins ----------------------------------------------------------------


def test_valid_plugins_load_without_warnings() -> None:
    reg = load(STORE, CODECS)
    assert {"store", "xorcodec", "levelcodec", "expander", "kernelcodec"} <= set(reg.names())
    assert reg.get("xorcodec").plugin == "testcodecs"


def test_plugin_that_fails_to_import_is_named_and_others_work() -> None:
    reg, message = load_warning(STORE, ep("kaboom", "pt_broken_import"), CODECS)
    assert "kaboom" in message
    assert "explodes on import" in message  # the cause is reported too
    assert_store_works(reg)
    assert "xorcodec" in reg  # loaded after the broken one


def test_plugin_whose_module_is_missing_is_named() -> None:
    reg, message = load_warning(STORE, ep("ghost", "pt_no_such_plugin_module"))
    assert "ghost" in message
    assert_store_works(reg)


def test_plugin_whose_hook_raises_is_named_and_others_work() -> None:
    reg, message = load_warning(STORE, ep("raiser", "pt_hook_raises"), CODECS)
    assert "raiser" in message and "cannot register" in message
    assert_store_works(reg)
    assert "xorcodec" in reg


def test_plugin_whose_hook_has_a_wrong_signature_is_named() -> None:
    reg, message = load_warning(STORE, ep("badsig", "pt_bad_hook_signature"), one_line=False)
    assert "badsig" in message
    assert_store_works(reg)


def test_warning_for_a_wrong_hook_signature_is_one_line() -> None:
    load_warning(STORE, ep("badsig", "pt_bad_hook_signature"), one_line=True)


def test_registering_non_codecs_warns_per_object_and_keeps_the_valid_one() -> None:
    with pytest.warns(PluginWarning) as caught:
        reg = load_registry(entry_points=[STORE, ep("junk", "pt_not_a_codec")])
    messages = [str(w.message) for w in caught if issubclass(w.category, PluginWarning)]
    assert len(messages) == 3, messages  # object(), a duck-typed class, an instance
    assert all("junk" in m and "Codec" in m for m in messages)
    assert "duck" not in reg
    assert "fine-after-junk" in reg
    assert_store_works(reg)


def test_codec_with_invalid_name_is_refused() -> None:
    reg, message = load_warning(STORE, ep("badname", "pt_invalid_name"))
    assert "badname" in message and "Bad Name" in message
    assert "Bad Name" not in reg
    assert "good-name" in reg  # the plugin's valid codec still arrives
    assert_store_works(reg)


def test_codec_with_invalid_option_default_is_refused() -> None:
    reg, message = load_warning(STORE, ep("baddefault", "pt_invalid_default"))
    assert "baddefault" in message and "level" in message
    assert "baddefault" not in reg.names()
    assert_store_works(reg)


def test_codec_with_option_name_a_block_header_cannot_hold_is_refused() -> None:
    reg, message = load_warning(STORE, ep("badoptname", "pt_invalid_option_name"))
    assert "badoptname" in message and "Level" in message
    assert "badoptname" not in reg


def test_codec_whose_kernel_module_is_missing_is_isolated() -> None:
    with pytest.warns(PluginWarning, match="nokernel"):
        reg = load_registry(entry_points=[STORE, ep("nokernel", "pt_missing_kernel")])
    for found in reg:  # what `pyarc codecs` does for every codec
        kernel_status(found.codec)
    assert_store_works(reg)


def test_two_plugins_with_one_codec_name_first_wins_and_both_are_named() -> None:
    reg, message = load_warning(STORE, ep("dup_a", "pt_dup_first"), ep("dup_b", "pt_dup_second"))
    assert "dup_a" in message and "dup_b" in message and "dupcodec" in message
    found = reg.get("dupcodec")
    assert found.plugin == "dup_a"
    assert found.codec.description == "from pt_dup_first"


def test_third_party_cannot_shadow_a_builtin() -> None:
    """A third-party plugin registering 'store' loses to the built-in, which loads first."""
    real = [e for e in importlib.metadata.entry_points(group=GROUP) if e.name == "store"]
    assert real, "pyarc's own entry point for store is missing"
    # "aaa" sorts before "store" by name: only the built-ins-first rule puts store first.
    reg, message = load_warning(ep("aaa", "pt_impostor_store"), *real)
    assert "aaa" in message and "store" in message
    assert reg.get("store").distribution.startswith("pyarc ")
    assert reg.get("store").codec.description != "impostor"
    assert_store_works(reg)


# -- a third-party codec in use -------------------------------------------------------------


def test_third_party_codec_round_trips() -> None:
    reg = load(STORE, CODECS)
    blob = archiver.compress(DATA, "xorcodec", registry=reg)
    assert len(blob) < len(DATA)  # really compressed by xorcodec, not stored
    assert archiver.decompress(blob, registry=reg) == DATA


def test_archive_needing_a_missing_codec(tmp_path: Path) -> None:
    blob = archiver.compress(DATA, "xorcodec", registry=load(STORE, CODECS))
    without = load(STORE)
    with pytest.raises(MissingCodecError, match="xorcodec"):
        archiver.decompress(blob, registry=without)
    path = tmp_path / "x.pyarc"
    path.write_bytes(blob)
    with archiver.open_archive(path, registry=without) as opened:
        [entry] = opened.entries  # listing needs no codec
        assert opened.blocks_of(entry)[0].codec == "xorcodec"
        with pytest.raises(MissingCodecError, match="xorcodec") as raised:
            opened.read(entry)
    assert "\n" not in str(raised.value)
    with pytest.raises(MissingCodecError, match="xorcodec"):
        archiver.api.test(path, registry=without)


def test_unpack_refuses_a_missing_codec_before_writing(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "a-store.txt").write_bytes(b"stored first")
    (tree / "b-xor.txt").write_bytes(DATA)
    path = tmp_path / "x.pyarc"
    archiver.pack([tree], path, codec="xorcodec", registry=load(STORE, CODECS))
    with pytest.raises(MissingCodecError, match="xorcodec"):
        archiver.unpack(path, tmp_path / "out", registry=load(STORE))
    assert not (tmp_path / "out").exists()  # not even the files that needed only store


def test_a_newer_release_reads_the_payloads_of_the_older_one(tmp_path: Path) -> None:
    """The compatibility promise: a plugin that moved to payload version 2 still decodes the
    version 1 blocks an archive of the older release holds, and writes version 2."""
    older, newer = load(STORE, CODECS), load(STORE, ep("xor2", "pt_xor_v2"))
    assert newer.get("xorcodec").codec.versions_read() == [1, 2]
    blob = archiver.compress(DATA, "xorcodec", registry=older)
    assert archiver.decompress(blob, registry=newer) == DATA
    again = archiver.compress(DATA, "xorcodec", registry=newer)
    assert again != blob and archiver.decompress(again, registry=newer) == DATA
    path = tmp_path / "old.pyarc"
    path.write_bytes(blob)
    assert archiver.api.test(path, registry=newer).bytes == len(DATA)


def test_a_payload_of_a_newer_release_asks_for_an_upgrade() -> None:
    blob = archiver.compress(DATA, "xorcodec", registry=load(STORE, ep("xor2", "pt_xor_v2")))
    with pytest.raises(MissingCodecError) as raised:
        archiver.decompress(blob, registry=load(STORE, CODECS))
    message = str(raised.value)
    assert "xorcodec" in message and "payload version 2" in message and "upgrade" in message
    assert re.search(r"reads version 1\)$", message), message


def test_a_version_no_plugin_reads_names_the_versions_read() -> None:
    """A version the codec neither writes nor lists in reads_older (here: one older than the
    oldest it keeps) is refused, naming the versions it does read."""
    newer = load(STORE, ep("xor2", "pt_xor_v2"))
    xor = newer.get("xorcodec")
    dropped = type("XorV3", (xor.codec,), {"version": 3, "reads_older": frozenset({2})})
    registry_v3 = Registry({"store": newer.get("store"), "xorcodec": type(xor)(
        dropped, xor.plugin, xor.distribution)})
    blob = archiver.compress(DATA, "xorcodec", registry=load(STORE, CODECS))  # version 1
    with pytest.raises(MissingCodecError) as raised:
        archiver.decompress(blob, registry=registry_v3)
    message = str(raised.value)
    assert "payload version 1, which no installed plugin reads" in message, message
    assert "reads versions 2, 3" in message


@pytest.mark.parametrize("older", [frozenset({2}), frozenset({-1}), {1}])
def test_a_codec_with_impossible_older_versions_is_refused(older: object) -> None:
    base = load(STORE, ep("xor2", "pt_xor_v2")).get("xorcodec").codec
    bad = type("BadXor", (base,), {"reads_older": older})
    with pytest.raises(ValueError, match="reads_older"):
        archiver.plugins._check_codec_class(bad)


def test_older_versions_need_their_decoder() -> None:
    base = load(STORE, CODECS).get("xorcodec").codec
    bad = type("NoDecoder", (base,), {"version": 2, "reads_older": frozenset({1})})
    with pytest.raises(ValueError, match="decode_older"):
        archiver.plugins._check_codec_class(bad)


# -- uncompiled kernels ---------------------------------------------------------------------


def test_uncompiled_kernel_warns_once_per_registry() -> None:
    reg = load(STORE, CODECS)
    codec_class = reg.get("kernelcodec").codec
    assert kernel_status(codec_class) == "uncompiled"
    assert kernel_status(reg.get("store").codec) == "none"
    with pytest.warns(KernelWarning) as caught:
        first = reg.create("kernelcodec")
        second = reg.create("kernelcodec")
    kernel_warnings = [w for w in caught if issubclass(w.category, KernelWarning)]
    assert len(kernel_warnings) == 1
    assert "kernelcodec" in str(kernel_warnings[0].message)
    assert first.decode(first.encode(b"abc"), 3) == second.decode(second.encode(b"abc"), 3)


def test_codecs_without_kernels_do_not_warn() -> None:
    reg = load(STORE, CODECS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reg.create("store")
        reg.create("xorcodec")


# -- the policy hooks -----------------------------------------------------------------------------


def builtin_entry_points(*names: str) -> list[importlib.metadata.EntryPoint]:
    return [e for e in importlib.metadata.entry_points(group=GROUP) if e.name in names]


def test_policy_of_pyarcs_own_plugins_and_a_third_party_one() -> None:
    """pyarc's policy plugin gives auto its candidates and names the metadata codecs; a
    third-party plugin adds candidates after them (those of codecs not installed are skipped)
    but cannot choose the metadata codecs."""
    reg = load(*builtin_entry_points("store", "lz77", "bwt", "rep", "policy"), CODECS,
               ep("policy_tp", "pt_policy"))
    assert reg.metadata_codecs() == ["lz77", "bwt"]
    assert reg.auto_candidates("binary") == ["rep:order=16", "bwt:stage=cm", "lz77:level=8",
                                             "xorcodec"]
    assert reg.auto_candidates("text") == ["rep:order=16"]
    assert reg.auto_candidates("no such group") == []
    # pyarc's policy answers per level; one that takes no level answers at every level.
    assert reg.auto_candidates("binary", 1) == ["lz77:level=1,coder=huffman", "xorcodec"]


def test_without_the_policy_plugin_auto_tries_everything_and_tables_are_stored() -> None:
    reg = load(*builtin_entry_points("store", "lz77"))
    assert reg.metadata_codecs() == []
    assert reg.auto_candidates("text") == []
    blob = archiver.compress(DATA, registry=reg)  # still works: tables stored
    assert archiver.decompress(blob, registry=reg) == DATA


def test_a_policy_of_the_wrong_shape_is_one_warning() -> None:
    reg, message = load_warning(STORE, CODECS, ep("badpolicy", "pt_bad_policy"))
    assert "badpolicy" in message and "policy" in message
    assert reg.auto_candidates("binary") == []


def test_lazy_registry_is_the_eager_one() -> None:
    """Loading plugins when first needed gives the same codecs, in the same order, from the
    same plugins, as loading them all at once (a codec asked for first, here lz77, included)."""
    lazy = load_registry(lazy=True)
    lz77 = lazy.get("lz77")
    eager = load_registry()
    assert [(f.codec, f.plugin, f.distribution) for f in lazy] == [
        (f.codec, f.plugin, f.distribution) for f in eager]
    assert lz77 == lazy.get("lz77")
    assert lazy.policy == eager.policy


# -- the real, installed registry -------------------------------------------------------------


def test_shipped_plugins_are_pyarcs_entry_points() -> None:
    """pyarc_plugins.PLUGINS, from which the lazy registry loads pyarc's own codecs by name,
    is what pyarc's distribution declares in the entry-point group."""
    from pyarc_plugins import PLUGINS

    declared = {e.name: e.value for e in importlib.metadata.distribution("pyarc").entry_points
                if e.group == GROUP}
    assert declared == PLUGINS


def test_lazy_registry_reads_no_metadata_for_a_codec_of_pyarcs_own(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A built-in codec asked for by name loads without the entry points being read; a name
    that is not built in reads them (and a third-party plugin then joins, ranked after)."""
    import archiver.plugins
    from pyarc_plugins import PLUGINS

    reads = []

    def entry_points(group: str = GROUP) -> list[object]:
        reads.append(group)
        return [*builtin_entry_points(*PLUGINS), CODECS]

    monkeypatch.setattr(archiver.plugins, "installed_entry_points", entry_points)
    lazy = load_registry(lazy=True)
    assert lazy.get("lz77").builtin and reads == []
    assert lazy.get("xorcodec").plugin == "testcodecs" and reads == [GROUP]
    assert [found.builtin for found in lazy] == sorted(found.builtin for found in lazy)[::-1]
    assert lazy.get("lz77") is lazy.get("lz77")



def test_default_registry_has_store_from_its_entry_point() -> None:
    found = registry().get("store")
    assert found.distribution == f"pyarc {archiver.__version__}" == "pyarc 0.1.0"
    assert found.plugin == "store"
    assert found.builtin
    assert found.codec.__module__ == "pyarc_plugins.store"


def test_cli_codecs_survives_a_broken_installed_plugin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import archiver.plugins

    real_entry_points = archiver.plugins.installed_entry_points

    def with_broken(group: str = GROUP) -> list[object]:
        return [*real_entry_points(group), ep("brokenplug", "pt_broken_import")]

    monkeypatch.setattr(archiver.plugins, "installed_entry_points", with_broken)
    # main() installs its own warnings.showwarning; undo that after the test.
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)
    registry.cache_clear()
    try:
        code = archiver.cli.main(["codecs"])
    finally:
        registry.cache_clear()
    out, err = capsys.readouterr()
    assert code == 0, err
    assert re.search(r"^\W*store\b", out, re.MULTILINE), out
    warning_lines = [line for line in err.splitlines() if line.startswith("pyarc: warning:")]
    assert len(warning_lines) == 1, err
    assert "brokenplug" in warning_lines[0]
    assert "Traceback" not in err


# -- plugin control by environment ---------------------------------------------------------------


def test_strict_mode_turns_a_plugin_failure_into_an_error(monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    """PYARC_STRICT_PLUGINS=1: a broken plugin is a PluginError naming it, and at the CLI one
    error line with exit 1."""
    from archiver.plugins import PluginError

    monkeypatch.setenv("PYARC_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match="kaboom"):
        load_registry(entry_points=[STORE, ep("kaboom", "pt_broken_import")])
    load(STORE, CODECS)  # nothing wrong: no error


def test_disabled_plugins_are_not_loaded(monkeypatch: pytest.MonkeyPatch) -> None:
    """PYARC_DISABLE_PLUGINS names plugins to skip, or `third-party` for all but pyarc's own
    (the test plugins have no distribution, so they count as third-party)."""
    monkeypatch.setenv("PYARC_DISABLE_PLUGINS", "testcodecs, kaboom")
    reg = load(STORE, CODECS, ep("kaboom", "pt_broken_import"))  # no warning: not loaded
    assert "store" in reg and "xorcodec" not in reg
    monkeypatch.setenv("PYARC_DISABLE_PLUGINS", "third-party")
    reg = load(CODECS, ep("kaboom", "pt_broken_import"))
    assert reg.names() == []
