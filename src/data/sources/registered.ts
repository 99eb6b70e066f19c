/**
 * The dataset sources, one line each; the matrix schema (`datasets[].source`), the loader and
 * the docs read this list through ../registry.ts.
 */
export { source as mnist } from "./mnist.ts";
export { source as fashionMnist } from "./fashion_mnist.ts";
export { source as idx } from "./idx.ts";
export { source as cifar10 } from "./cifar10.ts";
export { source as cifar100 } from "./cifar100.ts";
export { source as stl10 } from "./stl10.ts";
export { source as npy } from "./npy.ts";
export { source as safetensors } from "./safetensors.ts";
export { source as imageFolder } from "./image_folder.ts";
export { source as parquet } from "./parquet.ts";
