"""Export formats: one module per format, each registering its writer in
:data:`evaluation.exporters.registry.EXPORT_FORMATS` under the name ``format=`` takes.

A writer is ``(cfg: ExportConfig, tmp: Path) -> {split: samples}``: it writes the whole export
into the empty folder ``tmp`` (``evaluation.export`` renames it into place). Adding a format is
adding one module here; the registry imports this package's modules on first lookup.
"""
