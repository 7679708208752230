import type { VolumeApi } from '../context.js';

const EXT_UPDATED = (d: string) => `${d}T00:00:00+00:00`;
const EXTENSIONS: Array<[name: string, alias: string, updated: string, description: string]> = [
  ['AdminActions', 'os-admin-actions', '2012-08-25', 'Enable admin actions.'],
  ['AvailabilityZones', 'os-availability-zone', '2013-06-27', 'Describe Availability Zones.'],
  ['Backups', 'backups', '2012-12-12', 'Backups support.'],
  ['Capabilities', 'capabilities', '2015-08-31', 'Capabilities support.'],
  ['Cgsnapshots', 'cgsnapshots', '2014-08-18', 'cgsnapshots support.'],
  ['Consistencygroups', 'consistencygroups', '2014-08-18', 'consistency groups support.'],
  ['ExtendedServices', 'os-extended-services', '2014-01-10', 'Extended services support.'],
  ['ExtendedSnapshotAttributes', 'os-extended-snapshot-attributes', '2012-06-19', 'Extended SnapshotAttributes support.'],
  ['Hosts', 'os-hosts', '2011-06-29', 'Admin-only host administration.'],
  ['Qos_specs_manage', 'qos-specs', '2013-08-02', 'QoS specs support.'],
  ['QuotaClasses', 'os-quota-class-sets', '2012-03-12', 'Quota classes management support.'],
  ['Quotas', 'os-quota-sets', '2011-08-08', 'Quota management support.'],
  ['SchedulerHints', 'OS-SCH-HNT', '2013-04-18', 'Pass arbitrary key/value pairs to the scheduler.'],
  ['Scheduler_stats', 'scheduler-stats', '2014-09-07', 'Scheduler stats support.'],
  ['Services', 'os-services', '2012-10-28', 'Services support.'],
  ['SnapshotActions', 'os-snapshot-actions', '2013-07-16', 'Enable snapshot manager actions.'],
  ['SnapshotManage', 'os-snapshot-manage', '2014-12-31', 'Allows existing backend storage to be managed by Cinder.'],
  ['SnapshotUnmanage', 'os-snapshot-unmanage', '2014-12-31', 'Enable volume unmanage operation.'],
  ['TypesExtraSpecs', 'os-types-extra-specs', '2011-08-24', 'Type extra specs support.'],
  ['TypesManage', 'os-types-manage', '2011-08-24', 'Types manage support.'],
  ['UsedLimits', 'os-used-limits', '2013-10-03', 'Provide data on limited resources that are being used.'],
  ['VolumeActions', 'os-volume-actions', '2012-05-31', 'Enable volume actions.'],
  ['VolumeEncryptionMetadata', 'os-volume-encryption-metadata', '2013-07-10', 'Volume encryption metadata retrieval support.'],
  ['VolumeHostAttribute', 'os-vol-host-attr', '2011-11-03', 'Expose host as an attribute of a volume.'],
  ['VolumeImageMetadata', 'os-vol-image-meta', '2012-12-07', 'Show image metadata associated with the volume.'],
  ['VolumeManage', 'os-volume-manage', '2014-02-10', 'Allows existing backend storage to be managed by Cinder.'],
  ['VolumeMigStatusAttribute', 'os-vol-mig-status-attr', '2013-08-08', 'Expose migration_status as an attribute of a volume.'],
  ['VolumeTenantAttribute', 'os-vol-tenant-attr', '2011-11-03', 'Expose the internal project_id as an attribute of a volume.'],
  ['VolumeTransfer', 'os-volume-transfer', '2013-05-29', 'Volume transfer management support.'],
  ['VolumeTypeAccess', 'os-volume-type-access', '2014-06-26', 'Volume type access support.'],
  ['VolumeTypeEncryption', 'encryption', '2013-07-01', 'Encryption support for volume types.'],
  ['VolumeUnmanage', 'os-volume-unmanage', '2012-05-31', 'Enable volume unmanage operation.'],
];

/** Extensions, availability zones and absolute limits. */
export function infoRoutes(api: VolumeApi): void {
  const { core } = api;

  api.route('GET', '/extensions', async () => ({
    extensions: EXTENSIONS.map(([name, alias, updated, description]) => ({ name, alias, updated: EXT_UPDATED(updated), description, links: [] })),
  }));

  api.route('GET', '/os-availability-zone', async (req) => {
    api.enforce(req, 'volume_extension:availability_zone_list');
    return { availabilityZoneInfo: [{ zoneName: core.config.availabilityZone, zoneState: { available: true } }] };
  });

  api.route('GET', '/limits', async (req) => {
    api.enforce(req, 'limits_extension:used_limits');
    const c = api.caller(req);
    let projectId = c.projectId;
    const asked = req.query['project_id'];
    if (typeof asked === 'string' && api.atLeast(req, '3.39') && c.admin) projectId = asked;
    const limits = await core.quotas.limits(projectId);
    const usage = await core.quotas.usage(projectId);
    const n = (k: string) => usage[k] ?? 0;
    return {
      limits: {
        rate: [],
        absolute: {
          maxTotalVolumes: limits['volumes'],
          maxTotalSnapshots: limits['snapshots'],
          maxTotalVolumeGigabytes: limits['gigabytes'],
          maxTotalBackups: limits['backups'],
          maxTotalBackupGigabytes: limits['backup_gigabytes'],
          totalVolumesUsed: n('volumes'),
          totalGigabytesUsed: n('gigabytes'),
          totalSnapshotsUsed: n('snapshots'),
          totalBackupsUsed: n('backups'),
          totalBackupGigabytesUsed: n('backup_gigabytes'),
        },
      },
    };
  });
}
