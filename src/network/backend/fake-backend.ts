import { hostname } from 'node:os';
import type { Log } from '../../core/log.js';
import type { AgentReport, Binding, BackendStartContext, Change, Dict, NetworkBackend, Segment } from './backend.js';

export interface FakeBackendOptions {
  log: Log;
  host?: string;
  availabilityZone: string;
  /** Physical networks the (pretend) bridges are mapped to. */
  physicalNetworks: string[];
  heartbeatMs?: number;
}

const ROUTER_OWNERS = ['network:router_interface', 'network:router_gateway', 'network:router_interface_distributed', 'network:router_centralized_snat'];

/**
 * A data plane that wires nothing: ports bind on any host to a Linux bridge
 * style VIF and become ACTIVE as soon as they are bound (router ports at
 * once), as a real agent reports once the tap device is up. It reports one
 * agent per host so `network agent list` shows what runs.
 */
export function createFakeBackend(options: FakeBackendOptions): NetworkBackend {
  let ctx: BackendStartContext | undefined;
  let timer: NodeJS.Timeout | undefined;
  const host = options.host || hostname();
  const agent: AgentReport = {
    agent_type: 'Fake agent',
    binary: 'nimbus-fake-agent',
    topic: 'N/A',
    host,
    availability_zone: options.availabilityZone,
    configurations: { backend: 'fake', physical_networks: options.physicalNetworks },
  };

  const wantedStatus = (port: Dict): 'ACTIVE' | 'DOWN' | undefined => {
    const owner = String(port['device_owner'] ?? '');
    if (owner === 'network:floatingip') return undefined;
    if (!port['admin_state_up']) return 'DOWN';
    if (ROUTER_OWNERS.includes(owner)) return 'ACTIVE';
    const vif = String(port['binding:vif_type'] ?? 'unbound');
    return vif !== 'unbound' && vif !== 'binding_failed' && port['binding:host_id'] ? 'ACTIVE' : 'DOWN';
  };

  return {
    name: 'fake',
    async start(c) {
      ctx = c;
      const beat = () => c.callbacks.reportAgent(agent).catch((err: unknown) => options.log.warn({ err }, 'fake agent heartbeat failed'));
      await beat();
      timer = setInterval(() => void beat(), options.heartbeatMs ?? 30_000);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      ctx = undefined;
    },
    async precommit() {
      // Nothing to refuse: every segment type and physical network is accepted by the API's own checks.
    },
    async postcommit(change: Change) {
      if (!ctx || change.kind !== 'port' || change.action === 'delete') return;
      const port = change.current;
      const wanted = wantedStatus(port);
      if (wanted && wanted !== port['status'] && !(wanted === 'DOWN' && port['status'] === 'DOWN')) {
        // Only a port that was wired (or is wanted ACTIVE) changes: an idle unbound port stays as created.
        if (wanted === 'ACTIVE' || port['status'] === 'ACTIVE') await ctx.callbacks.setPortStatus(String(port['id']), wanted);
      }
    },
    bindPort(_port: Dict, segment: Segment): Binding | null {
      if ((segment.network_type === 'flat' || segment.network_type === 'vlan') && !options.physicalNetworks.includes(segment.physical_network ?? '')) {
        return null;
      }
      return { vifType: 'bridge', vifDetails: { port_filter: true, connectivity: 'l2' } };
    },
  };
}
