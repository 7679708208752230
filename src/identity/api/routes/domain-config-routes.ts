import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Errors } from '../../../core/errors.js';
import { envelope, type Json } from '../../../core/http/input.js';
import { createDomainConfigs, defaults } from '../../service/domain-config.js';
import type { IdentityApi } from '../context.js';

type P = { Params: Record<string, string> };

/** /v3/domains/{id}/config[/{group}[/{option}]] and the defaults under /v3/domains/config. */
export function domainConfigRoutes(app: FastifyInstance, api: IdentityApi): void {
  const { identity } = api;
  const configs = createDomainConfigs(identity.repos.domainConfigs);
  const auth = { preHandler: api.authenticate };
  const sec = identity.deps.config.identity.securityCompliance;

  const domain = async (id: string) => {
    if (!(await identity.repos.projects.getDomain(id))) throw Errors.notFound('domain', id);
  };
  const parts = (req: FastifyRequest<P>) => ({ group: req.params['group'], option: req.params['option'] });

  /** Keystone exposes the password rules of the default domain to anyone with a token. */
  const securityCompliance = (req: FastifyRequest<P>, domainId: string, option?: string): Json => {
    api.enforce(req, 'identity:get_security_compliance_domain_config');
    if (domainId !== 'default') throw Errors.forbidden('Invalid domain specific configuration: Reading security compliance information for any domain other than the default domain is not allowed or supported..');
    const values: Json = { password_regex: sec.passwordRegex || null, password_regex_description: sec.passwordRegexDescription || null };
    if (option === undefined) return { security_compliance: values };
    if (!(option in values)) throw Errors.forbidden('Invalid domain specific configuration: Reading security compliance values other than password_regex and password_regex_description is not allowed..');
    return { [option]: values[option] };
  };

  const read = async (req: FastifyRequest<P>) => {
    const id = req.params['id']!;
    const { group, option } = parts(req);
    if (group === 'security_compliance') {
      const out = securityCompliance(req, id, option);
      await domain(id);
      return out;
    }
    api.enforce(req, 'identity:get_domain_config');
    await domain(id);
    return configs.get(id, group, option);
  };
  for (const path of ['/v3/domains/:id/config', '/v3/domains/:id/config/:group', '/v3/domains/:id/config/:group/:option']) {
    app.get<P>(path, auth, async (req) => ({ config: await read(req) }));
    app.head<P>(path, auth, async (req, reply) => {
      await read(req);
      return reply.code(200).send();
    });
    app.patch<P>(path, auth, async (req) => {
      api.enforce(req, 'identity:update_domain_config');
      const id = req.params['id']!;
      await domain(id);
      const { group, option } = parts(req);
      return { config: await configs.update(id, envelope(req.body, 'config'), group, option) };
    });
    app.delete<P>(path, auth, async (req, reply) => {
      api.enforce(req, 'identity:delete_domain_config');
      const id = req.params['id']!;
      await domain(id);
      const { group, option } = parts(req);
      await configs.remove(id, group, option);
      return reply.code(204).send();
    });
  }
  app.put<P>('/v3/domains/:id/config', auth, async (req, reply) => {
    api.enforce(req, 'identity:create_domain_config');
    const id = req.params['id']!;
    await domain(id);
    const { config, replaced } = await configs.create(id, envelope(req.body, 'config'));
    return reply.code(replaced ? 200 : 201).send({ config });
  });

  const readDefaults = (req: FastifyRequest<P>) => {
    api.enforce(req, 'identity:get_domain_config_default');
    const { group, option } = parts(req);
    return { config: defaults(group, option) };
  };
  app.get<P>('/v3/domains/config/default', auth, async (req) => readDefaults(req));
  app.get<P>('/v3/domains/config/:group/default', auth, async (req) => readDefaults(req));
  app.get<P>('/v3/domains/config/:group/:option/default', auth, async (req) => readDefaults(req));
}
