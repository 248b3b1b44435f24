"""PBR materials and G-buffers (bpy, worker only; the job spec and view-vector maths are
``renderers.gbuffer``, the texture-set contract ``rig2sketch.texture_set``).

- :func:`apply_texture_set`: a texture set's four maps per part onto each mesh's Principled BSDF
  (albedo sRGB -> Base Color, normal -> Normal Map node in tangent space -> Normal, roughness and
  metallic Non-Color), so Cycles renders the textured character.
- :func:`setup_gbuffer_aovs`: AOVs carrying each pixel's UV, world tangent and bitangent sign
  (MikkTSpace, exactly what Blender's Normal Map node uses) beside the depth/normal/index passes.
- :func:`render_gbuffers`: a :class:`renderers.gbuffer.GBufferJob` rendered view by view.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from renderers.blender import import_mathutils, reset_blender
from renderers.blender.passes import PassRender
from renderers.blender.scene import apply_camera, figure_points, make_camera
from renderers.cameras import frame_view, view_vectors
from rig2sketch.texture_set import read_material, texture_set_for

SIGN_ATTRIBUTE = "pbr_sign"
UNWRAPPED_UV = "PBR"
MIN_UV_AREA = 0.25  # UVs spanning less of the unit square get their own unwrap


def part_name(obj: Any, character_name: str) -> str:
    """The texture part of a mesh object: its name after ``<character>.`` (``ada.body`` -> ``body``)."""
    prefix = f"{character_name}."
    return obj.name[len(prefix):] if obj.name.startswith(prefix) else obj.name


def uv_layer_name(obj: Any) -> str:
    """The UV map the mesh renders with; ValueError naming the mesh and the fix when it has none."""
    layers = obj.data.uv_layers
    if len(layers) == 0:
        raise ValueError(f"mesh {obj.name!r} has no UV map, so material maps cannot be placed on it; "
                         "unwrap it (Blender: UV > Smart UV Project) and export the character again")
    return (layers.active or layers[0]).name


def uv_area(obj: Any, uv_name: str) -> float:
    """Area of the bounding box of the mesh's UVs in ``uv_name`` (1 = the whole unit square)."""
    data = obj.data.uv_layers[uv_name].data
    uv = np.empty(len(data) * 2, dtype=np.float32)
    data.foreach_get("uv", uv)
    uv = uv.reshape(-1, 2)
    if len(uv) == 0:
        return 0.0
    extent = uv.max(0) - uv.min(0)
    return float(extent[0] * extent[1])


def texture_uv_map(bpy: Any, obj: Any) -> str:
    """The UV map the material maps go on: the mesh's own when it spans at least
    :data:`MIN_UV_AREA` of the texture, else a new ``PBR`` map made by Smart UV Project (the
    bundled garments carry MakeHuman helper UVs squeezed into a few texels). ValueError when the
    mesh has no UVs at all."""
    name = uv_layer_name(obj)
    if uv_area(obj, name) >= MIN_UV_AREA:
        return name
    obj.data.uv_layers.active = obj.data.uv_layers.new(name=UNWRAPPED_UV)
    for other in bpy.context.view_layer.objects:
        other.select_set(False)
    obj.select_set(True)
    bpy.context.view_layer.objects.active = obj
    bpy.ops.object.mode_set(mode="EDIT")
    bpy.ops.mesh.select_all(action="SELECT")
    bpy.ops.uv.smart_project(angle_limit=np.deg2rad(66.0), island_margin=0.02, scale_to_bounds=True)
    bpy.ops.object.mode_set(mode="OBJECT")
    return UNWRAPPED_UV  # (the layer's Python handle dies with the edit-mode round trip)


def load_character(bpy: Any, name: str) -> Any:
    """A bundled character by name, or ``mannequin`` (the test rig, no UVs)."""
    if name == "mannequin":
        from renderers.blender.mannequin import build_mannequin

        return build_mannequin()
    from renderers.blender.characters import build_bundled_character

    return build_bundled_character(name)


def _texture_node(bpy: Any, tree: Any, image_path: Path, colour: bool) -> Any:
    node = tree.nodes.new("ShaderNodeTexImage")
    node.image = bpy.data.images.load(str(image_path), check_existing=False)
    node.image.colorspace_settings.name = "sRGB" if colour else "Non-Color"
    node.interpolation = "Linear"
    node.extension = "EXTEND"  # torch's grid_sample(padding_mode="border")
    return node


