import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createInProcessBus } from './in-process-bus.js';
import { BusRemoteError, BusTimeoutError } from './bus.js';

test('call gets the reply; messages are copied', async () => {
  const bus = createInProcessBus();
  const seen: unknown[] = [];
  await bus.consume('q', async (m) => {
    seen.push(m);
    m["n"] = 99;
    return { doubled: (m['n'] as number) * 2 };
  });
  const msg = { type: 't.x', v: 1, n: 21 };
  assert.deepEqual(await bus.call('q', msg), { doubled: 198 });
  assert.equal(msg.n, 21, 'the sender never sees the receiver mutate its message');
  await bus.close();
});

test('casts wait for a consumer; round robin across consumers', async () => {
  const bus = createInProcessBus();
  await bus.cast('work', { type: 'w', v: 1, i: 1 });
  const got: string[] = [];
  const done = new Promise<void>((resolve) => {
    void bus.consume('work', async (m) => {
      got.push(`a${m['i']}`);
      if (got.length === 3) resolve();
    });
    void bus.consume('work', async (m) => {
      got.push(`b${m['i']}`);
      if (got.length === 3) resolve();
    });
  });
  await bus.cast('work', { type: 'w', v: 1, i: 2 });
  await bus.cast('work', { type: 'w', v: 1, i: 3 });
  await done;
  assert.deepEqual(got.sort(), ['a1', 'a3', 'b2'].sort());
  await bus.close();
});

test('remote errors and timeouts reach the caller', async () => {
  const bus = createInProcessBus();
  await bus.consume('fail', async () => {
    throw new Error('boom');
  });
  await assert.rejects(bus.call('fail', { type: 'f', v: 1 }), (e: unknown) => e instanceof BusRemoteError && e.message === 'boom');
  await assert.rejects(bus.call('nobody', { type: 'f', v: 1 }, { timeoutMs: 20 }), BusTimeoutError);
  await bus.close();
});

test('publish fans out to every subscriber', async () => {
  const bus = createInProcessBus();
  const got: number[] = [];
  await bus.subscribe('t', (m) => void got.push(1 + (m['x'] as number)));
  await bus.subscribe('t', (m) => void got.push(10 + (m['x'] as number)));
  await bus.publish('t', { type: 'e', v: 1, x: 1 });
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(got.sort((a, b) => a - b), [2, 11]);
  await bus.close();
});
