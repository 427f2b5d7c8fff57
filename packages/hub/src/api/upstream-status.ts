import { OperationOutcomeError } from '@junction/core';

/**
 * Reachability of an upstream NHS API as seen from the calls the hub made (no extra probing, so
 * health checks never cost PDS quota): any HTTP answer, even a 404, means it is reachable.
 */
export class UpstreamStatus {
  private last: { at: string; reachable: boolean; status?: number } | undefined;

  constructor(private readonly now: () => Date) {}

  record(outcome: { ok: true } | { ok: false; error: unknown }): void {
    const at = this.now().toISOString();
    if (outcome.ok) {
      this.last = { at, reachable: true, status: 200 };
      return;
    }
    const e = outcome.error;
    const status = e instanceof OperationOutcomeError ? e.status : undefined;
    const unreachable =
      !(e instanceof OperationOutcomeError) ||
      e.code === 'UNABLE_TO_CALL_SERVICE' ||
      [502, 503, 504].includes(e.status);
    this.last =
      status === undefined ? { at, reachable: !unreachable } : { at, reachable: !unreachable, status };
  }

  summary(): { status: 'unknown' | 'reachable' | 'unreachable'; lastCallAt?: string; lastStatus?: number } {
    if (!this.last) return { status: 'unknown' };
    const s = {
      status: this.last.reachable ? ('reachable' as const) : ('unreachable' as const),
      lastCallAt: this.last.at,
    };
    return this.last.status === undefined ? s : { ...s, lastStatus: this.last.status };
  }
}
