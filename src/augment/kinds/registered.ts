/**
 * The augmentation kinds, one line each; the matrix schema (their fields), the augmentation
 * pipeline, `steer`/`canon`/`tta` and the docs read this list through ../spec.ts.
 */
export { augmentation as affine } from "./affine.ts";
export { augmentation as gaussianNoise } from "./gaussian_noise.ts";
export { augmentation as identity } from "./identity.ts";
export { augmentation as resizedCrop } from "./resized_crop.ts";
export { augmentation as rotation } from "./rotation.ts";
export { c4 as rotationC4, c8 as rotationC8 } from "./rotation_cyclic.ts";
