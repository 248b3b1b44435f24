"""Motion sources: one module per kind of motion a run can name (a clip, random poses, an FBX
animation, BVH mocap), each registering a :class:`renderers.motions.sources.base.MotionSource`
in :data:`renderers.motions.sources.registry.MOTION_SOURCES` under its ``kind``.

Adding a source is adding one module here (found on the registry's first lookup) and, to use it
in a run, one ``configs/motion/*.yaml`` naming its motions.
"""
