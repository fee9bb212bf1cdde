import { allowedMethods, guarded, handleCreateJob, methodNotAllowed } from '@/lib/server/routes';

/** Multipart `image` + `task` + `scale` -> 202 `{ id, status, ... }`; poll `/api/jobs/:id`. */
export const POST = guarded((request: Request) => handleCreateJob(request));

/** Other methods: 405 in the JSON error shape, with `Allow`. */
const notAllowed = methodNotAllowed('POST');
export { notAllowed as GET, notAllowed as PUT, notAllowed as PATCH, notAllowed as DELETE };
export const OPTIONS = allowedMethods('POST');
