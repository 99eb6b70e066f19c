/**
 * A matrix's protocol: everything in it that decides how methods are measured (datasets and their
 * splits, backbones, augmentations, classifiers, seeds, training and evaluation settings, cell
 * filters), without the methods themselves, its description, and the file locations of its
 * inputs (a copy of a matrix elsewhere names the same backbone by another relative path; a
 * result pins every input by sha256 anyway). Two matrices with the same protocol measure methods
 * the same way, so a track can accept results of its matrix with further methods added.
 */
import { canonicalJson } from "../util/canonical_json.ts";
import { sha256Hex } from "../util/hash.ts";

/** sha256 of the canonical JSON of a parsed matrix spec's protocol. */
export function protocolHash(spec: Record<string, unknown>): string {
  const { methods: _m, description: _d, ...rest } = spec;
  const strip = (list: unknown, field: string) =>
    Array.isArray(list) ? list.map(({ [field]: _path, ...x }) => x) : list;
  const protocol = {
    ...rest,
    datasets: strip(rest.datasets, "path"),
    backbones: strip(rest.backbones, "onnx"),
  };
  return sha256Hex(canonicalJson(protocol));
}
