import { sql, type Expression, type SqlBool } from 'kysely';
import type { Qb } from './list-query.js';

/**
 * Which rows a caller may see, as SQL on the aliased table `t`. Admins see
 * everything; others their project's rows plus what RBAC shares with them
 * (Neutron's model: `shared` and `router:external` are RBAC entries with
 * target `*`).
 */
export interface Viewer {
  projectId: string;
  isAdmin: boolean;
}

export function rbacGrants(objectType: string, projectId: string, actions: string[], idColumn = 't.id'): Expression<SqlBool> {
  return sql<SqlBool>`exists (select 1 from net_rbac r where r.object_type = ${objectType} and r.object_id = ${sql.ref(idColumn)} and r.action in (${sql.join(
    actions,
  )}) and r.target_tenant in ('*', ${projectId}))`;
}

/** Networks: own, shared with me, or external. */
export function networkScope(viewer: Viewer) {
  return (qb: Qb): Qb =>
    viewer.isAdmin
      ? qb
      : qb.where((eb) => eb.or([eb('t.project_id', '=', viewer.projectId), rbacGrants('network', viewer.projectId, ['access_as_shared', 'access_as_external'])]));
}

/** Subnets: own, on a network I own, or on a network shared with me (external alone is not enough). */
export function subnetScope(viewer: Viewer) {
  return (qb: Qb): Qb =>
    viewer.isAdmin
      ? qb
      : qb.where((eb) =>
          eb.or([
            eb('t.project_id', '=', viewer.projectId),
            sql<SqlBool>`exists (select 1 from net_network n where n.id = t.network_id and n.project_id = ${viewer.projectId})`,
            rbacGrants('network', viewer.projectId, ['access_as_shared'], 't.network_id'),
          ]),
        );
}

/** Ports: own, or on a network I own. */
export function portScope(viewer: Viewer) {
  return (qb: Qb): Qb =>
    viewer.isAdmin
      ? qb
      : qb.where((eb) =>
          eb.or([
            eb('t.project_id', '=', viewer.projectId),
            sql<SqlBool>`exists (select 1 from net_network n where n.id = t.network_id and n.project_id = ${viewer.projectId})`,
          ]),
        );
}

/** Resources only their owner (and admins) see: routers, floating IPs. */
export function ownerScope(viewer: Viewer) {
  return (qb: Qb): Qb => (viewer.isAdmin ? qb : qb.where('t.project_id', '=', viewer.projectId));
}

/** Owner, or shared by RBAC (`access_as_shared`): security groups, subnet pools. */
export function sharedScope(viewer: Viewer, objectType: string, sharedColumn?: string) {
  return (qb: Qb): Qb =>
    viewer.isAdmin
      ? qb
      : qb.where((eb) =>
          eb.or([
            eb('t.project_id', '=', viewer.projectId),
            rbacGrants(objectType, viewer.projectId, ['access_as_shared']),
            ...(sharedColumn ? [eb(sql.ref(`t.${sharedColumn}`), '=', 1)] : []),
          ]),
        );
}
