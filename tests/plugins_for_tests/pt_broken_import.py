"""A plugin that cannot even be imported."""

raise RuntimeError("pt_broken_import explodes on import")
