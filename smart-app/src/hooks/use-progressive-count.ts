/**
 * How many items of a long list to render now: a first screenful at once, then the rest in
 * chunks, each in a transition after the browser has painted. A 500-event timeline shows its
 * newest events at once instead of after every card is built, and typing or clicking while the
 * rest fills in stays responsive (React interrupts a transition for input).
 */
import { startTransition, useEffect, useState } from 'react';

/** Items rendered in the first pass: more than fit the tallest EHR panel. */
export const FIRST_CHUNK = 30;
/** Items added per later pass. */
export const NEXT_CHUNK = 120;

export function useProgressiveCount(total: number): number {
  const [count, setCount] = useState(FIRST_CHUNK);
  useEffect(() => {
    if (count >= total) return;
    const timer = setTimeout(() => {
      startTransition(() => {
        setCount((c) => c + NEXT_CHUNK);
      });
    }, 0);
    return () => {
      clearTimeout(timer);
    };
  }, [count, total]);
  return Math.min(count, total);
}
