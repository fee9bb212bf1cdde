/**
 * Training kernels for the wasm backend (tfjs 4.22 ships none for several gradients).
 * Registration is idempotent: kernels already registered for wasm are left alone.
 */
export function registerWasmTrainingKernels(): void {
  // Filled in by the kernel work (Conv2DBackpropFilter, faster Conv2DBackpropInput, Tile).
}
