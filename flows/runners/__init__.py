"""Where render jobs run: Prefect task runners chosen by the top-level ``runner`` config.

A runner kind is one module here that registers its config dataclass in
:data:`flows.runners.registry.RUNNERS` (found automatically) plus ``configs/runner/<kind>.yaml``.
"""
