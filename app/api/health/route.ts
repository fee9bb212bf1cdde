import { connection } from 'next/server';
import { guarded, handleHealth } from '@/lib/server/routes';

export const GET = guarded(async () => {
  await connection();
  return handleHealth();
});
