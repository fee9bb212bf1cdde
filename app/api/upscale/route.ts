import { guarded, handleToolRequest, parseScaleQuery } from '@/lib/server/routes';

/** `?scale=2|4`, multipart `image` -> PNG `scale` times larger. */
export const POST = guarded((request: Request) => handleToolRequest(request, { task: 'upscale', scale: parseScaleQuery(request.url) }));
