"""Build logic that pyproject.toml cannot express: package mapping and the Cython kernels.

Everything declarative (name, version, dependencies, entry points) lives in pyproject.toml.

Kernels: every file matching ``plugins/**/*_kernel.py`` is a codec kernel written in Cython's
pure-Python mode. It is installed as an ordinary ``.py`` module *and* compiled into an extension
module of the same dotted name (``plugins/huffman/huffman_kernel.py`` ->
``pyarc_plugins.huffman.huffman_kernel``); Python imports the extension when both exist.

Compiling is best effort and all or nothing (kernels ``cimport`` one another through their
``.pxd`` files). When Cython is missing, no C compiler works (e.g. ``CC=false``) or a kernel fails
to compile, the build prints one warning, skips every kernel and still succeeds: the pure-Python
``.py`` files are installed and pyarc runs uncompiled.
"""

from __future__ import annotations

import sys
from pathlib import Path

from setuptools import Extension, find_namespace_packages, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent

# Import package -> folder. The folder `plugins/` is installed as `pyarc_plugins`, never as a
# top-level `plugins`. Subpackages are found automatically (plain directories count, so that a
# subpackage without __init__.py is not silently left out; caches are excluded).
PACKAGE_DIRS = {"archiver": "archiver", "pyarc_plugins": "plugins"}
_NOT_PACKAGES = ["__pycache__", "*.__pycache__", "*.egg-info"]


def find_all_packages() -> list[str]:
    packages = []
    for name, folder in PACKAGE_DIRS.items():
        if not (ROOT / folder).is_dir():
            continue
        packages.append(name)
        subs = find_namespace_packages(str(ROOT / folder), exclude=_NOT_PACKAGES)
        packages += [f"{name}.{sub}" for sub in subs]
    return packages


def find_kernels() -> list[Extension]:
    """One Extension per ``plugins/**/*_kernel.py``; zero kernels is fine."""
    extensions = []
    for path in sorted((ROOT / "plugins").glob("**/*_kernel.py")):
        rel = path.relative_to(ROOT / "plugins").with_suffix("")
        name = ".".join(("pyarc_plugins", *rel.parts))
        # setuptools wants source paths relative to the project root.
        extensions.append(Extension(name, [path.relative_to(ROOT).as_posix()]))
    return extensions


class OptionalBuildExt(build_ext):
    """build_ext that cythonizes each kernel itself and never fails the build."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # e.g. DistutilsPlatformError: no compiler at all
            self._skipped(list(self.extensions), exc)

    def build_extensions(self) -> None:
        failed: list[tuple[Extension, BaseException]] = []
        for ext in list(self.extensions):
            try:
                self._cythonize(ext)
                if self.compiler.compiler_type == "unix":  # gcc and clang
                    ext.extra_compile_args = [*ext.extra_compile_args, "-O3"]
                self.build_extension(ext)
            except Exception as exc:  # CCompilerError, DistutilsExecError, OSError, Cython's errors
                failed.append((ext, exc))
        if failed:
            # Kernels cimport one another (the range coder, bit I/O), so a partial set could
            # not be imported: keep all of them as pure Python, or none.
            self._skipped(list(self.extensions), failed[0][1])

    def _cythonize(self, ext: Extension) -> None:
        """Replace the kernel's .py source by the C file Cython generates next to it."""
        if not any(src.endswith(".py") for src in ext.sources):
            return
        from Cython.Build import cythonize  # ImportError -> this kernel stays pure Python

        (compiled,) = cythonize(
            [Extension(ext.name, list(ext.sources))],
            compiler_directives={"language_level": 3},
            include_path=[self._cimport_root()],
            force=self.force,
            quiet=True,
        )
        ext.sources = compiled.sources

    def _cimport_root(self) -> str:
        """A folder where `pyarc_plugins/` resolves to `plugins/`, so that one kernel can
        `cimport` another (e.g. the range coder) under its installed name."""
        root = Path(self.build_temp).resolve() / "cimport-root"
        root.mkdir(parents=True, exist_ok=True)
        link = root / "pyarc_plugins"
        if not link.is_symlink():
            link.symlink_to(ROOT / "plugins", target_is_directory=True)
        return str(root)

    def _skipped(self, exts: list[Extension], exc: BaseException) -> None:
        # Leave failed kernels out of every later step (copying in place, the wheel's file list),
        # and delete what an earlier build left of them: a stale extension next to its .py
        # would shadow the source.
        self.extensions = [e for e in self.extensions if e not in exts]
        for ext in exts:
            built = Path(self.get_ext_fullpath(ext.name))
            built.unlink(missing_ok=True)
            source_dir = ROOT.joinpath("plugins", *ext.name.split(".")[1:-1])
            for stale in source_dir.glob(built.name):
                stale.unlink()
        names = ", ".join(e.name for e in exts)
        reason = f"{type(exc).__name__}: {exc}".strip().splitlines()[0]
        print(
            f"WARNING: pyarc kernels not compiled, they will run as pure Python ({names}): "
            + reason,
            file=sys.stderr,
        )


setup(
    package_dir=PACKAGE_DIRS,
    packages=find_all_packages(),
    # The .pxd files let third-party kernels cimport the shared coding primitives.
    package_data={"pyarc_plugins": ["**/*.pxd"]},
    ext_modules=find_kernels(),
    cmdclass={"build_ext": OptionalBuildExt},
)
