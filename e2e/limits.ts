/**
 * Limits the e2e web server runs with: smaller than the defaults so that the "too large" paths are
 * cheap to exercise. The server reads them from the environment, which also tests that parsing.
 */
export const E2E_LIMITS = {
  MAX_UPLOAD_BYTES: 3_000_000,
  MAX_INPUT_PIXELS: 4_000_000,
  MAX_OUTPUT_PIXELS: 8_000_000,
} as const;
