/**
 * onnxruntime execution providers for feature extraction (`--execution-provider`). The installed
 * onnxruntime-node lists the providers it was built with; "bundled: false" ones (CUDA, TensorRT)
 * also need their provider libraries, which only onnxruntime-node's install script downloads, so
 * a listed provider can still fail to start: both cases are invalid input naming what is usable.
 */
import * as ort from "onnxruntime-node";
import { BackboneError } from "../errors.ts";

/** The provider extraction uses unless told otherwise (features and cache keys are the CPU's). */
export const DEFAULT_EXECUTION_PROVIDER = "cpu";

/** The installed onnxruntime-node's providers, e.g. `cpu`, `webgpu`, `cuda (needs its libraries)`. */
export function describeExecutionProviders(): string {
  return ort.listSupportedBackends()
    .map((b) => b.bundled ? b.name : `${b.name} (needs its provider libraries)`)
    .join(", ");
}

/** Throws (exit 2) unless `name` is a provider of the installed onnxruntime-node. */
export function checkExecutionProvider(name: string): void {
  if (ort.listSupportedBackends().some((b) => b.name === name)) return;
  throw new BackboneError(
    `execution provider "${name}" is not in the installed onnxruntime-node ${
      ort.env.versions.node ?? ""
    }; it has: ${describeExecutionProviders()}`,
  );
}

/** The message for a provider that is listed but failed to start a session. */
export function providerStartFailure(name: string, path: string, cause: string): BackboneError {
  return new BackboneError(
    `${path}: execution provider "${name}" could not start: ${cause}; the installed onnxruntime-node ${
      ort.env.versions.node ?? ""
    } has: ${describeExecutionProviders()}`,
  );
}
