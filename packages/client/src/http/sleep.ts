import type { Sleep } from './types.js';

/**
 * The real-time `Sleep`: a timer that an AbortSignal cancels. Tests inject their own instead.
 *
 * @example
 * await realSleep(250, AbortSignal.timeout(1000));
 */
export const realSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
