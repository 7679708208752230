import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { isForeignKeyViolation, isUniqueViolation } from '../db/database.js';
import { ApiError, Errors, isApiError } from '../errors.js';
import { newRequestId } from '../ids.js';
import type { Log } from '../log.js';
import { renderFault, type FaultStyle } from './faults.js';

export interface ServiceAppOptions {
  /** Service name for logs, e.g. `identity`. */
  name: string;
  log: Log;
  faultStyle: FaultStyle;
  /** Largest accepted request body in bytes. */
  bodyLimit?: number;
  /** Log one line per request. */
  logRequests?: boolean;
  /** Extra JSON-like media types this service accepts (e.g. Glance's json-patch). */
  jsonMediaTypes?: string[];
  /** Rewrites request URLs before routing (e.g. Neutron's optional `.json` suffix). */
  rewriteUrl?: (url: string) => string;
}

/**
 * A Fastify instance with what every OpenStack API shares: request ids
 * (`x-openstack-request-id` on every response, faults included), strict JSON
 * parsing, faults rendered in the service's own format, 404 for unknown paths,
 * and never a leaked stack trace.
 */
export function createServiceApp(options: ServiceAppOptions): FastifyInstance {
  const log = options.log.child({ service: options.name });
  const app = Fastify({
    loggerInstance: log as unknown as FastifyBaseLogger,
    // Our own onResponse hook logs one line per request; Fastify's two lines are off.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => newRequestId(),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    // Names are valid ids in lookups such as GET /v3/roles/<name>; Fastify's default (100) 404s them.
    return503OnClosing: true,
    // HEAD is declared explicitly where OpenStack supports it (token checks, grant checks).
    exposeHeadRoutes: false,
    forceCloseConnections: true,
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 1024 },
    ...(options.rewriteUrl ? { rewriteUrl: (req: { url?: string }) => options.rewriteUrl!(req.url ?? '/') } : {}),
    // Errors the router raises before any hook (bad %-encoding, overlong ids) get the service's fault format too.
    frameworkErrors: (error: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
      reply.header('x-openstack-request-id', req.id);
      const err =
        error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? Errors.notFoundMessage('The resource could not be found.') : Errors.badRequest(`Invalid request URL: ${error.message}`);
      sendFault(reply, options.faultStyle, err, req);
    },
  }) as unknown as FastifyInstance;

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-openstack-request-id', req.id);
  });

  // PostgreSQL text cannot hold NUL; no OpenStack field needs it. Refuse it up front instead of failing in SQL.
  app.addHook('preValidation', async (req) => {
    if (hasNul(req.params, 0, true) || hasNul(req.query, 0, true) || hasNul(req.body)) throw Errors.badRequest('Invalid input: NUL characters are not allowed.');
  });

  if (options.logRequests ?? true) {
    app.addHook('onResponse', async (req, reply) => {
      req.log.info(
        { method: req.method, url: req.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 },
        'request',
      );
    });
  }

  // Strict JSON: malformed bodies are a 400 in the service's fault format.
  app.removeContentTypeParser(['application/json']);
  const jsonTypes = ['application/json', ...(options.jsonMediaTypes ?? [])];
  app.addContentTypeParser(jsonTypes, { parseAs: 'string' }, (_req, body, done) => {
    const text = body as string;
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(Errors.badRequest(`Malformed request body: ${(err as Error).message}`), undefined);
    }
  });

  app.setNotFoundHandler((req, reply) => {
    sendFault(reply, options.faultStyle, Errors.notFoundMessage('The resource could not be found.'), req);
  });

  app.setErrorHandler((error: FastifyError | ApiError | Error, req, reply) => {
    sendFault(reply, options.faultStyle, toApiError(error, req), req);
  });

  return app;
}

export function toApiError(error: unknown, req?: FastifyRequest): ApiError {
  if (isApiError(error)) return error;
  const fe = error as FastifyError;
  if (fe.validation) return Errors.badRequest(`Invalid input for field/attribute: ${fe.message}`);
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return Errors.payloadTooLarge('Request is too large.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return Errors.unsupportedMediaType(`Unsupported Content-Type: ${String(req?.headers['content-type'] ?? '')}`);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return Errors.badRequest(fe.message);
    default:
      break;
  }
  // A race that a handler did not expect (two creates of one name) is a conflict, never a 500.
  if (isUniqueViolation(error)) return Errors.conflict('Conflict occurred attempting to store the resource: a duplicate entry exists.');
  if (isForeignKeyViolation(error)) return Errors.conflict('Conflict occurred attempting to store the resource: it refers to something that no longer exists.');
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new ApiError(fe.statusCode === 404 ? 'notFound' : 'badRequest', fe.message, { status: fe.statusCode });
  }
  req?.log.error({ err: error }, 'unhandled error');
  return Errors.internal();
}

export function sendFault(reply: FastifyReply, style: FaultStyle, err: ApiError, req: FastifyRequest): FastifyReply {
  const fault = renderFault(style, err, String(req.id));
  reply.code(fault.status).header('content-type', fault.contentType);
  for (const [k, v] of Object.entries(fault.headers)) reply.header(k, v);
  if (req.method === 'HEAD') return reply.send();
  return reply.send(fault.body);
}

/** Whether a parsed JSON value (or params/query object) contains a NUL character anywhere. */
function hasNul(value: unknown, depth = 0, anyObject = false): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (depth > 64 || value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some((v) => hasNul(v, depth + 1));
  // Only parsed JSON is walked: a raw body stream (image uploads) or a Buffer is not data to check.
  // Params and query objects come from the router with prototypes of their own, and are always data.
  const proto = Object.getPrototypeOf(value);
  if (!anyObject && depth === 0 && proto !== Object.prototype && proto !== null) return false;
  for (const [k, v] of Object.entries(value)) if (k.includes('\u0000') || hasNul(v, depth + 1)) return true;
  return false;
}
