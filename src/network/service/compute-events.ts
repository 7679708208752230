import type { ServiceSession } from '../../core/clients/service-auth.js';
import type { Log } from '../../core/log.js';

/**
 * Tells compute about port events, as Neutron's nova notifier does: a port
 * of an instance (`device_owner` `compute:*`) that becomes ACTIVE sends
 * `network-vif-plugged`, one that goes DOWN `network-vif-unplugged`, a
 * deleted one `network-vif-deleted`, and address/floating IP changes
 * `network-changed`. Events are batched for a moment and POSTed to
 * compute's `/os-server-external-events` with the service token. Compute
 * may be absent (not in the catalog, down): events are then dropped, since
 * nothing waits for them.
 */

export type ServerEventName = 'network-vif-plugged' | 'network-vif-unplugged' | 'network-vif-deleted' | 'network-changed';

export interface ServerEvent {
  name: ServerEventName;
  server_uuid: string;
  /** The port id. */
  tag: string;
  status: 'completed' | 'failed';
}

export interface ComputeNotifier {
  notify(event: ServerEvent): void;
  /** Sends whatever is queued now (tests, shutdown). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface ComputeNotifierOptions {
  session: Pick<ServiceSession, 'request'>;
  log: Log;
  /** Batching window. */
  delayMs?: number;
  enabled?: boolean;
}

export function isComputePort(deviceOwner: string, deviceId: string): boolean {
  return deviceOwner.startsWith('compute:') && deviceId !== '';
}

export function createComputeNotifier(options: ComputeNotifierOptions): ComputeNotifier {
  const queue: ServerEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  let inflight: Promise<void> = Promise.resolve();
  const delay = options.delayMs ?? 50;

  async function send(events: ServerEvent[]): Promise<void> {
    try {
      const res = await options.session.request('compute', '/os-server-external-events', { method: 'POST', json: { events } });
      // 207: some servers unknown; 404: none known (e.g. a port Nova is not tracking). Both are normal.
      if (res.status >= 400 && res.status !== 404) options.log.warn({ status: res.status, events: events.length }, 'compute refused server external events');
      await res.arrayBuffer().catch(() => undefined);
    } catch (err) {
      options.log.debug({ err: (err as Error).message, events: events.length }, 'compute not reachable; server external events dropped');
    }
  }

  const flush = async () => {
    clearTimeout(timer);
    timer = undefined;
    if (queue.length === 0) return inflight;
    const batch = queue.splice(0);
    inflight = inflight.then(() => send(batch));
    return inflight;
  };

  return {
    notify(event) {
      if (options.enabled === false) return;
      queue.push(event);
      timer ??= setTimeout(() => void flush(), delay);
    },
    flush,
    async close() {
      await flush();
    },
  };
}
