"""The edge: the ``rig2sketch`` command line and the wiring from each command's Hydra config
to the flow or stage entry that runs it. Nothing below this package imports it."""
