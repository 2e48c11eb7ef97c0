import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { PeriodicSweep } from './periodic-sweep.js';

describe('PeriodicSweep', () => {
  const log = new Logger('test');

  it('passes never overlap, and stop() waits for the one under way', async () => {
    let running = 0;
    let most = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const task = new PeriodicSweep(
      'test',
      60_000,
      async () => {
        running++;
        most = Math.max(most, running);
        await gate;
        running--;
      },
      log,
    );
    const first = task.run();
    const second = task.run();
    let stopped = false;
    const stopping = task.stop().then(() => (stopped = true));
    await Promise.resolve();
    expect(stopped).toBe(false);
    release();
    await Promise.all([first, second, stopping]);
    expect([most, running, stopped]).toEqual([1, 0, true]);
  });

  it('a failing pass is logged, and the next one still runs', async () => {
    const warn = jest.spyOn(log, 'warn').mockImplementation(() => undefined);
    let calls = 0;
    const task = new PeriodicSweep(
      'test',
      60_000,
      async () => {
        calls++;
        if (calls === 1) throw new Error('database down');
      },
      log,
    );
    await task.run();
    await task.run();
    expect(calls).toBe(2);
    expect(warn).toHaveBeenCalledWith('test pass failed: database down');
    warn.mockRestore();
  });

  it('start() makes a pass at once; once stopped it never starts again', async () => {
    let calls = 0;
    let passed!: () => void;
    const first = new Promise<void>((resolve) => (passed = resolve));
    const sweep = new PeriodicSweep(
      'test',
      60_000,
      async () => {
        calls++;
        passed();
      },
      log,
    );
    sweep.start();
    await first;
    await sweep.stop();
    sweep.start();
    await sweep.stop();
    expect(calls).toBe(1);
  });
});
