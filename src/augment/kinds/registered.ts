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
export { augmentation as brightness } from "./brightness.ts";
export { augmentation as compose } from "./compose.ts";
export { augmentation as contrast } from "./contrast.ts";
export { augmentation as defocusBlur } from "./defocus_blur.ts";
export { augmentation as elasticTransform } from "./elastic_transform.ts";
export { augmentation as gaussianBlur } from "./gaussian_blur.ts";
export { augmentation as gaussianNoiseC } from "./gaussian_noise_c.ts";
export { augmentation as impulseNoise } from "./impulse_noise.ts";
export { augmentation as jpegCompression } from "./jpeg_compression.ts";
export { augmentation as pixelate } from "./pixelate.ts";
export { augmentation as randomChoice } from "./random_choice.ts";
export { augmentation as shotNoise } from "./shot_noise.ts";
