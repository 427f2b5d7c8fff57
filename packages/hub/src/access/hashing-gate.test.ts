import { describe, expect, it } from 'vitest';
import { HashingBusyError, HashingGate } from './hashing-gate.js';

/** A task that runs until the test lets it finish. */
function heldTask() {
  let release: () => void = () => undefined;
  let started = false;
  const done = new Promise<void>((resolve) => {
    release = resolve;
  });
  return {
    run: async () => {
      started = true;
      await done;
      return 'done';
    },
    release: () => release(),
    get started() {
      return started;
    },
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('the password hashing gate (at most N at once, a bounded queue, refusal beyond it)', () => {
  it('runs at most maxActive tasks at once, queues up to maxWaiting in order, refuses the rest at once', async () => {
    const gate = new HashingGate(2, 3);
    const tasks = Array.from({ length: 7 }, heldTask);
    const results = tasks.map((task) =>
      gate.run(task.run).then(
        (value) => value,
        (error: unknown) => error,
      ),
    );
    await settle();
    expect(tasks.map((t) => t.started)).toEqual([true, true, false, false, false, false, false]);
    expect([gate.active, gate.waiting]).toEqual([2, 3]);
    // The two beyond the queue are refused without running, with a time to come back.
    for (const refused of await Promise.all(results.slice(5))) {
      expect(refused).toBeInstanceOf(HashingBusyError);
      expect(refused).toMatchObject({ code: 'hashing-busy', retryAfterS: 1 });
    }
    tasks[0]?.release();
    await settle();
    expect(tasks.map((t) => t.started)).toEqual([true, true, true, false, false, false, false]);
    expect([gate.active, gate.waiting]).toEqual([2, 2]);
    for (const task of tasks.slice(1, 5)) {
      task.release();
      await settle();
      expect(gate.active).toBeLessThanOrEqual(2);
    }
    expect(await Promise.all(results.slice(0, 5))).toEqual(['done', 'done', 'done', 'done', 'done']);
    expect([gate.active, gate.waiting]).toEqual([0, 0]);
  });

  it('frees the slot of a task that fails', async () => {
    const gate = new HashingGate(1, 0);
    await expect(gate.run(() => Promise.reject(new Error('scrypt failed')))).rejects.toThrow('scrypt failed');
    expect(await gate.run(async () => 'next')).toBe('next');
    expect([gate.active, gate.waiting]).toEqual([0, 0]);
  });
});
