import type { Transaction } from 'kysely';
import type { NetworkTables } from '../db/tables.js';

/**
 * The contract between the networking API and a data plane, shaped like ML2
 * mechanism drivers: every change the API commits is shown to the backend
 * twice — `precommit` inside the database transaction (throw an ApiError to
 * refuse it; the transaction rolls back) and `postcommit` after the commit
 * (do the real work: bridges, DHCP, namespaces, NAT, firewall; never throws
 * back into the API — report trouble through port status instead).
 *
 * Resources are passed as their full admin API dicts (`current`, and
 * `original` for updates), like ML2's NetworkContext/PortContext. A backend
 * that needs more (ports on a host, a router's interfaces, the rules of a
 * group) asks the `NetworkReader` it receives at start, which is what
 * Neutron's agents get over RPC.
 */

export type Dict = Record<string, unknown>;

export type ResourceKind =
  | 'network'
  | 'subnet'
  | 'port'
  | 'router'
  | 'floatingip'
  | 'security_group'
  | 'security_group_rule'
  | 'port_forwarding';

export type Change =
  | { kind: ResourceKind; action: 'create' | 'delete'; current: Dict }
  | { kind: ResourceKind; action: 'update'; current: Dict; original: Dict }
  | { kind: 'router_interface'; action: 'add' | 'remove'; current: { router_id: string; port_id: string; subnet_ids: string[] } };

/** What `bindPort` decides for a port on a host (Neutron's binding:vif_type / vif_details). */
export interface Binding {
  vifType: string;
  vifDetails: Dict;
}

/** The network segment a port is bound on. */
export interface Segment {
  network_type: string | null;
  physical_network: string | null;
  segmentation_id: number | null;
  mtu: number;
}

/** An agent the backend runs, shown by GET /v2.0/agents. */
export interface AgentReport {
  agent_type: string;
  binary: string;
  topic: string;
  host: string;
  availability_zone: string | null;
  configurations: Dict;
}

/** Read access for the data plane (the equivalent of the agents' RPC calls). */
export interface NetworkReader {
  /** A port with its network's segment, subnets and security group ids (get_device_details). */
  portDetails(portId: string): Promise<{ port: Dict; network: Dict; subnets: Dict[] } | undefined>;
  /** Ports bound to a host. */
  portsOnHost(host: string): Promise<Dict[]>;
  /** A router with its gateway port, interface ports, their subnets and the floating IPs it serves (sync_routers). */
  routerDetails(routerId: string): Promise<{ router: Dict; gatewayPort: Dict | null; interfaces: Dict[]; subnets: Dict[]; floatingips: Dict[] } | undefined>;
  /** Rules of security groups, and the addresses of ports in remote groups (security_group_info_for_devices). */
  securityGroupInfo(groupIds: string[]): Promise<{ rules: Dict[]; members: Record<string, string[]> }>;
  /** Every network, subnet and port (for a full resync at start). */
  networks(): Promise<Dict[]>;
  subnets(networkId?: string): Promise<Dict[]>;
}

/** Calls a backend makes back into the service. */
export interface BackendCallbacks {
  /** A port's data plane state changed (`ACTIVE` once wired, `DOWN` when not, `BUILD` while wiring). */
  setPortStatus(portId: string, status: 'ACTIVE' | 'DOWN' | 'BUILD' | 'ERROR'): Promise<void>;
  /** An agent is alive (called periodically; stored for GET /v2.0/agents). */
  reportAgent(agent: AgentReport): Promise<void>;
  /**
   * The `network:dhcp` port a host's DHCP server uses on a network (created
   * or refreshed to hold an address on every DHCP-enabled subnet); undefined
   * when the network has no DHCP subnet. Call again after subnet changes.
   */
  ensureDhcpPort(networkId: string, host: string): Promise<Dict | undefined>;
  releaseDhcpPort(networkId: string, host: string): Promise<void>;
}

export interface BackendStartContext {
  reader: NetworkReader;
  callbacks: BackendCallbacks;
}

export interface NetworkBackend {
  readonly name: string;
  start(ctx: BackendStartContext): Promise<void>;
  stop(): Promise<void>;
  /** Inside the transaction: validate or refuse. Must not have side effects outside the database. */
  precommit(change: Change, trx: Transaction<NetworkTables>): Promise<void>;
  /** After commit: make it real. Errors are logged by the caller, never rolled back. */
  postcommit(change: Change): Promise<void>;
  /**
   * Binds a port to a host on the given segment; null means it cannot
   * (`binding:vif_type` becomes `binding_failed`). Called in the transaction.
   */
  bindPort(port: Dict, segment: Segment, host: string): Binding | null;
}
