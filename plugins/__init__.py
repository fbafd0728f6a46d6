"""pyarc's built-in codecs, installed as the import package `pyarc_plugins`.

Each codec is a subpackage that registers itself through the `pyarc.codecs` entry-point group,
exactly as a third-party plugin does.
"""

#: The plugins this package declares in the `pyarc.codecs` entry-point group (pyproject.toml),
#: by entry-point name: the module each one loads. The registry loads one of these by name
#: without reading the installed distributions' metadata; tests/test_plugins.py holds the two
#: lists equal.
PLUGINS = {
    "store": "pyarc_plugins.store",
    "huffman": "pyarc_plugins.huffman",
    "arithmetic": "pyarc_plugins.arithmetic",
    "lz77": "pyarc_plugins.lz77",
    "lzw": "pyarc_plugins.lzw",
    "ppm": "pyarc_plugins.ppm",
    "bwt": "pyarc_plugins.bwt",
    "rep": "pyarc_plugins.rep",
    "cm": "pyarc_plugins.cm",
    "policy": "pyarc_plugins.policy",
}
