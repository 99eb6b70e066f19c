/**
 * Recording and submitting the WebGPU backend's work: shader modules and pipelines (each checked
 * against its kernel entry's uniform `Params` when built), one command encoder submitted lazily
 * (before reads and `sync`, or when the batch reaches UNIFORM_SLOTS dispatches), a 256-byte uniform
 * slot per dispatch written with one `queue.writeBuffer` right before the batch is submitted (queue
 * order makes the reuse of that buffer by the next batch safe), buffer release deferred until the
 * batch that used them is submitted, reads through staging buffers, and the device's errors.
 *
 * Every dispatch declares its worst-case loop trips per invocation, checked against the budget:
 * Mesa llvmpipe silently ends a shader's loops after 65,535 trips per invocation.
 */
import { bucketBytes, BufferPool } from "./buffer_pool.ts";
import {
  ceilDiv,
  checkParams,
  type KernelDef,
  type KernelName,
  KERNELS,
  type ParamValues,
  writeParams,
} from "./kernels.ts";

const UNIFORM_SLOT_BYTES = 256;
const UNIFORM_SLOTS = 512;

interface Pipeline {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

export class Dispatcher {
  readonly gpu: GPUDevice;
  readonly pool: BufferPool;
  /** The per-invocation loop trip budget every dispatch is checked against. */
  readonly maxTripsPerInvocation: number;
  readonly #sources: ReadonlyMap<string, string>;
  readonly #modules = new Map<string, GPUShaderModule>();
  readonly #pipelines = new Map<string, Pipeline>();
  readonly #uniformHost = new ArrayBuffer(UNIFORM_SLOTS * UNIFORM_SLOT_BYTES);
  readonly #uniformU32 = new Uint32Array(this.#uniformHost);
  readonly #uniformF32 = new Float32Array(this.#uniformHost);
  readonly #uniformBuffer: GPUBuffer;
  readonly #maxGroupsPerDim: number;
  /** Work so far: dispatches, batches submitted, reads back to the host, bytes uploaded. */
  readonly counts = { dispatches: 0, submits: 0, reads: 0, uploadBytes: 0 };
  #encoder: GPUCommandEncoder | null = null;
  #pass: GPUComputePassEncoder | null = null;
  #slots = 0;
  #pendingRelease: GPUBuffer[] = [];
  #errors: string[] = [];
  #lost: string | null = null;
  #destroyed = false;

