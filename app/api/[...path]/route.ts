import { guarded, handleUnknownApiPath } from '@/lib/server/routes';

/** Every method on a path under /api/ that is no endpoint: 404 in the JSON error shape. */
const unknown = guarded(handleUnknownApiPath);
export { unknown as GET, unknown as POST, unknown as PUT, unknown as PATCH, unknown as DELETE, unknown as OPTIONS };
