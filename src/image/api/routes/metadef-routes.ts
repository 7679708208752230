import type { FastifyInstance } from 'fastify';
import type { ImageApi } from '../context.js';

/** Metadata definitions (/v2/metadefs). */
export function metadefRoutes(_app: FastifyInstance, _api: ImageApi): void {}
