import {
  BusRemoteError,
  BusTimeoutError,
  DEFAULT_CALL_TIMEOUT_MS,
  type Bus,
  type BusMessage,
  type CallOptions,
  type Unsubscribe,
} from './bus.js';

type Handler = (message: BusMessage) => Promise<unknown>;

interface Pending {
  message: BusMessage;
  resolve?: (value: unknown) => void;
  reject?: (err: Error) => void;
}

interface Queue {
  consumers: Handler[];
  next: number;
  backlog: Pending[];
}

/**
 * The bus inside one process. Messages are copied through JSON exactly as the
 * AMQP bus would serialise them, and delivered on a later tick, so code that
 * works here behaves the same when roles run in separate processes.
 */
export function createInProcessBus(): Bus {
  const subscribers = new Map<string, Set<(m: BusMessage) => void | Promise<void>>>();
  const queues = new Map<string, Queue>();
  let closed = false;

  const copy = (m: BusMessage): BusMessage => JSON.parse(JSON.stringify(m)) as BusMessage;

  function queue(name: string): Queue {
    let q = queues.get(name);
    if (!q) {
      q = { consumers: [], next: 0, backlog: [] };
      queues.set(name, q);
    }
    return q;
  }

  function deliver(q: Queue, item: Pending): void {
    const consumer = q.consumers[q.next++ % q.consumers.length]!;
    setImmediate(() => {
      consumer(copy(item.message)).then(
        (result) => item.resolve?.(result === undefined ? undefined : JSON.parse(JSON.stringify(result))),
        (err: unknown) => item.reject?.(toRemoteError(err)),
      );
    });
  }

  function enqueue(name: string, item: Pending): void {
    if (closed) throw new Error('bus is closed');
    const q = queue(name);
    if (q.consumers.length === 0) q.backlog.push(item);
    else deliver(q, item);
  }

  return {
    async publish(topic, message) {
      const handlers = subscribers.get(topic);
      if (!handlers) return;
      for (const h of handlers) {
        const m = copy(message);
        setImmediate(() => {
          void Promise.resolve()
            .then(() => h(m))
            .catch(() => undefined);
        });
      }
    },
    async subscribe(topic, handler): Promise<Unsubscribe> {
      let set = subscribers.get(topic);
      if (!set) subscribers.set(topic, (set = new Set()));
      set.add(handler);
      return async () => {
        set!.delete(handler);
      };
    },
    async cast(name, message) {
      enqueue(name, { message, reject: () => undefined });
    },
    call<R>(name: string, message: BusMessage, options: CallOptions = {}): Promise<R> {
      const timeoutMs = options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
      return new Promise<R>((resolve, reject) => {
        const timer = setTimeout(() => reject(new BusTimeoutError(name, message.type, timeoutMs)), timeoutMs);
        enqueue(name, {
          message,
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v as R);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
      });
    },
    async consume(name, handler): Promise<Unsubscribe> {
      const q = queue(name);
      q.consumers.push(handler);
      for (const item of q.backlog.splice(0)) deliver(q, item);
      return async () => {
        const i = q.consumers.indexOf(handler);
        if (i >= 0) q.consumers.splice(i, 1);
      };
    },
    async close() {
      closed = true;
      subscribers.clear();
      queues.clear();
    },
  };
}

function toRemoteError(err: unknown): Error {
  if (err instanceof Error) {
    const details = (err as { details?: Record<string, unknown> }).details;
    return new BusRemoteError(err.message, err.name, details);
  }
  return new BusRemoteError(String(err), 'Error');
}