def apply_texture_set(bpy: Any, character: Any, folder: str | Path, uv_names: dict[str, str]) -> dict[str, Any]:
    """Give every mesh of ``character`` a Principled BSDF with its part's maps from the texture set
    in ``folder``; returns part -> material. ValueError when a mesh's part has no maps."""
    meta = read_material(folder)
    materials = {}
    for obj in character.meshes:
        part = part_name(obj, character.name)
        if part not in meta["paths"]:
            raise ValueError(f"texture set {folder} has no maps for part {part!r} (it has {meta['parts']}); "
                             "make it for this character")
        files = meta["paths"][part]
        material = bpy.data.materials.new(f"rig2sketch.pbr.{part}")
        tree = material.node_tree
        bsdf = tree.nodes["Principled BSDF"]
        bsdf.inputs["Specular IOR Level"].default_value = float(meta.get("specular_ior_level", 0.5))
        bsdf.inputs["Diffuse Roughness"].default_value = 0.0  # Lambert, as the torch shader
        uv = tree.nodes.new("ShaderNodeUVMap")
        uv.uv_map = uv_names[obj.name]
        textures = {name: _texture_node(bpy, tree, files[name], name == "albedo") for name in files}
        for node in textures.values():
            tree.links.new(uv.outputs["UV"], node.inputs["Vector"])
        tree.links.new(textures["albedo"].outputs["Color"], bsdf.inputs["Base Color"])
        tree.links.new(textures["roughness"].outputs["Color"], bsdf.inputs["Roughness"])
        tree.links.new(textures["metallic"].outputs["Color"], bsdf.inputs["Metallic"])
        normal_map = tree.nodes.new("ShaderNodeNormalMap")
        normal_map.space = "TANGENT"
        normal_map.uv_map = uv_names[obj.name]
        tree.links.new(textures["normal"].outputs["Color"], normal_map.inputs["Color"])
        tree.links.new(normal_map.outputs["Normal"], bsdf.inputs["Normal"])
        obj.data.materials.clear()
        obj.data.materials.append(material)
        materials[part] = material
    return materials


def texture_character(bpy: Any, character: Any, library: str | Path) -> bool:
    """Put ``character``'s texture set from ``library`` (a texture set, or a folder of them by
    character: ``rig2sketch.texture_set.texture_set_for``) on it; returns whether there was one."""
    folder = texture_set_for(library, character.name)
    if folder is None:
        return False
    apply_texture_set(bpy, character, folder, {obj.name: texture_uv_map(bpy, obj) for obj in character.meshes})
    return True


def _base_colour(obj: Any) -> tuple[float, float, float]:
    """Linear RGB Base Color of the mesh's first Principled BSDF (mid grey without one)."""
    for material in obj.data.materials:
        node = material.node_tree.nodes.get("Principled BSDF") if material and material.node_tree else None
        if node is not None:
            return tuple(float(c) for c in node.inputs["Base Color"].default_value[:3])
    return (0.5, 0.5, 0.5)


def _store_bitangent_sign(obj: Any, uv_name: str) -> None:
    mesh = obj.data
    mesh.calc_tangents(uvmap=uv_name)
    signs = np.empty(len(mesh.loops), dtype=np.float32)
    mesh.loops.foreach_get("bitangent_sign", signs)
    mesh.free_tangents()
    if SIGN_ATTRIBUTE in mesh.attributes:
        mesh.attributes.remove(mesh.attributes[SIGN_ATTRIBUTE])
    mesh.attributes.new(SIGN_ATTRIBUTE, "FLOAT", "CORNER").data.foreach_set("value", signs)


def setup_gbuffer_aovs(bpy: Any, scene: Any, character: Any, uv_names: dict[str, str]) -> None:
    """Route each mesh's UV (u, v, 0), MikkTSpace world tangent, smooth normal (before
    any normal map) and bitangent sign to the ``pbr_uv``/``pbr_tangent``/``pbr_normal``/``pbr_sign`` AOVs (meshes keep their shading)."""
    view_layer = scene.view_layers[0]
    for name, kind in (("pbr_uv", "COLOR"), ("pbr_tangent", "COLOR"), ("pbr_normal", "COLOR"), ("pbr_sign", "VALUE")):
        aov = view_layer.aovs.add()
        aov.name, aov.type = name, kind
    for obj in character.meshes:
        uv_name = uv_names[obj.name]
        _store_bitangent_sign(obj, uv_name)
        if not obj.data.materials:
            obj.data.materials.append(bpy.data.materials.new(f"rig2sketch.gbuffer.{obj.name}"))
        for material in obj.data.materials:
            tree = material.node_tree
            uv = tree.nodes.new("ShaderNodeUVMap")
            uv.uv_map = uv_name
            tangent = tree.nodes.new("ShaderNodeTangent")
            tangent.direction_type, tangent.uv_map = "UV_MAP", uv_name
            geometry = tree.nodes.new("ShaderNodeNewGeometry")  # its Normal: smooth, before any normal map
            sign = tree.nodes.new("ShaderNodeAttribute")
            sign.attribute_type, sign.attribute_name = "GEOMETRY", SIGN_ATTRIBUTE
            for source, aov_name, socket in ((uv.outputs["UV"], "pbr_uv", "Color"),
                                             (tangent.outputs["Tangent"], "pbr_tangent", "Color"),
                                             (geometry.outputs["Normal"], "pbr_normal", "Color"),
                                             (sign.outputs["Fac"], "pbr_sign", "Value")):
                out = tree.nodes.new("ShaderNodeOutputAOV")
                out.aov_name = aov_name
                tree.links.new(source, out.inputs[socket])


