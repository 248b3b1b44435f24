"""``rig2sketch view``: the dataset page over HTTP, and in headless Chromium (issue 16, item 5)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import urllib.error
import urllib.request

import numpy as np
import pytest

from app.viewer import ViewConfig, serve
from evaluation import stickfigures
from shards import ShardWriter, decode_png, iter_samples

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A viewer over 12 stick figures (characters a, b, c) plus 2 stylized copies of the first one."""
    root = tmp_path_factory.mktemp("view")
    stickfigures.write_dataset(root / "data", 12, (64, 80), np.random.default_rng(3), characters=("a", "b", "c"),
                               shard_rows=8)
    first = next(iter_samples(root / "data", decode_images=False))
    with ShardWriter(root / "data" / "styled.parquet", metadata={"seed": 1}) as w:
        for style in ("pencil", "ink"):
            kp = first["keypoints"].copy()
            kp[:5, 2] = 1 if style == "ink" else kp[:5, 2]  # the ink copy: its face occluded
            w.write({**first, "sample_id": f"{first['sample_id']}~{style}", "stylizer": "adain", "style": style,
                     "source_id": first["sample_id"], "keypoints": kp})
    server = serve(ViewConfig(dataset=str(root / "data"), port=0, page_size=5))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", first
    server.shutdown()
    server.server_close()


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def test_api_filters_pages_and_serves_channels(site):
    base, first = site
    everything = json.loads(get(f"{base}/api/samples"))
    assert everything["total"] == 14 and len(everything["items"]) == 5  # one page
    assert json.loads(get(f"{base}/api/samples?offset=10"))["items"][0]["i"] == 10
    only_a = json.loads(get(f"{base}/api/samples?character=a"))
    assert only_a["total"] == 6 and {s["character"] for s in only_a["items"]} == {"a"}  # 4 + 2 stylized copies
    assert json.loads(get(f"{base}/api/samples?stylizer=adain&style=ink"))["total"] == 1
    many = json.loads(get(f"{base}/api/samples?min_visible=17"))
    assert all(s["visible"] >= 17 for s in many["items"]) and many["total"] == 13  # not the ink copy
    png = decode_png(get(f"{base}/img/0/image.png?pose=1"))
    plain = decode_png(get(f"{base}/img/0/image.png"))
    assert png.shape[:2] == plain.shape[:2] == (80, 64) and (png != np.atleast_3d(plain)).any()  # skeleton drawn
    page = get(f"{base}/sample/0").decode()
    labelled = int((first["keypoints"][:, 2] > 0).sum())
    assert page.count("<circle ") == labelled and "lineage (2)" in page and "~pencil" not in page.split("lineage")[0]
    for bad in ("/img/999/image.png", "/img/0/..%2F..%2Fetc.png", "/sample/-1", "/sample/x", "/nothing"):
        with pytest.raises(urllib.error.HTTPError) as err:
            get(base + bad)
        assert err.value.code == 404


def browser() -> str | None:
    found = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    if found is None and os.environ.get("RIG2SKETCH_REQUIRE_BROWSER"):
        pytest.fail("RIG2SKETCH_REQUIRE_BROWSER is set but no chromium is on PATH; apt-get install chromium")
    return found


def chromium(url: str, *args: str) -> str:
    exe = browser()
    if exe is None:
        pytest.skip("no headless Chromium on PATH: apt-get install chromium (make test does it when run as root)")
    out = subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=8000", *args,
                          url], capture_output=True, text=True, timeout=120)
    return out.stdout


@pytest.mark.slow
def test_page_in_headless_chromium_loads_filters_and_shows_keypoints(site, tmp_path):
    """Real JavaScript in a real browser: the grid fills from the API, a filter narrows it, a sample page
    shows its keypoints; screenshots are written for a person to look at."""
    base, first = site
    grid = chromium(f"{base}/", "--dump-dom")
    assert grid.count('class="cell"') >= 5 and '<span id="count">14</span>' in grid
    narrowed = chromium(f"{base}/?character=b", "--dump-dom")
    assert '<span id="count">4</span>' in narrowed and narrowed.count('class="cell"') == 4
    assert narrowed.count('data-character="b"') == 4 and 'data-character="a"' not in narrowed
    sample = chromium(f"{base}/sample/0", "--dump-dom")
    visible = int((first["keypoints"][:, 2] == 2).sum())
    assert sample.count('class="visible"') == visible and first["sample_id"] in sample
    chromium(f"{base}/?character=a", f"--screenshot={tmp_path / 'grid.png'}", "--window-size=1200,800")
    assert (tmp_path / "grid.png").stat().st_size > 10_000
