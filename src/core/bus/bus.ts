/**
 * The internal message bus between roles (API, conductor, scheduler,
 * compute agents, network agents). Messages are versioned, discriminated by
 * `type`, and plain JSON, so the in-process bus and the AMQP bus carry exactly
 * the same things. Each service declares its message union next to its code.
 */
export interface BusMessage {
  /** Discriminator, `<service>.<verb>`, e.g. `compute.spawn`. */
  type: string;
  /** Message schema version; a receiver refuses versions it does not know. */
  v: number;
  [key: string]: unknown;
}

export type Unsubscribe = () => Promise<void>;

export interface CallOptions {
  timeoutMs?: number;
}

export interface Bus {
  /** Fan-out to every current subscriber of `topic` (events, cache invalidation). Fire and forget. */
  publish(topic: string, message: BusMessage): Promise<void>;
  subscribe(topic: string, handler: (message: BusMessage) => void | Promise<void>): Promise<Unsubscribe>;

  /** Hand work to exactly one consumer of `queue`; kept until a consumer takes it. */
  cast(queue: string, message: BusMessage): Promise<void>;
  /** Request/reply through `queue`; rejects with BusTimeoutError after `timeoutMs` (default 60 s). */
  call<R = unknown>(queue: string, message: BusMessage, options?: CallOptions): Promise<R>;
  /** Serve `queue`: the handler's result is the reply to a `call`; for a `cast` it is dropped. */
  consume(queue: string, handler: (message: BusMessage) => Promise<unknown>): Promise<Unsubscribe>;

  close(): Promise<void>;
}

export class BusTimeoutError extends Error {
  constructor(queue: string, type: string, timeoutMs: number) {
    super(`no reply on ${queue} to ${type} within ${timeoutMs} ms`);
    this.name = 'BusTimeoutError';
  }
}

/** An error raised by a remote handler, carried back to the caller of `call`. */
export class BusRemoteError extends Error {
  readonly remoteName: string;
  readonly details: Record<string, unknown> | undefined;
  constructor(message: string, remoteName: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'BusRemoteError';
    this.remoteName = remoteName;
    this.details = details;
  }
}

export const DEFAULT_CALL_TIMEOUT_MS = 60_000;
