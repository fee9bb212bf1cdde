import { allowedMethods, guarded, handleCancelJob, handleGetJob, methodNotAllowed } from '@/lib/server/routes';

export const GET = guarded(async (_request: Request, context: { params: Promise<{ id: string }> }) =>
  handleGetJob((await context.params).id),
);

export const DELETE = guarded(async (_request: Request, context: { params: Promise<{ id: string }> }) =>
  handleCancelJob((await context.params).id),
);

/** Other methods: 405 in the JSON error shape, with `Allow`. */
const notAllowed = methodNotAllowed('GET', 'DELETE');
export { notAllowed as POST, notAllowed as PUT, notAllowed as PATCH };
export const OPTIONS = allowedMethods('GET', 'DELETE');
