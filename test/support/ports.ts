import { createServer } from 'node:net';

/**
 * A free TCP port on loopback. Ports come from 20000–32767, below Linux's
 * ephemeral range (32768–60999): a port the kernel handed out with listen(0)
 * can be taken again by any outgoing connection before the test binds it.
 * Each test process starts at its own offset and never hands a port out twice.
 */
const FIRST = 20000;
const COUNT = 12768;
const given = new Set<number>();
let cursor = (process.pid * 97) % COUNT;

export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < COUNT; attempt++) {
    const port = FIRST + (cursor++ % COUNT);
    if (given.has(port)) continue;
    if (await canBind(port)) {
      given.add(port);
      return port;
    }
  }
  throw new Error('no free port');
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}
