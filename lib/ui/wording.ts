/** Sentences the pages build from numbers, kept pure so that 0 and 1 read right. */

/** The help's line about the job queue, for a server that lets `maxWaiting` jobs wait behind the running one. */
export function queueHelp(maxWaiting: number): string {
  if (maxWaiting <= 0) return 'One image is processed at a time; while one is being processed, try again shortly.';
  const waiting = maxWaiting === 1 ? '1 more' : `up to ${maxWaiting} more`;
  return `One image is processed at a time and ${waiting} can wait in line; when the line is full, try again shortly.`;
}
