import type { ServiceSession } from '../../../core/clients/service-auth.js';

/** What the volume service asks of compute. */
export interface ComputeClient {
  /**
   * Compute's record of a volume attached to a server: the Cinder attachment id
   * it holds, or null when the server or the attachment does not exist.
   */
  volumeAttachment(serverId: string, volumeId: string): Promise<{ attachmentId: string | null } | null>;
  /** Tells compute a volume attached to `serverId` grew (external event `volume-extended`). */
  volumeExtended(serverId: string, volumeId: string): Promise<void>;
}

/** Nova's API through the service session; without compute in the catalog nothing is attached anywhere. */
export function createHttpComputeClient(session: ServiceSession): ComputeClient {
  const hasCompute = async () => {
    try {
      await session.endpoint('compute');
      return true;
    } catch {
      return false;
    }
  };
  return {
    async volumeAttachment(serverId, volumeId) {
      if (!(await hasCompute())) return null;
      const res = await session.request('compute', `/servers/${encodeURIComponent(serverId)}/os-volume_attachments/${encodeURIComponent(volumeId)}`, {
        headers: { 'openstack-api-version': 'compute 2.89' },
      });
      if (res.status === 404) return null;
      if (!res.ok) throw new Error(`compute answered ${res.status} reading the attachment of volume ${volumeId} to server ${serverId}`);
      const body = (await res.json()) as { volumeAttachment?: { attachment_id?: string } };
      return { attachmentId: body.volumeAttachment?.attachment_id ?? null };
    },
    async volumeExtended(serverId, volumeId) {
      if (!(await hasCompute())) return;
      await session.request('compute', '/os-server-external-events', {
        method: 'POST',
        headers: { 'openstack-api-version': 'compute 2.51' },
        json: { events: [{ name: 'volume-extended', server_uuid: serverId, tag: volumeId }] },
      });
    },
  };
}
