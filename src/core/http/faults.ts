import { ApiError, TITLES } from '../errors.js';

/** Each OpenStack service renders faults its own way; clients and Tempest rely on it. */
export type FaultStyle = 'keystone' | 'nova' | 'cinder' | 'neutron' | 'placement' | 'glance';

export interface RenderedFault {
  status: number;
  contentType: string;
  body: string;
  headers: Record<string, string>;
}

const NOVA_FAULT_KEYS: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  406: 'notAcceptable',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  429: 'overLimit',
  501: 'notImplemented',
  503: 'serviceUnavailable',
};

const NEUTRON_DEFAULT_TYPES: Record<number, string> = {
  400: 'HTTPBadRequest',
  401: 'HTTPUnauthorized',
  403: 'HTTPForbidden',
  404: 'HTTPNotFound',
  405: 'HTTPMethodNotAllowed',
  409: 'HTTPConflict',
  412: 'PreconditionFailed',
  413: 'HTTPRequestEntityTooLarge',
  415: 'HTTPUnsupportedMediaType',
  500: 'HTTPInternalServerError',
  501: 'HTTPNotImplemented',
  503: 'HTTPServiceUnavailable',
};

export function renderFault(style: FaultStyle, err: ApiError, requestId: string): RenderedFault {
  const status = err.status;
  const title = TITLES[status] ?? 'Error';
  const headers = { ...(err.headers ?? {}) };
  const json = (body: unknown): RenderedFault => ({
    status,
    contentType: 'application/json',
    body: JSON.stringify(body),
    headers,
  });
  switch (style) {
    case 'keystone':
      return json({ error: { code: status, title, message: err.message } });
    case 'nova':
    case 'cinder': {
      const key = NOVA_FAULT_KEYS[status] ?? (style === 'nova' ? 'computeFault' : 'computeFault');
      return json({ [key]: { code: status, message: err.message } });
    }
    case 'neutron':
      return json({
        NeutronError: { type: err.code ?? NEUTRON_DEFAULT_TYPES[status] ?? 'HTTPError', message: err.message, detail: '' },
      });
    case 'placement':
      return json({
        errors: [
          {
            status,
            title,
            detail: `${title}\n\n${err.message}  `,
            code: err.code ?? 'placement.undefined_code',
            request_id: requestId,
          },
        ],
      });
    case 'glance':
      // Glance (webob) with Accept: application/json, which every client sends.
      return json({ code: `${status} ${title}`, title, message: err.message });
  }
}
