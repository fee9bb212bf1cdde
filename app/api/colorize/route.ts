import { guarded, handleToolRequest } from '@/lib/server/routes';

/** Multipart `image` -> colour PNG of the same size. */
export const POST = guarded((request: Request) => handleToolRequest(request, { task: 'colorize' }));
