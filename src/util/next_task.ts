/**
 * Waits for the event loop's next turn. A long synchronous loop (a training epoch on the CPU
 * backend, where every await resolves at once) never reaches it, and memory that is released only
 * there (ArrayBuffers and native tensors freed by the garbage collector's tasks) piles up with the
 * number of steps; yielding every few steps keeps peak memory independent of the dataset's size.
 */
export function nextTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Steps between two turns of the event loop in training loops. */
export const STEPS_PER_TURN = 16;
