'use client';

/** Re-renders the server page every few seconds while a training run is live. */
import { useRouter } from 'next/navigation';
import { useEffect } from 'react';

export function AutoRefresh({ seconds }: { seconds: number }) {
  const router = useRouter();
  useEffect(() => {
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') router.refresh();
    }, seconds * 1000);
    return () => clearInterval(timer);
  }, [router, seconds]);
  return (
    <span className="badge live" title={`Refreshing every ${seconds} s`}>
      ● Live
    </span>
  );
}
