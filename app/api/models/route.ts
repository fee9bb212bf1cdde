import { connection } from 'next/server';
import { guarded, handleModels } from '@/lib/server/routes';

export const GET = guarded(async () => {
  await connection();
  return handleModels();
});
