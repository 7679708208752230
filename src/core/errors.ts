/**
 * The one typed error catalog. Services throw `ApiError`s made by the
 * factories below; each service's HTTP layer renders them in its own
 * OpenStack fault format (see core/http/faults.ts). Anything that is not an
 * ApiError becomes a 500 whose message never leaks internals.
 */

export type ErrorKind =
  | 'badRequest'
  | 'unauthorized'
  | 'forbidden'
  | 'notFound'
  | 'methodNotAllowed'
  | 'notAcceptable'
  | 'conflict'
  | 'gone'
  | 'preconditionFailed'
  | 'payloadTooLarge'
  | 'unsupportedMediaType'
  | 'rangeNotSatisfiable'
  | 'overQuota'
  | 'internal'
  | 'notImplemented'
  | 'serviceUnavailable';

const STATUS: Record<ErrorKind, number> = {
  badRequest: 400,
  unauthorized: 401,
  forbidden: 403,
  notFound: 404,
  methodNotAllowed: 405,
  notAcceptable: 406,
  conflict: 409,
  gone: 410,
  preconditionFailed: 412,
  payloadTooLarge: 413,
  unsupportedMediaType: 415,
  rangeNotSatisfiable: 416,
  overQuota: 413,
  internal: 500,
  notImplemented: 501,
  serviceUnavailable: 503,
};

/** HTTP reason phrases, used as Keystone's `title`. */
export const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  410: 'Gone',
  412: 'Precondition Failed',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  416: 'Requested Range Not Satisfiable',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

export interface ApiErrorOptions {
  /** Service-specific fault type, e.g. Neutron's `NetworkNotFound` or placement's `placement.concurrent_update`. */
  code?: string;
  /** Overrides the status derived from the kind (e.g. 403 for a Nova quota fault). */
  status?: number;
  /** Extra headers to send with the fault (e.g. `WWW-Authenticate`, `Retry-After`). */
  headers?: Record<string, string>;
  cause?: unknown;
}

export class ApiError extends Error {
  readonly kind: ErrorKind;
  readonly status: number;
  readonly code: string | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(kind: ErrorKind, message: string, options: ApiErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ApiError';
    this.kind = kind;
    this.status = options.status ?? STATUS[kind];
    this.code = options.code;
    this.headers = options.headers;
  }
}

export function isApiError(err: unknown): err is ApiError {
  return err instanceof ApiError;
}

/** Factories: `throw Errors.notFound('project', id)`. */
export const Errors = {
  badRequest: (message: string, options?: ApiErrorOptions) => new ApiError('badRequest', message, options),
  validation: (message: string, options?: ApiErrorOptions) => new ApiError('badRequest', message, options),
  unauthorized: (message = 'The request you have made requires authentication.', options?: ApiErrorOptions) =>
    new ApiError('unauthorized', message, options),
  forbidden: (message = 'You are not authorized to perform the requested action.', options?: ApiErrorOptions) =>
    new ApiError('forbidden', message, options),
  notFound: (what: string, id?: string, options?: ApiErrorOptions) =>
    new ApiError('notFound', id === undefined ? what : `Could not find ${what}: ${id}.`, options),
  notFoundMessage: (message: string, options?: ApiErrorOptions) => new ApiError('notFound', message, options),
  methodNotAllowed: (message = 'The method is not allowed for the requested URL.', options?: ApiErrorOptions) =>
    new ApiError('methodNotAllowed', message, options),
  notAcceptable: (message: string, options?: ApiErrorOptions) => new ApiError('notAcceptable', message, options),
  conflict: (message: string, options?: ApiErrorOptions) => new ApiError('conflict', message, options),
  gone: (message: string, options?: ApiErrorOptions) => new ApiError('gone', message, options),
  preconditionFailed: (message: string, options?: ApiErrorOptions) => new ApiError('preconditionFailed', message, options),
  payloadTooLarge: (message = 'Request is too large.', options?: ApiErrorOptions) =>
    new ApiError('payloadTooLarge', message, options),
  unsupportedMediaType: (message: string, options?: ApiErrorOptions) =>
    new ApiError('unsupportedMediaType', message, options),
  rangeNotSatisfiable: (message: string, options?: ApiErrorOptions) => new ApiError('rangeNotSatisfiable', message, options),
  overQuota: (message: string, options?: ApiErrorOptions) => new ApiError('overQuota', message, options),
  internal: (message = 'An unexpected error prevented the server from fulfilling your request.', options?: ApiErrorOptions) =>
    new ApiError('internal', message, options),
  notImplemented: (message = 'The action you have requested has not been implemented.', options?: ApiErrorOptions) =>
    new ApiError('notImplemented', message, options),
  serviceUnavailable: (message: string, options?: ApiErrorOptions) => new ApiError('serviceUnavailable', message, options),
};
