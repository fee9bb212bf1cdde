import { allowedMethods, guarded, handleToolRequest, methodNotAllowed, parseUpscaleQuery } from '@/lib/server/routes';

/** `?scale=2|4[&variant=sharp]`, multipart `image` -> PNG `scale` times larger. */
export const POST = guarded((request: Request) => handleToolRequest(request, parseUpscaleQuery(request.url)));

/** Other methods: 405 in the JSON error shape, with `Allow`. */
const notAllowed = methodNotAllowed('POST');
export { notAllowed as GET, notAllowed as PUT, notAllowed as PATCH, notAllowed as DELETE };
export const OPTIONS = allowedMethods('POST');
