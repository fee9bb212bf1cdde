import { allowedMethods, guarded, handleTranslateRequest, methodNotAllowed } from '@/lib/server/routes';

/** Multipart `image` (+ `model`, or `?model=`: a paired model's name) -> PNG of the same size. */
export const POST = guarded((request: Request) => handleTranslateRequest(request));

/** Other methods: 405 in the JSON error shape, with `Allow`. */
const notAllowed = methodNotAllowed('POST');
export { notAllowed as GET, notAllowed as PUT, notAllowed as PATCH, notAllowed as DELETE };
export const OPTIONS = allowedMethods('POST');
