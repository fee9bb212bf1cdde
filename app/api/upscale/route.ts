import { guarded, handleToolRequest, parseUpscaleQuery } from '@/lib/server/routes';

/** `?scale=2|4[&variant=sharp]`, multipart `image` -> PNG `scale` times larger. */
export const POST = guarded((request: Request) => handleToolRequest(request, parseUpscaleQuery(request.url)));
