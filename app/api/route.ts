import { guarded, handleUnknownApiPath } from '@/lib/server/routes';

/** `/api` itself (the catch-all `[...path]` needs at least one segment): 404 in the JSON error shape. */
const unknown = guarded(handleUnknownApiPath);
export { unknown as GET, unknown as POST, unknown as PUT, unknown as PATCH, unknown as DELETE, unknown as OPTIONS };
