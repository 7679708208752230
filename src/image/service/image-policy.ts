import type { PolicyRule } from '../../core/policy/enforcer.js';

/**
 * Glance's effective default policy in legacy mode (what Tempest and the
 * clients assume): anyone in a project may use images; ownership and
 * visibility are enforced by the image rules themselves (service/access.ts);
 * making an image public, copying it between stores, the tasks API and
 * metadata-definition writes are for admins. Overridable with policy.yaml.
 */
const rules: Array<[string, string]> = [
  ['context_is_admin', 'role:admin'],
  ['default', ''],
  ['admin_or_owner', 'rule:context_is_admin or project_id:%(owner)s'],

  ['add_image', ''],
  ['get_image', ''],
  ['get_images', ''],
  ['modify_image', ''],
  ['delete_image', ''],
  ['upload_image', ''],
  ['download_image', ''],
  ['publicize_image', 'rule:context_is_admin'],
  ['communitize_image', ''],
  ['deactivate', ''],
  ['reactivate', ''],
  ['copy_image', 'rule:context_is_admin'],
  ['add_member', ''],
  ['get_member', ''],
  ['get_members', ''],
  ['modify_member', ''],
  ['delete_member', ''],
  ['get_task', 'rule:context_is_admin'],
  ['get_tasks', 'rule:context_is_admin'],
  ['tasks_api_access', 'rule:context_is_admin'],
  ['stores_info_detail', 'rule:context_is_admin'],

  ['metadef_default', ''],
  ['metadef_admin', 'rule:context_is_admin'],
  ['get_metadef_namespace', 'rule:metadef_default'],
  ['get_metadef_namespaces', 'rule:metadef_default'],
  ['add_metadef_namespace', 'rule:metadef_admin'],
  ['modify_metadef_namespace', 'rule:metadef_admin'],
  ['delete_metadef_namespace', 'rule:metadef_admin'],
  ['list_metadef_resource_types', 'rule:metadef_default'],
  ['add_metadef_resource_type_association', 'rule:metadef_admin'],
  ['remove_metadef_resource_type_association', 'rule:metadef_admin'],
  ['add_metadef_property', 'rule:metadef_admin'],
  ['modify_metadef_property', 'rule:metadef_admin'],
  ['remove_metadef_property', 'rule:metadef_admin'],
  ['add_metadef_object', 'rule:metadef_admin'],
  ['modify_metadef_object', 'rule:metadef_admin'],
  ['delete_metadef_object', 'rule:metadef_admin'],
  ['add_metadef_tag', 'rule:metadef_admin'],
  ['add_metadef_tags', 'rule:metadef_admin'],
  ['modify_metadef_tag', 'rule:metadef_admin'],
  ['delete_metadef_tag', 'rule:metadef_admin'],
  ['delete_metadef_tags', 'rule:metadef_admin'],
];

export const imagePolicyDefaults: PolicyRule[] = rules.map(([name, check]) => ({ name, check }));
