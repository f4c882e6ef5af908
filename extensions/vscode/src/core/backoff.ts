/**
 * Restart policy for a crashing language server: exponential backoff with a cap, a crash
 * budget within a sliding window (so a server that dies on start does not loop forever),
 * and a reset once the server has stayed up for a while.
 */

export interface BackoffOptions {
  /** Delay before the first restart (ms). */
  initialDelayMs: number;
  /** Upper bound of the delay (ms). */
  maxDelayMs: number;
  /** Give up after this many crashes within `windowMs`. */
  maxCrashes: number;
  windowMs: number;
  /** A run this long without a crash counts as healthy: the delay starts over. */
  stableAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = {
  initialDelayMs: 1000,
  maxDelayMs: 30_000,
  maxCrashes: 5,
  windowMs: 3 * 60_000,
  stableAfterMs: 60_000,
};

export type RestartDecision =
  | { restart: true; delayMs: number; attempt: number }
  | { restart: false; crashes: number };

export class RestartBackoff {
  private crashes: number[] = [];
  private startedAt: number | undefined;
  private attempt = 0;

  constructor(private readonly options: BackoffOptions = DEFAULT_BACKOFF) {}

  /** The server (re)started at `now`. */
  started(now: number): void {
    this.startedAt = now;
  }

  /** The server died at `now`: should it be restarted, and after how long? */
  crashed(now: number): RestartDecision {
    if (this.startedAt !== undefined && now - this.startedAt >= this.options.stableAfterMs) {
      this.attempt = 0;
    }
    this.crashes = this.crashes.filter((t) => now - t < this.options.windowMs);
    this.crashes.push(now);
    if (this.crashes.length > this.options.maxCrashes) {
      return { restart: false, crashes: this.crashes.length };
    }
    const delayMs = Math.min(this.options.maxDelayMs, this.options.initialDelayMs * 2 ** this.attempt);
    this.attempt += 1;
    return { restart: true, delayMs, attempt: this.attempt };
  }

  /** Forget the crash history (the user restarted the server by hand). */
  reset(): void {
    this.crashes = [];
    this.attempt = 0;
    this.startedAt = undefined;
  }
}

/** "3 s", "1.5 s", "30 s": a delay as a user reads it. */
export function formatDelay(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}
