import type { Log } from '../../../core/log.js';
import type { LinuxDataPlane } from './linux-data-plane.js';
import { isComputePort, isDhcpPort, isRouterGateway, isRouterInterface } from './model.js';
import { Names } from './names.js';
import { desiredStateFor, type Dict, type NetworkReaderLike } from './neutron-mapping.js';

/**
 * The Linux data plane behind the networking service's backend contract
 * (src/network/backend/backend.ts on the network branch, ML2-shaped). Every
 * committed change schedules a re-sync of this host: the desired state is
 * read back through the NetworkReader (what Neutron's agents get over RPC)
 * and applied, which also removes what is no longer wanted. Changes that
 * arrive close together are coalesced into one sync. Typed structurally
 * until the contract is on main.
 */

export interface BackendCallbacksLike {
  setPortStatus(portId: string, status: 'ACTIVE' | 'DOWN' | 'BUILD' | 'ERROR'): Promise<void>;
  reportAgent(agent: { agent_type: string; binary: string; topic: string; host: string; availability_zone: string | null; configurations: Dict }): Promise<void>;
}

export interface LinuxBackendOptions {
  dataPlane: LinuxDataPlane;
  host: string;
  log: Log;
  availabilityZone: string;
  /** Physical networks this host has an interface for (network.physicalInterfaceMappings keys). */
  physicalNetworks: string[];
  hostGatewayOnExternal: boolean;
  debounceMs?: number;
  heartbeatMs?: number;
}

const AGENTS = [
  { agent_type: 'Linux bridge agent', binary: 'neutron-linuxbridge-agent', topic: 'N/A' },
  { agent_type: 'DHCP agent', binary: 'neutron-dhcp-agent', topic: 'dhcp_agent' },
  { agent_type: 'L3 agent', binary: 'neutron-l3-agent', topic: 'l3_agent' },
  { agent_type: 'Metadata agent', binary: 'neutron-metadata-agent', topic: 'N/A' },
];

export function createLinuxBackend(opts: LinuxBackendOptions) {
  let reader: NetworkReaderLike | undefined;
  let callbacks: BackendCallbacksLike | undefined;
  let timer: NodeJS.Timeout | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  const status = new Map<string, string>();

  async function syncOnce(): Promise<void> {
    if (!reader) return;
    const desired = await desiredStateFor(reader, opts.host, { hostGatewayOnExternal: opts.hostGatewayOnExternal });
    await opts.dataPlane.apply(desired);
    // Ports this host wired are ACTIVE (Neutron's agents report it once the tap is in the bridge).
    const wired = new Set(desired.ports.filter((p) => isComputePort(p) || isDhcpPort(p) || isRouterInterface(p) || isRouterGateway(p)).map((p) => p.id));
    for (const id of wired) {
      if (status.get(id) !== 'ACTIVE') {
        await callbacks?.setPortStatus(id, 'ACTIVE').catch((err: Error) => opts.log.warn({ port: id, err: err.message }, 'port status update failed'));
        status.set(id, 'ACTIVE');
      }
    }
    for (const id of [...status.keys()]) if (!wired.has(id)) status.delete(id);
  }

  /** Runs a sync now, or once more after the one in progress. */
  function sync(): Promise<void> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await syncOnce();
        } catch (err) {
          opts.log.error({ err: (err as Error).message }, 'linux data plane sync failed');
        }
      } while (again);
    })().finally(() => (running = undefined));
    return running;
  }

  function schedule(): void {
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void sync();
    }, opts.debounceMs ?? 50);
  }

  return {
    name: 'linux',
    /** For tests: the sync that is running or scheduled, resolved when the host matches the database. */
    settled: async () => {
      while (timer || running) await (running ?? new Promise((r) => setTimeout(r, (opts.debounceMs ?? 50) + 5)));
    },
    async start(ctx: { reader: NetworkReaderLike; callbacks: BackendCallbacksLike }): Promise<void> {
      reader = ctx.reader;
      callbacks = ctx.callbacks;
      const beat = () =>
        Promise.all(
          AGENTS.map((a) =>
            ctx.callbacks
              .reportAgent({ ...a, host: opts.host, availability_zone: opts.availabilityZone, configurations: { backend: 'linux', physical_networks: opts.physicalNetworks } })
              .catch((err: Error) => opts.log.warn({ err: err.message }, 'agent heartbeat failed')),
          ),
        );
      await beat();
      heartbeat = setInterval(() => void beat(), opts.heartbeatMs ?? 30_000);
      heartbeat.unref();
      // Reconcile at start: adopt what exists, remove leftovers, restart listeners.
      await sync();
    },
    async stop(): Promise<void> {
      if (timer) clearTimeout(timer);
      timer = undefined;
      clearInterval(heartbeat);
      await running;
      // Guests keep their networking across an agent restart: close listeners only.
      await opts.dataPlane.close();
      reader = undefined;
    },
    async precommit(): Promise<void> {
      // The data plane refuses nothing the API accepted; unsupported segments fail at binding.
    },
    async postcommit(_change: unknown): Promise<void> {
      schedule();
    },
    bindPort(_port: Dict, segment: { network_type: string | null; physical_network: string | null }, _host: string): { vifType: string; vifDetails: Dict } | null {
      const type = segment.network_type ?? 'vxlan';
      if ((type === 'flat' || type === 'vlan') && !opts.physicalNetworks.includes(segment.physical_network ?? '')) return null;
      if (!['flat', 'vlan', 'vxlan', 'local'].includes(type)) return null;
      const networkId = String(_port['network_id']);
      return { vifType: 'bridge', vifDetails: { port_filter: true, connectivity: 'l2', bridge_name: Names.bridge(networkId) } };
    },
  };
}
