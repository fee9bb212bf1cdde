import { guarded, handleCancelJob, handleGetJob } from '@/lib/server/routes';

export const GET = guarded(async (_request: Request, context: { params: Promise<{ id: string }> }) =>
  handleGetJob((await context.params).id),
);

export const DELETE = guarded(async (_request: Request, context: { params: Promise<{ id: string }> }) =>
  handleCancelJob((await context.params).id),
);
