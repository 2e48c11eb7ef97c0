import { InProcessJobQueue } from './in-process-job-queue.js';
import type { JobPayload } from './job-queue.port.js';

/** A promise and its resolver, for handlers that wait on the test. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('InProcessJobQueue', () => {
  it('runs a job by its name with a copy of its payload, once started', async () => {
    const queue = new InProcessJobQueue(2);
    const seen: JobPayload[] = [];
    queue.registerWorker('a', async (payload) => {
      seen.push(payload);
    });
    const payload = { id: 'm1', n: 1 };
    await queue.enqueue('a', payload);
    payload.n = 2;
    expect(seen).toEqual([]);
    queue.start();
    await queue.idle();
    expect(seen).toEqual([{ id: 'm1', n: 1 }]);
    await queue.stop();
  });

  it('waits the delay before running a delayed job', async () => {
    const queue = new InProcessJobQueue(2);
    const ran = gate();
    const started = Date.now();
    queue.registerWorker('later', () => {
      ran.open();
      return Promise.resolve();
    });
    queue.start();
    await queue.enqueue('later', {}, { delayMs: 60 });
    expect(queue.pending.delayed).toBe(1);
    await ran.promise;
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    await queue.stop();
  });

  it('runs at most `concurrency` jobs at once', async () => {
    const queue = new InProcessJobQueue(2);
    const release = gate();
    let running = 0;
    let most = 0;
    queue.registerWorker('w', async () => {
      running++;
      most = Math.max(most, running);
      await release.promise;
      running--;
    });
    queue.start();
    for (let i = 0; i < 5; i++) await queue.enqueue('w', { i });
    expect(queue.pending).toEqual({ ready: 3, delayed: 0, running: 2 });
    release.open();
    await queue.idle();
    expect(most).toBe(2);
    await queue.stop();
  });

  it('logs a failing job and goes on with the next; a job without a worker is dropped', async () => {
    const queue = new InProcessJobQueue(1);
    const done: string[] = [];
    queue.registerWorker('bad', () => Promise.reject(new Error('boom')));
    queue.registerWorker('good', async () => {
      done.push('good');
    });
    queue.start();
    await queue.enqueue('bad', {});
    await queue.enqueue('nobody', {});
    await queue.enqueue('good', {});
    await queue.idle();
    expect(done).toEqual(['good']);
    await queue.stop();
  });

  it('refuses a second worker for one name', () => {
    const queue = new InProcessJobQueue(1);
    queue.registerWorker('x', () => Promise.resolve());
    expect(() => queue.registerWorker('x', () => Promise.resolve())).toThrow(/already registered/);
  });

  it('stops: waits for the jobs running, drops those waiting and delayed, takes no more', async () => {
    const queue = new InProcessJobQueue(1);
    const release = gate();
    const entered = gate();
    const ran: number[] = [];
    queue.registerWorker('w', async (payload) => {
      entered.open();
      await release.promise;
      ran.push(payload.i as number);
    });
    queue.start();
    await queue.enqueue('w', { i: 1 });
    await queue.enqueue('w', { i: 2 });
    await queue.enqueue('w', { i: 3 }, { delayMs: 10 });
    await entered.promise;
    let stopped = false;
    const stopping = queue.stop().then(() => {
      stopped = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    release.open();
    await stopping;
    await queue.enqueue('w', { i: 4 });
    // Nothing is left that could still run: no timer, nothing ready.
    expect(ran).toEqual([1]);
    expect(queue.pending).toEqual({ ready: 0, delayed: 0, running: 0 });
  });
});
