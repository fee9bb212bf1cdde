'use client';

/**
 * Re-renders the server page every few seconds while a training run is live. The updates can be
 * paused: numbers and charts that change under someone reading them, or under a screen reader's
 * cursor, are a barrier (WCAG 2.2.2), and the page is still there, as it was, while paused.
 */
import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';

export function AutoRefresh({ seconds }: { seconds: number }) {
  const router = useRouter();
  const [paused, setPaused] = useState(false);
  useEffect(() => {
    if (paused) return;
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') router.refresh();
    }, seconds * 1000);
    return () => clearInterval(timer);
  }, [router, seconds, paused]);
  return (
    <div className="live-status">
      <span className="badge live">
        <span aria-hidden="true">● </span>Live
      </span>
      <span className="muted small" data-testid="refresh-state">
        {paused ? 'Updates paused' : `Updates every ${seconds} s`}
      </span>
      <button
        type="button"
        className="button compact"
        onClick={() => {
          // What is on screen may be minutes old by now: catch up at once rather than in `seconds`.
          if (paused) router.refresh();
          setPaused(!paused);
        }}
      >
        {paused ? 'Resume updates' : 'Pause updates'}
      </button>
    </div>
  );
}
