/**
 * Training kernels for the wasm backend: tfjs 4.22 ships no `Conv2DBackpropFilter` for wasm, and
 * its `Conv2DBackpropInput` (also the forward pass of conv2dTranspose), `Tile` and `DepthToSpace`
 * are slow scalar loops. Ours compose the fast XNNPACK-backed wasm kernels through tf ops. `Conv2D`/`FusedConv2D`
 * are wrapped so tiny-image convolutions with fresh weights skip XNNPACK's filter packing.
 *
 * Registration is idempotent (safe under module reloads) and must happen before any of these
 * kernels runs; `initBackend` does it before it selects wasm.
 */
import { registerFusedAdam } from './adam';
import { registerConv2dBackpropFilter } from './conv2d-backprop-filter';
import { registerConv2dBackpropInput } from './conv2d-backprop-input';
import { registerDepthToSpace } from './depth-to-space';
import { registerSmallConv } from './small-conv';
import { registerTile } from './tile';

export function registerWasmTrainingKernels(): void {
  registerConv2dBackpropFilter();
  registerConv2dBackpropInput();
  registerTile();
  registerDepthToSpace();
  registerSmallConv();
  registerFusedAdam();
}
