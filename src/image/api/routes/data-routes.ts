import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { headerValue } from '../../../core/auth/auth-hook.js';
import { Errors } from '../../../core/errors.js';
import type { ByteRange } from '../../service/data-service.js';
import type { ImageApi } from '../context.js';
import { renderTask } from '../render.js';

type P = { Params: Record<string, string> };

const OCTET = 'application/octet-stream';

/** The request body as a stream; Fastify leaves an empty body undefined. */
function bodyStream(req: FastifyRequest): Readable {
  const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (type !== OCTET) throw Errors.unsupportedMediaType(`The request media type ${type ?? '(none)'} is not supported by this server.`);
  return req.body instanceof Readable ? req.body : Readable.from([]);
}

/** `Range: bytes=a-b|a-|-n` (one range), or the legacy request header `Content-Range: bytes a-b/total`. */
export function parseRange(req: FastifyRequest): ((size: number) => ByteRange | undefined) | undefined {
  const range = headerValue(req, 'range');
  const legacy = headerValue(req, 'content-range');
  if (!range && !legacy) return undefined;
  return (size) => {
    const unsatisfiable = () => Errors.rangeNotSatisfiable('Requested range not satisfiable', { headers: { 'content-range': `bytes */${size}` } });
    let start: number;
    let end: number;
    if (range) {
      const m = /^bytes=(\d*)-(\d*)$/.exec(range.replace(/\s+/g, ''));
      if (!m || (m[1] === '' && m[2] === '')) throw unsatisfiable();
      if (m[1] === '') {
        const n = Number(m[2]);
        if (n === 0) throw unsatisfiable();
        start = Math.max(0, size - n);
        end = size - 1;
      } else {
        start = Number(m[1]);
        end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
      }
    } else {
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(legacy!);
      if (!m) throw unsatisfiable();
      start = Number(m[1]);
      end = Number(m[2]);
      if (end >= size) throw unsatisfiable();
    }
    if (start >= size || start > end) throw unsatisfiable();
    return { start, end };
  };
}

/**
 * Image data. Upload and stage bodies are streams: this context replaces every
 * body parser with one that hands the raw request on (chunked or sized,
 * never buffered), and the handlers answer 415 to anything but octet-stream.
 */
export function dataRoutes(app: FastifyInstance, api: ImageApi): void {
  const { core } = api;
  const auth = { preHandler: api.authenticate };

  app.register(async (raw) => {
    raw.removeAllContentTypeParsers();
    raw.addContentTypeParser('*', (_req, payload, done) => done(null, payload));

    raw.put<P>('/v2/images/:id/file', auth, async (req, reply) => {
      const body = bodyStream(req);
      await core.data.upload(api.caller(req), req.params['id']!, body, headerValue(req, 'x-image-meta-store'));
      return reply.code(204).send();
    });

    raw.put<P>('/v2/images/:id/stage', auth, async (req, reply) => {
      if (!core.imports.methods().includes('glance-direct')) throw Errors.notFoundMessage("'glance-direct' method is not available at this site.");
      const body = bodyStream(req);
      await core.data.stage(api.caller(req), req.params['id']!, body);
      return reply.code(204).send();
    });
  });

  app.get<P>('/v2/images/:id/file', auth, async (req, reply) => {
    const d = await core.data.download(api.caller(req), req.params['id']!, parseRange(req));
    if (!d.stream) return reply.code(204).send();
    reply.header('content-type', OCTET);
    if (d.image.checksum) reply.header('content-md5', d.image.checksum);
    if (d.range) {
      reply.code(206).header('content-range', `bytes ${d.range.start}-${d.range.end}/${d.size}`);
      reply.header('content-length', d.range.end - d.range.start + 1);
    } else {
      reply.header('content-length', d.size);
    }
    return reply.send(d.stream);
  });

  app.post<P>('/v2/images/:id/import', auth, async (req, reply) => {
    await core.imports.import(api.caller(req), req.params['id']!, req.body, headerValue(req, 'x-image-meta-store'));
    return reply.code(202).send();
  });

  app.get<P>('/v2/images/:id/tasks', auth, async (req) => ({
    tasks: (await core.imports.tasksOf(api.caller(req), req.params['id']!)).map(renderTask),
  }));
}
