"""``rig2sketch view dataset=DIR``: look at a dataset in a browser, served on loopback.

- ``/``: a grid of samples with their skeletons drawn (visible points filled, occluded hollow; the
  character's left blue, right orange), filters (character, motion, camera, split, stylizer, style,
  fewest visible keypoints) as query parameters, more rows fetched as the page scrolls (``/api/samples``
  pages of ``page_size``), so 100k+ rows open as fast as 100.
- ``/sample/<i>``: one sample: every image channel the row has (image, shaded, mask, depth, normal,
  parts), its keypoints as an SVG overlay and a table, and its stylized siblings (rows sharing its
  ``source_id`` lineage).
- ``/img/<i>/<channel>.png`` (``?pose=1``: skeleton drawn), ``/api/samples``, ``/api/sample/<i>``.

Start-up reads only the small columns of every shard (an index: shard, row group, row); images are
read a row group at a time when asked for (``shards.reader.read_row_group``, checksum-checked), the
last 64 row groups kept. Samples are addressed by their index ``i`` (sample ids hold ``/``); nothing
from the data becomes a path.
"""

from __future__ import annotations

import html
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np

from rig2sketch.drawing import draw_pose
from shards import decode_png, encode_png, list_shards
from shards.reader import iter_row_groups, read_row_group, row_to_sample
from shards.schema import EXTRA_IMAGE_COLUMNS

FILTERS = ("character", "motion", "camera", "split", "stylizer", "style")
INDEX_COLUMNS = ["sample_id", *FILTERS, "source_id", "keypoints", "width", "height"]
CHANNELS = ("image", *EXTRA_IMAGE_COLUMNS)


@dataclass
class ViewConfig:
    """``dataset``: a folder of shards; the page is served on ``host``:``port`` (loopback by default:
    the data is yours; 0 = any free port). ``page_size``: samples per fetch."""

    dataset: str = ""
    host: str = "127.0.0.1"
    port: int = 8765
    page_size: int = 60

    def __post_init__(self) -> None:
        if not self.dataset:
            raise ValueError("dataset= is required: the folder of shards to look at")
        if not 0 <= self.port <= 65535 or not 1 <= self.page_size <= 1000:
            raise ValueError(f"port={self.port} must be in 0..65535 and page_size={self.page_size} in 1..1000")


class DatasetIndex:
    """Where every row lives (shard, row group, row) and its filter values; rows fetched on demand."""

    def __init__(self, dataset: str) -> None:
        self.shards = list_shards(dataset)
        self.rows: list[dict] = []
        for s, shard in enumerate(self.shards):
            for g, table in enumerate(iter_row_groups(shard, INDEX_COLUMNS)):
                for r, row in enumerate(table.to_pylist()):
                    kp = row_to_sample(row, decode_images=False).pop("keypoints")
                    self.rows.append({**row, "i": len(self.rows), "visible": int((kp[:, 2] == 2).sum()),
                                      "labelled": int((kp[:, 2] > 0).sum()), "_at": (s, g, r)})
        self.values = {name: sorted({row[name] for row in self.rows if row[name]}) for name in FILTERS}
        self._groups: OrderedDict[tuple[int, int], list[dict]] = OrderedDict()
        self._lock = threading.Lock()

    def select(self, query: dict[str, str]) -> list[dict]:
        """Rows matching every filter given (``min_visible``: at least that many visible keypoints)."""
        wanted = {k: v for k, v in query.items() if k in FILTERS and v}
        least = int(query.get("min_visible") or 0)
        return [r for r in self.rows if r["visible"] >= least and all(r[k] == v for k, v in wanted.items())]

    def full_row(self, i: int) -> dict:
        """Every column of row ``i`` (images as PNG bytes)."""
        s, g, r = self.rows[i]["_at"]
        with self._lock:
            if (s, g) not in self._groups:
                self._groups[(s, g)] = read_row_group(self.shards[s], g)
                while len(self._groups) > 64:
                    self._groups.popitem(last=False)
            self._groups.move_to_end((s, g))
            return self._groups[(s, g)][r]

    def siblings(self, i: int) -> list[dict]:
        """Rows of the same lineage: the raw render and every stylized copy of it."""
        root = self.rows[i]["source_id"] or self.rows[i]["sample_id"]
        return [r for r in self.rows if r["i"] != i and (r["source_id"] == root or r["sample_id"] == root)]