  constructor(gpu: GPUDevice, sources: ReadonlyMap<string, string>, maxTripsPerInvocation: number) {
    this.gpu = gpu;
    this.pool = new BufferPool(gpu);
    this.maxTripsPerInvocation = maxTripsPerInvocation;
    this.#sources = sources;
    this.#maxGroupsPerDim = gpu.limits.maxComputeWorkgroupsPerDimension;
    this.#uniformBuffer = gpu.createBuffer({
      size: UNIFORM_SLOTS * UNIFORM_SLOT_BYTES,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    gpu.addEventListener("uncapturederror", (event) => {
      this.#errors.push((event as GPUUncapturedErrorEvent).error.message);
    });
    gpu.lost.then((info) => {
      if (!this.#destroyed) this.#lost = `${info.reason}: ${info.message}`;
    });
  }

  /** Destroys the device; nothing can run afterwards. */
  destroy(): void {
    this.#destroyed = true;
    this.pool.closed = true;
    this.#encoder = null;
    this.#pass = null;
    this.gpu.destroy();
  }

  checkUsable(op: string): void {
    if (this.#destroyed) throw new Error(`webgpu ${op}: the backend was destroyed`);
    if (this.#lost) throw new Error(`webgpu ${op}: the device was lost (${this.#lost})`);
  }

  throwErrors(op: string): void {
    if (this.#errors.length === 0) return;
    const errors = this.#errors;
    this.#errors = [];
    throw new Error(`webgpu ${op}: device reported ${errors.length} error(s): ${errors.join(" | ")}`);
  }

  /** A storage buffer of at least `bytes` bytes. */
  acquire(bytes: number, op: string): GPUBuffer {
    this.checkUsable(op);
    return this.pool.acquire(bytes, op);
  }

  /** Returns a buffer to the pool once no unsubmitted command references it. */
  release(buffer: GPUBuffer): void {
    if (this.#encoder) this.#pendingRelease.push(buffer);
    else this.pool.put(buffer);
  }

  /** Records a clear of `buffer` to zeros. */
  clear(buffer: GPUBuffer): void {
    if (this.#pass) {
      this.#pass.end();
      this.#pass = null;
    }
    (this.#encoder ??= this.gpu.createCommandEncoder()).clearBuffer(buffer);
  }

  /** The pipeline of `kernel` with its override `constants`, built (and checked) once. */
  #pipeline(kernel: KernelName, constants: Record<string, number> | null): Pipeline {
    const key = constants ? `${kernel}|${JSON.stringify(constants)}` : kernel;
    let cached = this.#pipelines.get(key);
    if (cached) return cached;
    const def: KernelDef = KERNELS[kernel];
    const source = this.#sources.get(def.file)!;
    checkParams(kernel, def, source);
    let module = this.#modules.get(def.file);
    if (!module) {
      module = this.gpu.createShaderModule({ label: def.file, code: source });
      this.#modules.set(def.file, module);
    }
    const entries: GPUBindGroupLayoutEntry[] = [
      { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: "uniform" } },
    ];
    def.bindings.forEach((access, i) => {
      if (access === null) return;
      entries.push({
        binding: i + 1,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: access === "r" ? "read-only-storage" : "storage" },
      });
    });
    const layout = this.gpu.createBindGroupLayout({ label: key, entries });
    const pipeline = this.gpu.createComputePipeline({
      label: key,
      layout: this.gpu.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: def.entry, constants: constants ?? undefined },
    });
    cached = { pipeline, layout };
    this.#pipelines.set(key, cached);
    return cached;
  }

  /**
   * Records one dispatch of `groups` workgroups (folded into a 2-D grid; kernels bound-check their
   * linear index) with the uniform `params` by name. `trips` is the kernel's worst-case loop
   * iterations per invocation, checked against the budget.
   */
  dispatch(
    kernel: KernelName,
    constants: Record<string, number> | null,
    buffers: readonly (GPUBuffer | null)[],
    params: ParamValues,
    groups: number,
    trips: number,
  ): void {
    if (!(trips <= this.maxTripsPerInvocation)) {
      throw new Error(
        `webgpu ${kernel}: ${trips} loop trips per invocation exceed the bound of ${this.maxTripsPerInvocation} ` +
          "(llvmpipe silently truncates loops past 65,535 trips); this is a backend bug",
      );
    }
    this.checkUsable(kernel);
    if (groups === 0) return;
    const x = Math.min(groups, this.#maxGroupsPerDim);
    const y = ceilDiv(groups, x);
    if (y > this.#maxGroupsPerDim) {
      throw new Error(`webgpu ${kernel}: ${groups} workgroups exceed the dispatch limit`);
    }
    const { pipeline, layout } = this.#pipeline(kernel, constants);
    const slot = this.#slots++;
    writeParams(
      kernel,
      KERNELS[kernel],
      params,
      this.#uniformU32,
      this.#uniformF32,
      (slot * UNIFORM_SLOT_BYTES) / 4,
    );
    const entries: GPUBindGroupEntry[] = [
      {
        binding: 0,
        resource: {
          buffer: this.#uniformBuffer,
          offset: slot * UNIFORM_SLOT_BYTES,
          size: UNIFORM_SLOT_BYTES,
        },
      },
    ];
    buffers.forEach((buffer, i) => {
      if (buffer) entries.push({ binding: i + 1, resource: { buffer } });
    });
    const bindGroup = this.gpu.createBindGroup({ layout, entries });
    if (!this.#pass) {
      this.#encoder ??= this.gpu.createCommandEncoder();
      this.#pass = this.#encoder.beginComputePass();
    }
    this.#pass.setPipeline(pipeline);
    this.#pass.setBindGroup(0, bindGroup);
    this.#pass.dispatchWorkgroups(x, y);
    this.counts.dispatches++;
    if (this.#slots >= UNIFORM_SLOTS) this.flush();
  }

  /** Submits the recorded batch (uniforms first) and recycles the buffers it released. */
  flush(): void {
    if (this.#encoder) {
      if (this.#pass) {
        this.#pass.end();
        this.#pass = null;
      }
      if (this.#slots > 0) {
        this.gpu.queue.writeBuffer(
          this.#uniformBuffer,
          0,
          this.#uniformHost,
          0,
          this.#slots * UNIFORM_SLOT_BYTES,
        );
      }
      this.gpu.queue.submit([this.#encoder.finish()]);
      this.counts.submits++;
      this.#encoder = null;
      this.#slots = 0;
    }
    const released = this.#pendingRelease;
    this.#pendingRelease = [];
    for (const buffer of released) this.pool.put(buffer);
  }

  /** Waits for all submitted work, then reports any device error. */
  async sync(op: string): Promise<void> {
    this.checkUsable(op);
    this.flush();
    await this.gpu.queue.onSubmittedWorkDone();
    this.throwErrors(op);
  }

  /** The first `bytes` bytes of `buffer`, after everything recorded so far. */
  async read(buffer: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    this.checkUsable("read");
    this.flush();
    this.counts.reads++;
    if (bytes === 0) {
      await this.gpu.queue.onSubmittedWorkDone();
      this.throwErrors("read");
      return new ArrayBuffer(0);
    }
    const staging = this.pool.staging(bucketBytes(bytes));
    const encoder = this.gpu.createCommandEncoder();
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, bytes);
    this.gpu.queue.submit([encoder.finish()]);
    try {
      await staging.mapAsync(GPUMapMode.READ, 0, bytes);
    } catch (e) {
      staging.destroy();
      this.throwErrors("read");
      throw e;
    }
    const out = staging.getMappedRange(0, bytes).slice(0);
    staging.unmap();
    this.pool.putStaging(staging);
    this.throwErrors("read");
    return out;
  }
}
