import { connection } from 'next/server';
import { allowedMethods, guarded, handleModels, methodNotAllowed } from '@/lib/server/routes';

export const GET = guarded(async () => {
  await connection();
  return handleModels();
});

/** Other methods: 405 in the JSON error shape, with `Allow`. */
const notAllowed = methodNotAllowed('GET');
export { notAllowed as POST, notAllowed as PUT, notAllowed as PATCH, notAllowed as DELETE };
export const OPTIONS = allowedMethods('GET');
