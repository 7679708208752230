import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createServiceApp } from '../../core/http/app.js';
import type { Log } from '../../core/log.js';
import { verifyInstanceSignature } from '../signature.js';
import {
  EC2_VERSIONS,
  OPENSTACK_VERSIONS,
  ec2MetaData,
  listing,
  metaDataJson,
  networkDataJson,
  openstackFiles,
  type Ec2Dir,
} from '../service/documents.js';
import type { MetadataInstance, MetadataSource } from '../service/metadata-source.js';

/**
 * The metadata API (Nova's metadata service) behind the metadata proxy. A
 * request is served only with a valid X-Instance-ID-Signature (HMAC of the
 * instance id with the secret shared with the proxy), and only for an
 * instance of the project in X-Tenant-ID. Responses are plain text or JSON,
 * as Nova returns them.
 */

export interface MetadataAppOptions {
  log: Log;
  source: () => MetadataSource;
  sharedSecret: string;
  /** Domain appended to host names (Nova's dhcp_domain). */
  dhcpDomain: string;
  logRequests?: boolean;
}

function text(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).header('content-type', 'text/plain; charset=UTF-8').send(body);
}

const notFound = (reply: FastifyReply) => text(reply, 404, '404 Not Found\n\nThe resource could not be found.\n\n');

export function createMetadataApp(options: MetadataAppOptions): FastifyInstance {
  const app = createServiceApp({ name: 'metadata', log: options.log, faultStyle: 'nova', logRequests: options.logRequests ?? true });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  async function identify(req: FastifyRequest, reply: FastifyReply): Promise<MetadataInstance | undefined> {
    const id = req.headers['x-instance-id'];
    const sig = req.headers['x-instance-id-signature'];
    const tenant = req.headers['x-tenant-id'];
    if (typeof id !== 'string' || !id) {
      text(reply, 400, '400 Bad Request\n\nX-Instance-ID header is missing from request.\n\n');
      return undefined;
    }
    if (typeof sig !== 'string' || !verifyInstanceSignature(options.sharedSecret, id, sig)) {
      options.log.warn({ instanceId: id, from: req.headers['x-forwarded-for'] }, 'metadata request with a bad signature');
      text(reply, 403, '403 Forbidden\n\nInvalid proxy request signature.\n\n');
      return undefined;
    }
    const instance = await options.source().instance(id);
    if (!instance || (typeof tenant === 'string' && tenant !== instance.projectId)) {
      notFound(reply);
      return undefined;
    }
    return instance;
  }

  app.route({
    method: ['GET', 'HEAD', 'POST'],
    url: '/*',
    handler: async (req, reply) => {
      const path = decodeURIComponent(req.url.split('?')[0] ?? '/');
      const parts = path.split('/').filter(Boolean);
      // Version lists need no identity (Nova answers them for anyone who reaches it).
      if (parts.length === 0) return text(reply, 200, [...EC2_VERSIONS, 'latest'].join('\n'));
      if (parts.length === 1 && parts[0] === 'openstack') return text(reply, 200, [...OPENSTACK_VERSIONS, 'latest'].join('\n'));
      const instance = await identify(req, reply);
      if (!instance) return reply;
      if (parts[0] === 'openstack') return serveOpenstack(reply, req, instance, parts.slice(1));
      return serveEc2(reply, req, instance, parts);
    },
  });

  function serveOpenstack(reply: FastifyReply, req: FastifyRequest, i: MetadataInstance, parts: string[]): FastifyReply {
    const [version, file, ...rest] = parts;
    if (!version || (version !== 'latest' && !OPENSTACK_VERSIONS.includes(version)) || rest.length) return notFound(reply);
    const files = openstackFiles(version, Boolean(i.userData?.length));
    if (!file) return text(reply, 200, files.join('\n'));
    if (!files.includes(file)) return notFound(reply);
    const json = (doc: unknown) => reply.code(200).header('content-type', 'application/json').send(JSON.stringify(doc));
    switch (file) {
      case 'meta_data.json':
        return json(metaDataJson(i, options.dhcpDomain, version));
      case 'network_data.json':
        return json(networkDataJson(i));
      case 'vendor_data.json':
        return json(i.vendorData ?? {});
      case 'vendor_data2.json':
        return json({});
      case 'user_data':
        return reply.code(200).header('content-type', 'application/octet-stream').send(i.userData);
      case 'password':
        // Nova stores an encrypted password the guest posts; Nimbus does not keep one.
        return req.method === 'POST' ? text(reply, 200, '') : text(reply, 200, '');
      default:
        return notFound(reply);
    }
  }

  function serveEc2(reply: FastifyReply, _req: FastifyRequest, i: MetadataInstance, parts: string[]): FastifyReply {
    const [version, section, ...rest] = parts;
    if (!version || (version !== 'latest' && !EC2_VERSIONS.includes(version))) return notFound(reply);
    const hasUserData = Boolean(i.userData?.length);
    if (!section) return text(reply, 200, hasUserData ? 'meta-data/\nuser-data' : 'meta-data/');
    if (section === 'user-data' && rest.length === 0) {
      return hasUserData ? reply.code(200).header('content-type', 'application/octet-stream').send(i.userData) : notFound(reply);
    }
    if (section !== 'meta-data') return notFound(reply);
    let node: string | Ec2Dir = ec2MetaData(i, options.dhcpDomain);
    for (const p of rest) {
      if (typeof node === 'string') return notFound(reply);
      const next: string | Ec2Dir | undefined = node[p];
      if (next === undefined) return notFound(reply);
      node = next;
    }
    return typeof node === 'string' ? text(reply, 200, node) : text(reply, 200, listing(node, rest, i));
  }

  return app;
}
