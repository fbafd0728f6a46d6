"""The kernel build in setup.py, tried for real on a tiny copy of the project layout.

Every ``plugins/**/*_kernel.py`` must become an extension module of the same dotted name under
``pyarc_plugins``; when no compiler works, or Cython is missing, the build must still succeed and
leave the kernels as pure Python.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXT_SUFFIX = sysconfig.get_config_var("EXT_SUFFIX")

# Cython pure-Python mode: `add` overflows a C int when compiled, and is a plain int otherwise.
DEMO_KERNEL = textwrap.dedent(
    """\
    import cython

    COMPILED = cython.compiled


    @cython.ccall
    def add(a: cython.int, b: cython.int) -> cython.int:
        return a + b
    """
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The real setup.py and pyproject.toml, a stub archiver/ and two kernels in plugins/."""
    for name in ("setup.py", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    files = {
        "archiver/__init__.py": "",
        "plugins/__init__.py": "",
        "plugins/demo/__init__.py": "",
        "plugins/demo/demo_kernel.py": DEMO_KERNEL,
        "plugins/demo/helper.py": "# not a kernel: never compiled\n",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    # Import root where the folder plugins/ is seen under its installed name.
    (tmp_path / "importroot").mkdir()
    (tmp_path / "importroot" / "pyarc_plugins").symlink_to(tmp_path / "plugins")
    return tmp_path


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )


def build_inplace(project: Path, *, python_prefix: list[str] | None = None, **env: str):
    cmd = python_prefix or [sys.executable, "setup.py"]
    return run([*cmd, "build_ext", "--inplace"], project, **env)


def load_demo(project: Path) -> tuple[str, str, str]:
    """Import the demo kernel in a fresh interpreter: (COMPILED, add(2**31, 0), __file__)."""
    code = textwrap.dedent(
        """\
        import pyarc_plugins.demo.demo_kernel as k
        try:
            r = k.add(2**31, 0)
        except OverflowError:
            r = "OverflowError"
        print(k.COMPILED, r, k.__file__, sep="\\n")
        """
    )
    out = run([sys.executable, "-c", code], project, PYTHONPATH=str(project / "importroot"))
    assert out.returncode == 0, out.stderr
    compiled, result, file = out.stdout.splitlines()
    return compiled, result, file


def extensions(project: Path) -> list[Path]:
    """Compiled modules placed next to the sources (not the copies under build/)."""
    return sorted((project / "plugins").rglob("*" + EXT_SUFFIX))


def test_kernel_is_compiled_under_its_dotted_name(project: Path) -> None:
    result = build_inplace(project)
    assert result.returncode == 0, result.stdout + result.stderr
    # plugins/demo/demo_kernel.py -> pyarc_plugins.demo.demo_kernel, and nothing else compiled.
    assert extensions(project) == [project / "plugins" / "demo" / ("demo_kernel" + EXT_SUFFIX)]
    compiled, added, file = load_demo(project)
    assert compiled == "True"
    assert added == "OverflowError"  # a C int, so the typed annotations took effect
    assert file.endswith(EXT_SUFFIX)


def test_no_compiler_still_succeeds_pure_python(project: Path) -> None:
    nested = project / "plugins" / "demo" / "sub" / "deep_kernel.py"
    nested.parent.mkdir()
    nested.write_text(DEMO_KERNEL)
    result = build_inplace(project, CC="false", LDSHARED="false")
    assert result.returncode == 0, result.stdout + result.stderr
    assert extensions(project) == []
    warning = [line for line in result.stderr.splitlines() if "WARNING: pyarc kernels" in line]
    assert len(warning) == 1, result.stderr
    assert "pyarc_plugins.demo.demo_kernel" in warning[0]
    assert "pyarc_plugins.demo.sub.deep_kernel" in warning[0]
    compiled, added, file = load_demo(project)
    assert (compiled, added) == ("False", str(2**31))
    assert file.endswith("demo_kernel.py")


def test_no_cython_still_succeeds_pure_python(project: Path) -> None:
    # Run setup.py in an interpreter where `import Cython` fails.
    hide_cython = (
        "import runpy, sys; sys.modules['Cython'] = None; "
        "sys.argv[0] = 'setup.py'; runpy.run_path('setup.py', run_name='__main__')"
    )
    result = build_inplace(project, python_prefix=[sys.executable, "-c", hide_cython])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING: pyarc kernels not compiled" in result.stderr
    assert extensions(project) == []


def test_wheel_maps_plugins_to_pyarc_plugins(project: Path, tmp_path: Path) -> None:
    """A wheel holds pyarc_plugins (kernel .py and compiled), archiver, and no top-level plugins."""
    dist = tmp_path / "dist"
    result = run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-build-isolation",
            "--no-deps",
            "--no-cache-dir",
            "-w",
            str(dist),
            ".",
        ],
        project,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = dist.glob("pyarc-0.1.0-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "archiver/__init__.py" in names
    assert "pyarc_plugins/demo/demo_kernel.py" in names
    assert "pyarc_plugins/demo/helper.py" in names
    assert "pyarc_plugins/demo/demo_kernel" + EXT_SUFFIX in names
    assert not [n for n in names if n.startswith("plugins/")]
    entry_points = zipfile.ZipFile(wheel).read("pyarc-0.1.0.dist-info/entry_points.txt").decode()
    assert "[pyarc.codecs]" in entry_points
    assert "store = pyarc_plugins.store" in entry_points


@pytest.mark.skipif(os.environ.get("PYARC_REQUIRE_COMPILED") != "1",
                    reason="only with PYARC_REQUIRE_COMPILED=1 (`make test` sets it)")
def test_every_installed_kernel_is_compiled() -> None:
    """A kernel that silently failed to compile would make pyarc run as slow pure Python."""
    import importlib

    kernels = sorted(ROOT.glob("plugins/**/*_kernel.py"))
    assert kernels
    for source in kernels:
        parts = source.relative_to(ROOT / "plugins").with_suffix("").parts
        module = importlib.import_module(".".join(("pyarc_plugins", *parts)))
        assert module.__file__ and module.__file__.endswith(EXT_SUFFIX), (
            f"{module.__name__} is not compiled (pip install -v shows why)")
