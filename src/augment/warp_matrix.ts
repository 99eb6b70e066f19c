/**
 * 2×3 affine matrices for the warp, always the INVERSE map (output pixel → source position), so
 * the warp samples every output pixel once and leaves no holes.
 *
 * Coordinates: pixel-centre units, x = column (right), y = row (down); pixel (i, j) has its centre
 * at (x, y) = (j, i), so the image spans [−0.5, W − 0.5] × [−0.5, H − 0.5] and its centre is
 * ((W − 1)/2, (H − 1)/2). Rotations and affines turn about that centre, which maps pixel centres
 * onto pixel centres for multiples of 90° on square images of odd and even size alike (this is
 * torchvision's centre with align_corners=False). A matrix m = [a, b, c, d, e, f] reads
 *   src_x = a·x + b·y + c,  src_y = d·x + e·y + f.
 */
import type { CropBox, ViewParams } from "./params.ts";

export type Affine2x3 = [number, number, number, number, number, number];

export const IDENTITY: Affine2x3 = [1, 0, 0, 0, 1, 0];

/** cos and sin of an angle in degrees, exact (0, ±1) at multiples of 90° so those warps are exact. */
export function cosSinDeg(deg: number): [number, number] {
  const r = ((deg % 360) + 360) % 360;
  if (r === 0) return [1, 0];
  if (r === 90) return [0, 1];
  if (r === 180) return [-1, 0];
  if (r === 270) return [0, -1];
  const rad = (deg * Math.PI) / 180;
  return [Math.cos(rad), Math.sin(rad)];
}

/**
 * Inverse map of the forward transform p' = L·(p − centre) + centre + t, L a 2×2 linear part
 * [[l00, l01], [l10, l11]] in (x, y) pixel coordinates.
 */
export function aboutCentre(
  l: [number, number, number, number],
  t: [number, number],
  width: number,
  height: number,
): Affine2x3 {
  const [l00, l01, l10, l11] = l;
  const det = l00 * l11 - l01 * l10;
  if (!(Math.abs(det) > 0) || !Number.isFinite(det)) {
    throw new RangeError(`affine linear part ${JSON.stringify(l)} is singular`);
  }
  // L⁻¹, exact when det = 1 and the entries are 0/±1 (rotations by multiples of 90°).
  const i00 = l11 / det, i01 = -l01 / det, i10 = -l10 / det, i11 = l00 / det;
  const cx = (width - 1) / 2, cy = (height - 1) / 2;
  // p = L⁻¹(p' − c − t) + c
  const ox = cx + t[0], oy = cy + t[1];
  return [i00, i01, cx - (i00 * ox + i01 * oy), i10, i11, cy - (i10 * ox + i11 * oy)];
}

/**
 * Rotation by `degrees` counter-clockwise on screen (torchvision's sign): with y down that is
 * L = [[cos, sin], [−sin, cos]]; 90° sends the right edge to the top (numpy's rot90).
 */
export function rotationMatrix(degrees: number, width: number, height: number): Affine2x3 {
  const [c, s] = cosSinDeg(degrees);
  return aboutCentre([c, s, -s, c], [0, 0], width, height);
}

/**
 * Affine about the centre: L = scale · R(degrees) · ShX(shear x) · ShY(shear y), ShX = [[1, tan φx],
 * [0, 1]], ShY = [[1, 0], [tan φy, 1]], then a translation of `translate` pixels.
 */
export function affineMatrix(
  p: { degrees: number; translate: [number, number]; scale: number; shear: [number, number] },
  width: number,
  height: number,
): Affine2x3 {
  const [c, s] = cosSinDeg(p.degrees);
  const tx = p.shear[0] === 0 ? 0 : Math.tan((p.shear[0] * Math.PI) / 180);
  const ty = p.shear[1] === 0 ? 0 : Math.tan((p.shear[1] * Math.PI) / 180);
  // ShX·ShY = [[1 + tx·ty, tx], [ty, 1]]
  const h00 = 1 + tx * ty, h01 = tx, h10 = ty, h11 = 1;
  const k = p.scale;
  const l: [number, number, number, number] = [
    k * (c * h00 + s * h10),
    k * (c * h01 + s * h11),
    k * (-s * h00 + c * h10),
    k * (-s * h01 + c * h11),
  ];
  return aboutCentre(l, p.translate, width, height);
}

/**
 * Resize of the crop box back to width × height (half-pixel convention, as torchvision's
 * bilinear resize with align_corners=False): output centre x' samples box.x + (x' + ½)·box.w/W − ½.
 */
export function cropMatrix(box: CropBox, width: number, height: number): Affine2x3 {
  const sx = box.w / width, sy = box.h / height;
  return [sx, 0, box.x + 0.5 * sx - 0.5, 0, sy, box.y + 0.5 * sy - 0.5];
}

/** The inverse map of one view's parameters (identity for the non-geometric kinds). */
export function paramsMatrix(p: ViewParams, width: number, height: number): Affine2x3 {
  switch (p.kind) {
    case "rotation":
      return rotationMatrix(p.degrees, width, height);
    case "affine":
      return affineMatrix(p, width, height);
    case "resized_crop":
      return cropMatrix(p.box, width, height);
    default:
      return [...IDENTITY];
  }
}
