import { guarded, handleJobResult } from '@/lib/server/routes';

export const GET = guarded(async (_request: Request, context: { params: Promise<{ id: string }> }) =>
  handleJobResult((await context.params).id),
);
