// The preview sheet: a PNG that decodes (signature, IHDR dimensions, IDAT inflating to the
// expected byte count), whose first row is the clean images and whose other rows are the views.
import assert from "node:assert/strict";
import { join } from "node:path";
import { augmentBatch, batchOf } from "../src/augment/augment.ts";
import { previewGrid, writePreview } from "../src/augment/preview.ts";
import { inspectPng } from "../src/data/png.ts";
import { loadMnist } from "../src/data/mnist.ts";

const norm = { normalize: { mean: [0.1307], std: [0.3081] } };

Deno.test("preview: MNIST rotation sheet decodes with the right size and rows", () => {
  const ds = loadMnist("test", { limit: 8 });
  const { images, indices } = batchOf(ds, [0, 1, 2, 3, 4, 5, 6, 7]);
  const dir = Deno.makeTempDirSync({ prefix: "invbench_preview_" });
  try {
    const path = join(dir, "mnist_rotation.png");
    const size = writePreview(path, images, indices, { kind: "rotation" }, 0, "test", {
      ...norm,
      views: 3,
      zoom: 2,
      gap: 2,
    });
    // 8 tiles of 56 px + 9 gaps; 4 rows (clean + 3 views) of 56 px + 5 gaps.
    assert.deepEqual(size, { width: 8 * 56 + 9 * 2, height: 4 * 56 + 5 * 2 });
    const info = inspectPng(Deno.readFileSync(path), path);
    assert.deepEqual([info.width, info.height, info.bitDepth, info.colourType], [
      size.width,
      size.height,
      8,
      0,
    ]);
    assert.equal(info.raw.length, size.height * (1 + size.width));
    const px = (x: number, y: number) => info.raw[y * (1 + size.width) + 1 + x];
    // Row 0, tile i: the clean image, pixel (r, c) at (2 + i·58 + 2c, 2 + 2r).
    for (let i = 0; i < 8; i++) {
      for (const [r, c] of [[5, 5], [14, 14], [20, 10]]) {
        assert.equal(px(2 + i * 58 + 2 * c, 2 + 2 * r), ds.images[i * 784 + r * 28 + c]);
      }
    }
    // Row 1 is view 0: de-normalised to grey levels (±1 for rounding).
    const view0 = augmentBatch(images, indices, { kind: "rotation" }, 0, "test", 0, norm);
    for (const [r, c] of [[7, 9], [14, 14], [21, 3]]) {
      const want = Math.round(Math.min(1, Math.max(0, view0[r * 28 + c] * 0.3081 + 0.1307)) * 255);
      assert.ok(Math.abs(px(2 + 2 * c, 2 + 58 + 2 * r) - want) <= 1);
    }
    assert.equal(px(0, 0), 128, "gaps are mid-grey");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("preview: 3-channel images become an RGB sheet", () => {
  const images = { data: new Float32Array(2 * 3 * 4 * 4).fill(0.5), n: 2, channels: 3, height: 4, width: 4 };
  const img = previewGrid(images, [0, 1], { kind: "rotation_c4" }, 0, "train", { views: 1, zoom: 1, gap: 1 });
  assert.deepEqual([img.width, img.height, img.channels], [2 * 4 + 3, 2 * 4 + 3, 3]);
  assert.equal(img.data[((1 * img.width) + 1) * 3], 128);
  assert.throws(
    () =>
      previewGrid(
        { ...images, channels: 2, data: new Float32Array(64) },
        [0, 1],
        { kind: "identity" },
        0,
        "train",
      ),
    /2 channels/,
  );
});
