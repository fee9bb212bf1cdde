import { guarded, handleToolRequest, parseColorizeQuery } from '@/lib/server/routes';

/** Multipart `image` -> colour PNG of the same size; `?variant=` picks an installed variant (e.g. vivid). */
export const POST = guarded((request: Request) => handleToolRequest(request, parseColorizeQuery(request.url)));