def _lights(bpy: Any, scene: Any, job: Any) -> None:
    Vector = import_mathutils().Vector

    world = bpy.data.worlds.new("rig2sketch_pbr_world")
    scene.world = world
    world.node_tree.nodes["Background"].inputs["Color"].default_value = (1.0, 1.0, 1.0, 1.0)
    world.node_tree.nodes["Background"].inputs["Strength"].default_value = float(job.ambient)
    scene.cycles.max_bounces = job.bounces
    sun = bpy.data.lights.new("rig2sketch_pbr_sun", "SUN")
    sun.energy = float(job.light.strength)
    sun.color = tuple(float(c) for c in job.light.rgb)
    sun.angle = 0.0  # a point-like sun: one sample gives the exact direct light
    sun.use_shadow = job.shadows
    obj = bpy.data.objects.new("rig2sketch_pbr_sun", sun)
    # A sun shines along its local -Z: point local +Z at the light.
    obj.rotation_euler = Vector(job.light.unit_direction.tolist()).to_track_quat("Z", "Y").to_euler()
    scene.collection.objects.link(obj)


def render_gbuffers(job: Any, scratch: Path) -> dict[str, np.ndarray]:
    """Render ``job`` (a ``renderers.gbuffer.GBufferJob``; worker process). Returns the arrays listed in
    ``renderers.gbuffer.run_gbuffer_job``. ValueError for a mesh without UVs or a texture set
    that does not fit the character."""
    bpy = reset_blender()
    scene = bpy.context.scene
    scene.render.threads_mode = "FIXED"
    scene.render.threads = max(1, job.threads)
    scene.render.resolution_x, scene.render.resolution_y = job.width, job.height
    character = load_character(bpy, job.character)
    uv_names = {obj.name: texture_uv_map(bpy, obj) for obj in character.meshes}
    parts = [part_name(obj, character.name) for obj in character.meshes]
    base_rgb = np.array([_base_colour(obj) for obj in character.meshes], dtype=np.float32)
    for i, obj in enumerate(character.meshes):
        obj.pass_index = i + 1
    if job.textures is not None:
        apply_texture_set(bpy, character, job.textures, uv_names)
    setup_gbuffer_aovs(bpy, scene, character, uv_names)
    _lights(bpy, scene, job)
    camera = make_camera(bpy, scene)
    passes = {"depth", "index", "alpha", "pbr_uv", "pbr_tangent", "pbr_normal", "pbr_sign"}
    if job.textures is not None:
        passes.add("image")
    renderer = PassRender(bpy, scene, passes, scratch)
    surface = figure_points(character, bpy.context.evaluated_depsgraph_get())
    keys = ("uv", "normal", "tangent", "bitangent", "view", "mask", "depth", "part", "K", "world_to_cam")
    out: dict[str, list[np.ndarray]] = {key: [] for key in keys + (("image",) if job.textures else ())}
    for view in job.views:
        placed = frame_view(view, surface, job.width, job.height)
        apply_camera(camera, placed)
        result = renderer.render(job.samples, sharp=True)
        mask = result["alpha"] > 0.5
        # The Normal pass would hold the normal-mapped normal of a textured material: use the AOV.
        normal = result["pbr_normal"][..., :3] * mask[..., None]
        tangent = result["pbr_tangent"][..., :3] * mask[..., None]
        sign = np.where(result["pbr_sign"] < 0, -1.0, 1.0).astype(np.float32)
        out["uv"].append(result["pbr_uv"][..., :2] * mask[..., None])
        out["normal"].append(normal)
        out["tangent"].append(tangent)
        out["bitangent"].append(sign[..., None] * np.cross(normal, tangent) * mask[..., None])
        out["view"].append(view_vectors(placed))
        out["mask"].append(mask.astype(np.float32))
        out["depth"].append(result["depth"])
        out["part"].append(np.where(mask, np.round(result["index"]), 0).astype(np.int16))
        out["K"].append(placed.K.astype(np.float32))
        out["world_to_cam"].append(placed.world_to_cam.astype(np.float32))
        if job.textures is not None:
            out["image"].append(result["image"])
    arrays = {key: np.stack(values).astype(np.int16 if key == "part" else np.float32) for key, values in out.items()}
    arrays["parts"] = np.array(parts)
    arrays["base_rgb"] = base_rgb
    return arrays
