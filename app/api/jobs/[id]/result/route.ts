import { allowedMethods, guarded, handleJobResult, methodNotAllowed } from '@/lib/server/routes';

export const GET = guarded(async (_request: Request, context: { params: Promise<{ id: string }> }) =>
  handleJobResult((await context.params).id),
);

/** Other methods: 405 in the JSON error shape, with `Allow`. */
const notAllowed = methodNotAllowed('GET');
export { notAllowed as POST, notAllowed as PUT, notAllowed as PATCH, notAllowed as DELETE };
export const OPTIONS = allowedMethods('GET');
