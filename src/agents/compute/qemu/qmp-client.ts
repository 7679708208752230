import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import type { QmpArgs, QmpCommand, QmpEvent, QmpGreeting, QmpReturn } from './qmp-types.js';

/**
 * A typed QMP client over QEMU's monitor UNIX socket. QMP is newline
 * delimited JSON: a greeting, then `qmp_capabilities`, then commands whose
 * replies come back in order, with asynchronous events interleaved. Each
 * command carries an `id` so replies are matched even if QEMU ever reorders.
 */

export class QmpError extends Error {
  constructor(
    readonly command: string,
    readonly errorClass: string,
    desc: string,
  ) {
    super(`QMP ${command}: ${errorClass}: ${desc}`);
    this.name = 'QmpError';
  }
}

export class QmpClosedError extends Error {
  constructor(what: string) {
    super(`QMP connection closed ${what}`);
    this.name = 'QmpClosedError';
  }
}

interface Pending {
  command: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export interface QmpConnectOptions {
  /** Give up connecting/negotiating after this long. Default 5 s. */
  timeoutMs?: number;
  /** Default timeout for each command. Default 30 s. */
  commandTimeoutMs?: number;
}

export class QmpClient extends EventEmitter<{ event: [QmpEvent]; close: [] }> {
  private buffer = '';
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  private isClosed = false;
  greeting: QmpGreeting | undefined;
  /** Resolves when the socket closes (QEMU exited or close() was called). */
  readonly closed: Promise<void>;
  private onGreeting: ((g: QmpGreeting) => void) | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly commandTimeoutMs: number,
  ) {
    super();
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.isClosed = true;
        for (const [id, p] of this.pending) {
          clearTimeout(p.timer);
          p.reject(new QmpClosedError(`during ${p.command}`));
          this.pending.delete(id);
        }
        this.emit('close');
        resolve();
      });
    });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', () => {
      /* 'close' follows and fails pending commands */
    });
  }

  static async connect(path: string, options: QmpConnectOptions = {}): Promise<QmpClient> {
    const timeoutMs = options.timeoutMs ?? 5_000;
    const socket = connect(path);
    const client = new QmpClient(socket, options.commandTimeoutMs ?? 30_000);
    const timer = setTimeout(() => socket.destroy(new Error('timeout')), timeoutMs);
    try {
      const greeting = await new Promise<QmpGreeting>((resolve, reject) => {
        client.onGreeting = resolve;
        socket.once('error', reject);
        socket.once('close', () => reject(new QmpClosedError(`before the greeting from ${path}`)));
      });
      client.greeting = greeting;
      await client.execute('qmp_capabilities', {});
      return client;
    } catch (err) {
      socket.destroy();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  execute<C extends QmpCommand>(command: C, ...rest: QmpArgs<C> extends undefined ? [args?: undefined, opts?: { timeoutMs?: number }] : [args: QmpArgs<C>, opts?: { timeoutMs?: number }]): Promise<QmpReturn<C>> {
    const [args, opts] = rest;
    if (this.isClosed) return Promise.reject(new QmpClosedError(`before ${command}`));
    const id = `nimbus-${this.nextId++}`;
    const msg: Record<string, unknown> = { execute: command, id };
    if (args !== undefined) msg['arguments'] = args;
    return new Promise<QmpReturn<C>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`QMP ${command} timed out`));
      }, opts?.timeoutMs ?? this.commandTimeoutMs);
      this.pending.set(id, { command, resolve: resolve as (v: unknown) => void, reject, timer });
      this.socket.write(`${JSON.stringify(msg)}\n`);
    });
  }

  /** Waits for the next event named `name` that satisfies `match`. */
  waitForEvent(name: string, match: (e: QmpEvent) => boolean = () => true, timeoutMs = 30_000): Promise<QmpEvent> {
    return new Promise((resolve, reject) => {
      const onEvent = (e: QmpEvent) => {
        if (e.event === name && match(e)) {
          cleanup();
          resolve(e);
        }
      };
      const onClose = () => {
        cleanup();
        reject(new QmpClosedError(`while waiting for ${name}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no ${name} event within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.off('event', onEvent);
        this.off('close', onClose);
      };
      this.on('event', onEvent);
      this.on('close', onClose);
      if (this.isClosed) onClose();
    });
  }

  close(): Promise<void> {
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1_000).unref();
    return this.closed;
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (!line) continue;
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue; // QEMU only sends JSON; ignore a torn line rather than crash
      }
      this.dispatch(msg);
    }
  }

  private dispatch(msg: Record<string, unknown>): void {
    if ('QMP' in msg) {
      this.onGreeting?.(msg as unknown as QmpGreeting);
      return;
    }
    if ('event' in msg) {
      this.emit('event', msg as unknown as QmpEvent);
      return;
    }
    const id = typeof msg['id'] === 'string' ? msg['id'] : undefined;
    const p = id ? this.pending.get(id) : this.pending.values().next().value;
    if (!p) return;
    this.pending.delete(id ?? [...this.pending.keys()][0]!);
    clearTimeout(p.timer);
    if ('error' in msg) {
      const e = msg['error'] as { class?: string; desc?: string };
      p.reject(new QmpError(p.command, e.class ?? 'GenericError', e.desc ?? 'unknown error'));
    } else {
      p.resolve(msg['return']);
    }
  }
}
