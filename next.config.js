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
  // `npm test` type-checks the whole repo first (npm run typecheck); doing it again inside
  // `next build` costs about a minute on a 2-core machine for nothing.
  typescript: { ignoreBuildErrors: true },
  poweredByHeader: false,
  reactStrictMode: true,
};

module.exports = nextConfig;
