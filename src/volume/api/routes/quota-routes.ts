import { Errors } from '../../../core/errors.js';
import type { Req, VolumeApi } from '../context.js';
import { bodyOf } from '../input.js';
import { lenientBool, queryValue } from '../listing.js';

/** /os-quota-sets and /os-quota-class-sets. */
export function quotaRoutes(api: VolumeApi): void {
  const { core } = api;
  const { quotas, repos } = core;

  const checkTarget = (req: Req, projectId: string) => {
    const c = api.caller(req);
    if (!c.admin && projectId !== c.projectId) throw Errors.forbidden(`Policy doesn't allow volume_extension:quotas:show to be performed.`);
  };

  const parseLimits = async (body: Record<string, unknown>) => {
    const names = await quotas.resourceNames();
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(body)) {
      if (k === 'id' || k === 'tenant_id') continue;
      if (!names.includes(k)) throw Errors.badRequest(`Bad key(s) in quota set: ${k}`);
      const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isInteger(n)) throw Errors.badRequest(`Quota limit ${JSON.stringify(v)} for ${k} must be an integer.`);
      if (n < -1) throw Errors.badRequest(`Quota limit ${n} for ${k} must be more than or equal to -1.`);
      out[k] = n;
    }
    return out;
  };

  api.route('GET', '/os-quota-sets/:project/defaults', async (req) => {
    const projectId = req.params['project']!;
    checkTarget(req, projectId);
    api.enforce(req, 'volume_extension:quotas:show', projectId);
    return { quota_set: { id: projectId, ...(await quotas.classLimits('default')) } };
  });

  api.route('GET', '/os-quota-sets/:project', async (req) => {
    const projectId = req.params['project']!;
    checkTarget(req, projectId);
    api.enforce(req, 'volume_extension:quotas:show', projectId);
    const limits = await quotas.limits(projectId);
    if (lenientBool(queryValue(req.query['usage']) ?? 'false')) {
      const usage = await quotas.usage(projectId);
      return {
        quota_set: {
          id: projectId,
          ...Object.fromEntries(Object.entries(limits).map(([k, v]) => [k, { limit: v, in_use: k === 'per_volume_gigabytes' ? 0 : (usage[k] ?? 0), reserved: 0 }])),
        },
      };
    }
    return { quota_set: { id: projectId, ...limits } };
  });

  api.route('PUT', '/os-quota-sets/:project', async (req) => {
    const projectId = req.params['project']!;
    api.enforce(req, 'volume_extension:quotas:update', projectId);
    const limits = await parseLimits(bodyOf(req.body, 'quota_set'));
    const usage = await quotas.usage(projectId);
    for (const [k, v] of Object.entries(limits)) {
      if (v !== -1 && k !== 'per_volume_gigabytes' && (usage[k] ?? 0) > v) {
        throw Errors.badRequest(`Quota ${k} limit must be equal or greater than existing resources. Current usage is ${usage[k]} and the requested limit is ${v}.`);
      }
    }
    await repos.quotas.setProjectLimits(projectId, limits);
    return { quota_set: await quotas.limits(projectId) };
  });

  api.route('DELETE', '/os-quota-sets/:project', async (req, reply) => {
    const projectId = req.params['project']!;
    api.enforce(req, 'volume_extension:quotas:delete', projectId);
    await repos.quotas.deleteProjectLimits(projectId);
    return reply.code(200).send();
  });

  api.route('GET', '/os-quota-class-sets/:name', async (req) => {
    api.enforce(req, 'volume_extension:quota_classes');
    const name = req.params['name']!;
    return { quota_class_set: { id: name, ...(await quotas.classLimits(name)) } };
  });

  api.route('PUT', '/os-quota-class-sets/:name', async (req) => {
    api.enforce(req, 'volume_extension:quota_classes');
    const name = req.params['name']!;
    if (name.length > 255) throw Errors.badRequest('The quota class name is too long.');
    await repos.quotas.setClassLimits(name, await parseLimits(bodyOf(req.body, 'quota_class_set')));
    return { quota_class_set: await quotas.classLimits(name) };
  });
}
