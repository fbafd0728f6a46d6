"""pyarc's built-in codecs, installed as the import package `pyarc_plugins`.

Each codec is a subpackage that registers itself through the `pyarc.codecs` entry-point group,
exactly as a third-party plugin does.
"""
