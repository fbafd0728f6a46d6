"""The laboratory: how far data can be compressed, and how pyarc's codecs and the standard
archivers do on it (`pyarc entropy`, `pyarc bench`, `make bench`).

- entropy: the measures of a source, and the estimate of its achievable size;
- methods: what can be measured (pyarc codecs, `auto`, Python libraries, executables);
- measure: the one way to time a method and check its round trip, over many inputs;
- report: rendering the results (tables, markdown, CSV, a chart).

The core (the rest of `archiver`) never imports this package; only the CLI's `entropy` and
`bench` commands do, when they run.
"""
