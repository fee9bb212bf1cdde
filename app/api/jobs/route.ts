import { guarded, handleCreateJob } from '@/lib/server/routes';

/** Multipart `image` + `task` + `scale` -> 202 `{ id, status, ... }`; poll `/api/jobs/:id`. */
export const POST = guarded((request: Request) => handleCreateJob(request));
