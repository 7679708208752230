import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QmpClient, QmpClosedError, QmpError } from './qmp-client.js';

/** A QMP server speaking the protocol's shape: greeting, capabilities, replies by id, events in between. */
async function fakeQemu(onCommand: (cmd: { execute: string; id?: string; arguments?: unknown }, sock: Socket) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'qmp-'));
  const path = join(dir, 'qmp.sock');
  const server = createServer((sock) => {
    sock.write(`${JSON.stringify({ QMP: { version: { qemu: { major: 7, minor: 2, micro: 0 }, package: '' }, capabilities: ['oob'] } })}\n`);
    let buf = '';
    sock.on('data', (c) => {
      buf += c.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        onCommand(JSON.parse(line), sock);
      }
    });
  });
  await new Promise<void>((r) => server.listen(path, r));
  return { path, close: () => new Promise<void>((r) => server.close(() => { rmSync(dir, { recursive: true, force: true }); r(); })) };
}

test('negotiates, matches replies by id, surfaces errors and events', async () => {
  const q = await fakeQemu((cmd, sock) => {
    const reply = (body: object) => sock.write(`${JSON.stringify({ ...body, id: cmd.id })}\n`);
    if (cmd.execute === 'qmp_capabilities') return reply({ return: {} });
    if (cmd.execute === 'query-status') {
      sock.write(`${JSON.stringify({ event: 'RESUME', timestamp: { seconds: 1, microseconds: 0 } })}\n`);
      return reply({ return: { status: 'running', running: true } });
    }
    if (cmd.execute === 'device_del') return reply({ error: { class: 'DeviceNotFound', desc: "Device 'x' not found" } });
    if (cmd.execute === 'system_powerdown') {
      reply({ return: {} });
      sock.write(`${JSON.stringify({ event: 'SHUTDOWN', data: { guest: true, reason: 'guest-shutdown' } })}\n`);
      sock.end();
    }
  });
  const c = await QmpClient.connect(q.path);
  assert.equal(c.greeting?.QMP.version.qemu.major, 7);
  const events: string[] = [];
  c.on('event', (e) => events.push(e.event));
  assert.deepEqual(await c.execute('query-status'), { status: 'running', running: true });
  assert.deepEqual(events, ['RESUME']);
  await assert.rejects(c.execute('device_del', { id: 'x' }), (e: unknown) => e instanceof QmpError && e.errorClass === 'DeviceNotFound');
  const shutdown = c.waitForEvent('SHUTDOWN', (e) => e.data?.['reason'] === 'guest-shutdown');
  await c.execute('system_powerdown');
  await shutdown;
  await c.closed;
  await assert.rejects(c.execute('query-status'), QmpClosedError);
  await q.close();
});
