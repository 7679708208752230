import type { PolicyRule } from '../../core/policy/enforcer.js';

/**
 * Cinder's default policies (Zed), reduced to their three levels: readers
 * of a project, members of a project, and admins (project-scoped `admin` is
 * cloud admin, the legacy default Tempest and the CLI assume). Names are
 * Cinder's, so a policy.yaml written for Cinder overrides the same rules.
 */
const READER = 'rule:admin_api or rule:project_reader';
const MEMBER = 'rule:admin_api or rule:project_member';
const ADMIN = 'rule:admin_api';

const byLevel: Record<string, string[]> = {
  [READER]: [
    'volume:get', 'volume:get_all', 'volume:get_volume_metadata', 'volume:get_snapshot_metadata', 'volume:get_all_snapshots',
    'volume:get_snapshot', 'volume_extension:volume_tenant_attribute', 'volume_extension:volume_image_metadata:show',
    'volume_extension:extended_snapshot_attributes', 'backup:get', 'backup:get_all', 'volume:get_transfer', 'volume:get_all_transfers',
    'volume_extension:types_manage:get', 'volume_extension:type_get_all', 'volume_extension:quotas:show', 'limits_extension:used_limits',
    'message:get', 'message:get_all', 'group:get', 'group:get_all', 'group:get_group_snapshot', 'group:get_all_group_snapshots',
    'group:group_types:get', 'volume:attachment_get', 'volume:attachment_get_all', 'volume_extension:availability_zone_list',
    'volume_extension:volume_encryption_metadata', 'volume_extension:list_volume_summary', 'volume:get_all_default_types_self',
  ],
  [MEMBER]: [
    'volume:create', 'volume:update', 'volume:delete', 'volume:extend', 'volume:extend_attached_volume', 'volume:retype',
    'volume:update_readonly_flag', 'volume_extension:volume_actions:upload_image', 'volume:create_snapshot', 'volume:update_snapshot',
    'volume:delete_snapshot', 'volume:update_volume_metadata', 'volume:delete_volume_metadata', 'volume:create_volume_metadata',
    'volume:update_snapshot_metadata', 'volume:delete_snapshot_metadata', 'volume:revert_to_snapshot', 'volume:reimage',
    'volume_extension:volume_actions:attach', 'volume_extension:volume_actions:detach', 'volume_extension:volume_actions:reserve',
    'volume_extension:volume_actions:unreserve', 'volume_extension:volume_actions:initialize_connection',
    'volume_extension:volume_actions:terminate_connection', 'volume_extension:volume_actions:roll_detaching',
    'volume_extension:volume_actions:begin_detaching', 'volume_extension:volume_image_metadata:set',
    'volume_extension:volume_image_metadata:remove', 'volume_extension:volume_actions:set_bootable',
    'snapshot_extension:snapshot_actions:update_snapshot_status', 'backup:create', 'backup:update', 'backup:delete', 'backup:restore',
    'backup:backup_project_attribute_self', 'volume:create_transfer', 'volume:accept_transfer', 'volume:delete_transfer',
    'message:delete', 'group:create', 'group:update', 'group:delete', 'group:create_group_snapshot', 'group:delete_group_snapshot',
    'group:update_group_snapshot', 'volume:attachment_create', 'volume:attachment_update', 'volume:attachment_delete',
    'volume:attachment_complete', 'volume:multiattach', 'volume_extension:volume_type_encryption:get_self',
  ],
  [ADMIN]: [
    'volume:force_delete', 'volume_extension:volume_admin_actions:reset_status', 'volume_extension:snapshot_admin_actions:reset_status',
    'volume_extension:backup_admin_actions:reset_status', 'volume_extension:volume_admin_actions:force_delete',
    'volume_extension:snapshot_admin_actions:force_delete', 'volume_extension:backup_admin_actions:force_delete',
    'volume_extension:volume_admin_actions:force_detach', 'volume_extension:volume_admin_actions:migrate_volume',
    'volume_extension:volume_admin_actions:migrate_volume_completion', 'volume_extension:volume_host_attribute',
    'volume_extension:volume_mig_status_attribute', 'volume_extension:types_manage', 'volume_extension:types_extra_specs:create',
    'volume_extension:types_extra_specs:update', 'volume_extension:types_extra_specs:delete',
    'volume_extension:types_extra_specs:read_sensitive', 'volume_extension:volume_type_access', 'volume_extension:volume_type_access:addProjectAccess',
    'volume_extension:volume_type_access:removeProjectAccess', 'volume_extension:volume_type_encryption',
    'volume_extension:access_types_qos_specs_id', 'volume_extension:qos_specs_manage', 'volume_extension:quotas:update',
    'volume_extension:quotas:delete', 'volume_extension:quota_classes', 'volume_extension:services', 'volume_extension:hosts',
    'volume_extension:capabilities', 'scheduler_extension:scheduler_stats:get_pools', 'volume_extension:volume_manage',
    'volume_extension:volume_unmanage', 'volume_extension:snapshot_manage', 'volume_extension:snapshot_unmanage',
    'backup:export-import', 'backup:backup-import', 'backup:backup-export', 'backup:backup_project_attribute', 'backup:update_user_id',
    'volume_extension:volume_actions:upload_public', 'volume:force_delete_param', 'group:group_types_manage', 'group:group_types_specs',
    'group:reset_status', 'group:reset_group_snapshot_status', 'group:group_project_attribute', 'volume:get_all_default_types',
    'volume:update_default_type', 'volume:delete_default_type', 'volume:get_default_type', 'clusters:get_all', 'clusters:get',
    'clusters:update', 'workers:cleanup', 'volume_extension:volume_admin_actions:extend_attached', 'volume:all_tenants',
    'volume_extension:provider_id', 'volume_extension:cluster_name', 'volume:unmanage',
  ],
};

export const volumePolicyDefaults: PolicyRule[] = [
  { name: 'admin_api', check: 'role:admin' },
  { name: 'project_reader', check: 'role:reader and project_id:%(project_id)s' },
  { name: 'project_member', check: 'role:member and project_id:%(project_id)s' },
  ...Object.entries(byLevel).flatMap(([check, names]) => names.map((name) => ({ name, check }))),
];
