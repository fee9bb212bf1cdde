// @ts-check
/**
 * TensorFlow.js and sharp stay out of the server bundle: the wasm backend finds its `.wasm` files
 * next to its own JS in node_modules, and sharp loads a native addon; both break when bundled.
 * @type {import('next').NextConfig}
 */
const nextConfig = {
  serverExternalPackages: [
    '@tensorflow/tfjs-core',
    '@tensorflow/tfjs-layers',
    '@tensorflow/tfjs-backend-cpu',
    '@tensorflow/tfjs-backend-wasm',
    '@tensorflow/tfjs-node',
    '@tensorflow/tfjs-node-gpu',
    'sharp',
  ],
  poweredByHeader: false,
  reactStrictMode: true,
};

module.exports = nextConfig;