def public(row: dict) -> dict:
    return {k: v for k, v in row.items() if not k.startswith("_")}


def channel_png(index: DatasetIndex, i: int, channel: str, pose: bool) -> bytes | None:
    """A channel of row ``i`` as PNG bytes (``pose``: the skeleton drawn on it); None when absent."""
    row = index.full_row(i)
    data = row.get(channel)
    if data is None:
        return None
    if not pose:
        return data
    image = decode_png(data)
    if image.dtype != np.uint8:  # 16-bit depth: scale for display
        image = (image.astype(np.float32) / max(1, image.max()) * 255).astype(np.uint8)
    return encode_png(draw_pose(image, row["keypoints"]))


GRID_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>rig2sketch: {title}</title><style>
body{{font-family:sans-serif;margin:12px}} #grid{{display:flex;flex-wrap:wrap;gap:6px}}
.cell{{width:180px;font-size:11px;text-align:center}} .cell div{{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}} .cell img{{width:180px;height:180px;object-fit:contain;
border:1px solid #ccc;background:#fff}} form label{{margin-right:10px}}</style></head><body>
<h3>{title} — <span id="count">…</span> samples</h3>
<form id="filters">{selects}<label>min visible <input name="min_visible" type="number" min="0" max="17"
value="{min_visible}" style="width:4em"></label><button>filter</button></form>
<div id="grid"></div><div id="more" style="height:40px"></div>
<script>
const params = new URLSearchParams(location.search); let offset = 0, total = null, busy = false;
async function page() {{
  if (busy || (total !== null && offset >= total)) return; busy = true;
  params.set("offset", offset); const r = await fetch("/api/samples?" + params); const d = await r.json();
  total = d.total; document.getElementById("count").textContent = d.total;
  for (const s of d.items) {{
    const a = document.createElement("a"); a.className = "cell"; a.href = "/sample/" + s.i;
    a.dataset.character = s.character; a.dataset.sampleId = s.sample_id;
    a.innerHTML = `<img loading="lazy" src="/img/${{s.i}}/image.png?pose=1"><div></div>`;
    a.querySelector("div").textContent = `${{s.sample_id}} ${{s.style ? "· " + s.style : ""}}`;
    document.getElementById("grid").appendChild(a);
  }}
  offset += d.items.length; busy = false;
}}
new IntersectionObserver(e => {{ if (e[0].isIntersecting) page(); }}).observe(document.getElementById("more"));
page();
</script></body></html>"""

SAMPLE_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{sample_id}</title><style>
body{{font-family:sans-serif;margin:12px}} .ch{{display:inline-block;margin:4px;text-align:center;font-size:12px}}
.ch img,.ch svg{{width:320px;height:320px;object-fit:contain;border:1px solid #ccc}} td{{padding:0 8px}}
circle.visible{{fill:currentColor}} circle.occluded{{fill:none;stroke:currentColor;stroke-width:1.5}}
</style></head><body><p><a href="/">all samples</a></p><h3>{sample_id}</h3><p>{facts}</p>
<div class="ch"><svg id="pose" viewBox="0 0 {w} {h}"><image href="/img/{i}/image.png" width="{w}" height="{h}"/>{circles}</svg>
<div>keypoints (filled: visible, hollow: occluded)</div></div>{channels}
<h4>keypoints</h4><table>{table}</table><h4>lineage ({n_siblings})</h4><div>{siblings}</div></body></html>"""


def grid_page(index: DatasetIndex, cfg: ViewConfig, query: dict[str, str]) -> str:
    selects = []
    for name in FILTERS:
        options = "".join(f'<option{" selected" if v == query.get(name) else ""}>{html.escape(v)}</option>'
                          for v in index.values[name])
        selects.append(f'<label>{name} <select name="{name}"><option value="">all</option>{options}</select></label>')
    return GRID_PAGE.format(title=html.escape(Path(cfg.dataset).name or cfg.dataset), selects="".join(selects),
                            min_visible=html.escape(query.get("min_visible", "")))


def sample_page(index: DatasetIndex, i: int) -> str:
    from rig2sketch.skeleton import COCO_KEYPOINTS

    row = index.full_row(i)
    kp = row["keypoints"]
    colour = {"left": "#1f6feb", "right": "#f08020"}
    circles, table = [], []
    for name, (x, y, v) in zip(COCO_KEYPOINTS, kp):
        side = name.split("_")[0] if name.startswith(("left", "right")) else ""
        state = {2: "visible", 1: "occluded"}.get(int(v), "absent")
        if v > 0:
            circles.append(f'<circle class="{state}" data-name="{name}" cx="{x:.2f}" cy="{y:.2f}" '
                           f'r="{max(0.8, row["width"] / 90):.1f}" style="color:{colour.get(side, "#2a2")}"/>')
        table.append(f"<tr><td>{name}</td><td>{x:.1f}</td><td>{y:.1f}</td><td>{state}</td></tr>")
    channels = "".join(f'<div class="ch"><img src="/img/{i}/{c}.png"><div>{c}</div></div>'
                       for c in CHANNELS if row.get(c) is not None)
    sibs = index.siblings(i)
    siblings = "".join(f'<a class="ch" href="/sample/{s["i"]}"><img src="/img/{s["i"]}/image.png?pose=1">'
                       f'<div>{html.escape(s["stylizer"])} {html.escape(s["style"])}</div></a>' for s in sibs[:48])
    facts = " · ".join(f"{k}: {html.escape(str(row[k]))}" for k in (*FILTERS, "frame", "source_id") if row.get(k) not in (None, ""))
    return SAMPLE_PAGE.format(sample_id=html.escape(row["sample_id"]), facts=facts, w=row["width"], h=row["height"],
                              i=i, circles="".join(circles), channels=channels, table="".join(table),
                              n_siblings=len(sibs), siblings=siblings)


def make_handler(index: DatasetIndex, cfg: ViewConfig) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet: the terminal shows the URL, not every request
            pass

        def send(self, body: bytes, kind: str, status: HTTPStatus = HTTPStatus.OK) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            parts = [p for p in url.path.split("/") if p]
            try:
                self.route(parts, query)
            except (ValueError, IndexError, KeyError):
                self.send(b"not found", "text/plain", HTTPStatus.NOT_FOUND)

        def route(self, parts: list[str], query: dict[str, str]) -> None:
            if not parts:
                return self.send(grid_page(index, cfg, query).encode(), "text/html; charset=utf-8")
            if parts == ["api", "samples"]:
                rows = index.select(query)
                start = max(0, int(query.get("offset") or 0))
                items = [public(r) for r in rows[start:start + cfg.page_size]]
                return self.send(json.dumps({"total": len(rows), "offset": start, "items": items}).encode(),
                                 "application/json")
            if len(parts) == 2 and parts[0] == "sample":
                return self.send(sample_page(index, row_number(parts[1])).encode(), "text/html; charset=utf-8")
            if len(parts) == 3 and parts[:2] == ["api", "sample"]:
                row = index.full_row(row_number(parts[2]))
                facts = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in row.items()
                         if not isinstance(v, bytes)}
                return self.send(json.dumps(facts).encode(), "application/json")
            if len(parts) == 3 and parts[0] == "img" and parts[2].removesuffix(".png") in CHANNELS:
                png = channel_png(index, row_number(parts[1]), parts[2].removesuffix(".png"), query.get("pose") == "1")
                if png is not None:
                    return self.send(png, "image/png")
            raise KeyError(self.path)

    def row_number(text: str) -> int:
        i = int(text)
        if not 0 <= i < len(index.rows):
            raise IndexError(i)
        return i

    return Handler


def serve(cfg: ViewConfig) -> ThreadingHTTPServer:
    """Index ``cfg.dataset`` and return the server, bound but not yet serving (``serve_forever``)."""
    index = DatasetIndex(cfg.dataset)
    server = ThreadingHTTPServer((cfg.host, cfg.port), make_handler(index, cfg))
    server.index = index  # type: ignore[attr-defined]
    return server


def view_command(cfg: ViewConfig) -> int:
    """Serve until Ctrl-C; prints the address."""
    server = serve(cfg)
    host, port = server.server_address[:2]
    print(f"rig2sketch view: http://{host}:{port}/ ({cfg.dataset}, {len(server.index.rows)} samples); "
          "Ctrl-C stops it", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
