// Next's ambient types (CSS imports, images) without depending on the generated, git-ignored
// next-env.d.ts, so that `tsc --noEmit` passes on a fresh clone before any build.
/// <reference types="next" />
/// <reference types="next/image-types/global" />
