import { allowedMethods, guarded, handleToolRequest, methodNotAllowed, parseColorizeQuery } from '@/lib/server/routes';

/** Multipart `image` -> colour PNG of the same size; `?variant=` picks an installed variant (e.g. vivid). */
export const POST = guarded((request: Request) => handleToolRequest(request, parseColorizeQuery(request.url)));

/** Other methods: 405 in the JSON error shape, with `Allow`. */
const notAllowed = methodNotAllowed('POST');
export { notAllowed as GET, notAllowed as PUT, notAllowed as PATCH, notAllowed as DELETE };
export const OPTIONS = allowedMethods('POST');
