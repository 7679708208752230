import { TAGGABLE_SINGULARS } from '../service/tags.js';

/**
 * GET /v2.0/extensions: exactly what this service implements, with
 * Neutron's own names, dates and descriptions (clients look extensions up
 * by alias and, for some, by name).
 */

export interface Extension {
  alias: string;
  name: string;
  updated: string;
  description: string;
  links: [];
}

const E = (alias: string, name: string, updated: string, description: string): Extension => ({ alias, name, updated, description, links: [] });

export const EXTENSIONS: Extension[] = [
  E('agent', 'agent', '2013-02-03T10:00:00-00:00', 'The agent management extension.'),
  E('allowed-address-pairs', 'Allowed Address Pairs', '2013-07-23T10:00:00-00:00', 'Provides allowed address pairs'),
  E('availability_zone', 'Availability Zone', '2015-01-01T10:00:00-00:00', 'The availability zone extension.'),
  E('binding', 'Port Binding', '2014-02-03T10:00:00-00:00', 'Expose port bindings of a virtual port to external application'),
  E('default-subnetpools', 'Default Subnetpools', '2016-02-18T18:00:00-00:00', 'Provides ability to mark and use a subnetpool as the default.'),
  E('external-net', 'Neutron external network', '2013-01-14T10:00:00-00:00', 'Adds external network attribute to network resource.'),
  E('ext-gw-mode', 'Neutron L3 Configurable external gateway mode', '2013-03-28T10:00:00-00:00', 'Extension of the router abstraction for specifying whether SNAT should occur on the external gateway'),
  E(
    'extra_dhcp_opt',
    'Neutron Extra DHCP options',
    '2013-03-17T12:00:00-00:00',
    'Extra options configuration for DHCP. For example PXE boot options to DHCP clients can be specified (e.g. tftp-server, server-ip-address, bootfile-name)',
  ),
  E('extraroute', 'Neutron Extra Route', '2013-02-01T10:00:00-00:00', 'Extra routes configuration for L3 router'),
  E('extraroute-atomic', 'Atomically add/remove extra routes', '2019-07-10T00:00:00-00:00', 'Edit extra routes of a router on server side by atomically adding/removing extra routes'),
  E('filter-validation', 'Filter parameters validation', '2018-07-04T10:00:00-00:00', 'Provides validation on filter parameters.'),
  E('fip-port-details', 'Floating IP Port Details Extension', '2018-04-09T10:00:00-00:00', 'Add port_details attribute to Floating IP resource'),
  E('floating-ip-port-forwarding', 'Floating IP Port Forwarding', '2018-01-19T10:00:00-00:00', 'Allow port forwarding from floating IP port to an internal port'),
  E('ip-substring-filtering', 'IP address substring filtering', '2017-11-28T09:00:00-00:00', 'Provides IP address substring filtering when listing ports'),
  E('ip_allocation', 'IP Allocation', '2016-06-10T23:00:00-00:00', 'IP allocation extension.'),
  E('l2_adjacency', 'L2 Adjacency', '2016-04-12T16:00:00-00:00', 'Display L2 Adjacency for Neutron Networks.'),
  E('net-mtu', 'Network MTU', '2015-03-25T10:00:00-00:00', 'Provides MTU attribute for a network resource.'),
  E('network-ip-availability', 'Network IP Availability', '2015-09-24T00:00:00-00:00', 'Provides IP availability data for each network and subnet.'),
  E('network_availability_zone', 'Network Availability Zone', '2015-01-01T10:00:00-00:00', 'Availability zone support for network.'),
  E('pagination', 'Pagination support', '2016-06-12T00:00:00-00:00', 'Extension that indicates that pagination is enabled.'),
  E('port-security', 'Port Security', '2012-07-23T10:00:00-00:00', 'Provides port security'),
  E('port-security-groups-filtering', 'Port filtering on security groups', '2018-01-09T09:00:00-00:00', 'Provides security groups filtering when listing ports'),
  E('project-id', 'project_id field enabled', '2016-09-09T09:09:09-09:09', 'Extension that indicates that project_id field is enabled.'),
  E('provider', 'Provider Network', '2012-09-07T10:00:00-00:00', 'Expose mapping of virtual networks to physical networks'),
  E('quota_details', 'Quota details management support', '2017-02-10T10:00:00-00:00', 'Expose functions for quotas usage statistics per project'),
  E('quotas', 'Quota management support', '2012-07-29T10:00:00-00:00', 'Expose functions for quotas management per project'),
  E('rbac-policies', 'RBAC Policies', '2015-06-17T12:15:12-00:00', 'Allows creation and modification of policies that control tenant access to resources.'),
  E('revision-if-match', 'If-Match constraints based on revision_number', '2016-12-11T00:00:00-00:00', 'Extension indicating that If-Match based on revision_number is supported.'),
  E(
    'router',
    'Neutron L3 Router',
    '2012-07-20T10:00:00-00:00',
    'Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external networks via a NAT gateway.',
  ),
  E('router_availability_zone', 'Router Availability Zone', '2015-01-01T10:00:00-00:00', 'Availability zone support for router.'),
  E('security-group', 'security-group', '2012-10-05T10:00:00-00:00', 'The security groups extension.'),
  E('security-groups-normalized-cidr', 'Normalized CIDR field for security group rules', '2020-07-28T10:00:00-00:00', 'Add new field with normalized remote_ip_prefix cidr in SG rule'),
  E('service-type', 'Neutron Service Type Management', '2013-01-20T00:00:00-00:00', 'API for retrieving service providers for Neutron advanced services'),
  E('sorting', 'Sorting support', '2016-06-12T00:00:00-00:00', 'Extension that indicates that sorting is enabled.'),
  E('standard-attr-description', 'standard-attr-description', '2016-02-10T10:00:00-00:00', 'Extension to add descriptions to standard attributes'),
  E('standard-attr-revisions', 'Resource revision numbers', '2016-04-11T10:00:00-00:00', 'This extension will display the revision number of neutron resources.'),
  E(
    'standard-attr-tag',
    `Tag support for resources with standard attribute: ${TAGGABLE_SINGULARS.join(', ')}`,
    '2017-01-01T00:00:00-00:00',
    'Enables to set tag on resources with standard attribute.',
  ),
  E(
    'standard-attr-timestamp',
    'Resource timestamps',
    '2016-09-12T10:00:00-00:00',
    'Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes.',
  ),
  E('stateful-security-group', 'Stateful security group', '2019-11-26T09:00:00-00:00', 'Indicates if the security group is stateful or not'),
  E('subnet_allocation', 'Subnet Allocation', '2015-03-30T10:00:00-00:00', 'Enables allocation of subnets from a subnet pool'),
  E('tag-ports-during-bulk-creation', 'Tag Ports During Bulk Creation', '2019-12-29T19:00:00-00:00', 'Allow to tag ports during bulk creation'),
];

export function findExtension(aliasOrName: string): Extension | undefined {
  return EXTENSIONS.find((e) => e.alias === aliasOrName);
}
