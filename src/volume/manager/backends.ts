import { join } from 'node:path';
import type { VolumeBackend } from '../../agents/volume/backend.js';
import { createFakeBackend } from '../../agents/volume/fake/fake-backend.js';
import { createFileBackend } from '../../agents/volume/file/file-backend.js';
import { createLvmBackend } from '../../agents/volume/lvm/lvm-backend.js';
import type { VolumeBackendConfig } from '../config.js';

/** The backend driver a configuration section names. */
export function createBackend(cfg: VolumeBackendConfig, dataDir: string): VolumeBackend {
  switch (cfg.driver) {
    case 'file':
      return createFileBackend({ name: cfg.name, path: cfg.path || join(dataDir, 'volumes', cfg.name), format: cfg.format, capacityGb: cfg.capacityGb });
    case 'lvm':
      return createLvmBackend({ name: cfg.name, volumeGroup: cfg.volumeGroup, lvmType: cfg.lvmType, capacityGb: cfg.capacityGb });
    case 'fake':
      return createFakeBackend({ name: cfg.name, capacityGb: cfg.capacityGb });
  }
}

/** What a backend reports to the scheduler (Cinder's pool capabilities). */
export async function backendCapabilities(backend: VolumeBackend, cfg: VolumeBackendConfig): Promise<Record<string, unknown>> {
  const cap = await backend.capacity();
  const pool = cfg.driver === 'lvm' ? cfg.volumeGroup : cfg.name;
  return {
    pool_name: pool,
    volume_backend_name: cfg.volumeBackendName || cfg.name,
    vendor_name: 'Open Source',
    driver_version: backend.capabilities.driverVersion,
    storage_protocol: backend.capabilities.storageProtocol,
    total_capacity_gb: cap.totalGb,
    free_capacity_gb: cap.freeGb,
    provisioned_capacity_gb: cap.provisionedGb,
    allocated_capacity_gb: cap.provisionedGb,
    reserved_percentage: cfg.reservedPercentage,
    max_over_subscription_ratio: cfg.maxOverSubscriptionRatio,
    thin_provisioning_support: backend.capabilities.thinProvisioning,
    thick_provisioning_support: !backend.capabilities.thinProvisioning,
    QoS_support: false,
    multiattach: backend.capabilities.multiattach,
    online_extend_support: true,
    driver_name: backend.driver,
    backend_state: 'up',
    timestamp: new Date().toISOString(),
  };
}
