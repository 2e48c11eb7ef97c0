/**
 * The BullMQ job queue against the real Redis of this machine, as two instances of the service use
 * it: each with its own producer and worker on one queue. Database 14, which no suite flushes (the
 * cluster suites flush 9-13 and 15; the token store test shares 14 under a namespace of its own),
 * under a key prefix of this run's own; only those keys are deleted afterwards.
 */
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import {
  BullJobQueue,
  JOBS_QUEUE_NAME,
  producerConnection,
  redisOptionsFromUrl,
} from '../../src/jobs/bullmq-job-queue.js';
import type { JobPayload } from '../../src/jobs/job-queue.port.js';

const REDIS_URL = 'redis://127.0.0.1:6379/14';
const PREFIX = `wxb-test-${process.pid}-${randomBytes(4).toString('hex')}`;

interface Ran {
  on: string;
  name: string;
  payload: JobPayload;
  at: number;
}

/** Resolves with the first `count` runs recorded in `log`, as soon as there are that many. */
function runs(log: Ran[], count: number, timeoutMs = 10_000): Promise<Ran[]> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const check = () => {
      if (log.length >= count) return resolve(log.slice(0, count));
      if (Date.now() - started > timeoutMs)
        return reject(new Error(`only ${log.length} of ${count} jobs ran`));
      setTimeout(check, 5);
    };
    check();
  });
}

describe('BullJobQueue (real Redis)', () => {
  const queues: BullJobQueue[] = [];
  const producers: Queue[] = [];
  let admin: Redis;

  /** One instance's queue: a producer and (once started) a worker of its own. */
  function instance(concurrency = 4): BullJobQueue {
    const producer = new Queue(JOBS_QUEUE_NAME, {
      connection: producerConnection(REDIS_URL),
      prefix: PREFIX,
    });
    producers.push(producer);
    const queue = new BullJobQueue(producer, { url: REDIS_URL, prefix: PREFIX, concurrency });
    queues.push(queue);
    return queue;
  }

  beforeAll(() => {
    admin = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  });

  afterEach(async () => {
    await Promise.all(queues.splice(0).map((queue) => queue.stop()));
    await Promise.all(producers.splice(0).map((producer) => producer.close()));
    const keys = await admin.keys(`${PREFIX}:*`);
    if (keys.length > 0) await admin.del(...keys);
  });

  afterAll(async () => {
    await admin.quit();
  });

  it('parses REDIS_URL into connection options', () => {
    expect(redisOptionsFromUrl('rediss://u%40x:p%3Aw@cache.example:6380/3')).toMatchObject({
      host: 'cache.example',
      port: 6380,
      username: 'u@x',
      password: 'p:w',
      db: 3,
      tls: {},
    });
    expect(redisOptionsFromUrl('redis://127.0.0.1:6379')).toMatchObject({ db: 0, tls: undefined });
  });

  it('runs a job enqueued by one instance on a worker of the other, by name, with its payload', async () => {
    const log: Ran[] = [];
    const a = instance();
    const b = instance();
    b.registerWorker('greet', async (payload) => {
      log.push({ on: 'b', name: 'greet', payload, at: Date.now() });
    });
    a.registerWorker('greet', async (payload) => {
      log.push({ on: 'a', name: 'greet', payload, at: Date.now() });
    });
    b.start(); // only b works the queue
    await a.enqueue('greet', { id: 'm1', n: 2, ok: true, none: null });
    const [ran] = await runs(log, 1);
    expect(ran).toMatchObject({ on: 'b', payload: { id: 'm1', n: 2, ok: true, none: null } });
  });

  it('holds a job in Redis until a worker starts, and a delayed one until its time', async () => {
    const log: Ran[] = [];
    const a = instance();
    a.registerWorker('w', async (payload) => {
      log.push({ on: 'a', name: 'w', payload, at: Date.now() });
    });
    await a.enqueue('w', { i: 1 });
    const enqueued = Date.now();
    await a.enqueue('w', { i: 2 }, { delayMs: 400 });
    const waiting = await producers[0].getJobCounts('waiting', 'delayed');
    expect(waiting).toEqual({ waiting: 1, delayed: 1 });
    a.start();
    const [first, second] = await runs(log, 2);
    expect(first.payload).toEqual({ i: 1 });
    expect(second.payload).toEqual({ i: 2 });
    expect(second.at - enqueued).toBeGreaterThanOrEqual(380);
  });

  it('runs each job once with two workers on the queue, and leaves no job behind', async () => {
    const log: Ran[] = [];
    const [a, b] = [instance(), instance()];
    for (const [name, queue] of [
      ['a', a],
      ['b', b],
    ] as const) {
      queue.registerWorker('w', async (payload) => {
        log.push({ on: name, name: 'w', payload, at: Date.now() });
      });
      queue.start();
    }
    await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).enqueue('w', { i })));
    await runs(log, 40);
    const seen = log.map((ran) => ran.payload.i as number).sort((x, y) => x - y);
    expect(seen).toEqual(Array.from({ length: 40 }, (_, i) => i));
    const counts = await producers[0].getJobCounts('waiting', 'delayed', 'active', 'completed', 'failed');
    expect(counts).toEqual({ waiting: 0, delayed: 0, active: 0, completed: 0, failed: 0 });
  });

  it('a failing handler is logged and its job dropped, not retried', async () => {
    const log: Ran[] = [];
    const a = instance(1);
    let calls = 0;
    a.registerWorker('bad', async () => {
      calls++;
      throw new Error('boom');
    });
    a.registerWorker('good', async (payload) => {
      log.push({ on: 'a', name: 'good', payload, at: Date.now() });
    });
    a.start();
    await a.enqueue('bad', {});
    await a.enqueue('good', {});
    await runs(log, 1);
    expect(calls).toBe(1);
  });

  it('stop() waits for the job running, and the worker takes nothing after', async () => {
    const a = instance(1);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const started = new Promise<void>((resolve) => (entered = resolve));
    let finished = false;
    let later = 0;
    a.registerWorker('slow', async () => {
      entered();
      await held;
      finished = true;
    });
    a.registerWorker('later', async () => {
      later++;
    });
    a.start();
    await a.enqueue('slow', {});
    await started;
    let stopped = false;
    const stopping = a.stop().then(() => {
      stopped = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(finished).toBe(true);
    // After stop, enqueue drops the job (the feature's sweep finds its row at the next start).
    await a.enqueue('later', {});
    const counts = await producers[0].getJobCounts('waiting', 'delayed', 'active');
    expect(counts).toEqual({ waiting: 0, delayed: 0, active: 0 });
    expect(later).toBe(0);
  });

  it('an enqueue fails within seconds when Redis cannot be reached, never hanging', async () => {
    const url = 'redis://127.0.0.1:1/0';
    const producer = new Queue(JOBS_QUEUE_NAME, { connection: producerConnection(url), prefix: PREFIX });
    producer.on('error', () => undefined);
    producers.push(producer);
    const queue = new BullJobQueue(producer, { url, prefix: PREFIX, concurrency: 1 });
    const started = Date.now();
    await expect(queue.enqueue('w', {})).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});
