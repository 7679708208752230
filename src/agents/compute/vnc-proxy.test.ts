import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { WebSocket } from 'ws';
import { silentLog } from '../../core/log.js';
import { createVncProxy, tokenOf } from './vnc-proxy.js';

test('token from ?token= or from noVNC\'s path parameter', () => {
  assert.equal(tokenOf('/websockify?token=abc'), 'abc');
  assert.equal(tokenOf('/vnc_lite.html?path=%3Ftoken%3Dxyz'), 'xyz');
  assert.equal(tokenOf('/websockify'), undefined);
});

test('a valid token is piped both ways to the guest VNC server; an unknown one is refused', async () => {
  // A pretend VNC server: sends the RFB banner, echoes what it gets.
  const vnc = createServer((s) => {
    s.write('RFB 003.008\n');
    s.on('data', (d) => s.write(Buffer.concat([Buffer.from('echo:'), d])));
  });
  await new Promise<void>((r) => vnc.listen(0, '127.0.0.1', r));
  const target = { host: '127.0.0.1', port: (vnc.address() as AddressInfo).port };
  const proxy = createVncProxy({ log: silentLog(), resolve: async (t) => (t === 'good' ? target : undefined), staticDir: '/nonexistent' });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const port = (proxy.address() as AddressInfo).port;
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/websockify?token=good`, ['binary']);
    const got: string[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on('error', reject);
      ws.on('message', (d: Buffer) => {
        got.push(d.toString());
        if (got.length === 1) ws.send(Buffer.from('RFB 003.008\n'));
        else resolve();
      });
    });
    assert.equal(ws.protocol, 'binary');
    assert.deepEqual(got, ['RFB 003.008\n', 'echo:RFB 003.008\n']);
    ws.close();
    const bad = new WebSocket(`ws://127.0.0.1:${port}/websockify?token=bad`);
    const err = await new Promise<Error>((resolve) => bad.on('error', resolve));
    assert.match(err.message, /401/);
    const page = await fetch(`http://127.0.0.1:${port}/vnc_lite.html`);
    assert.equal(page.status, 404);
    assert.match(await page.text(), /novnc/);
  } finally {
    proxy.close();
    vnc.close();
  }
});
