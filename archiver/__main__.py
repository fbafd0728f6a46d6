"""`python -m archiver` runs the pyarc command line."""

from archiver.cli import run

run()
