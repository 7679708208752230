import { Type, type Static } from '@sinclair/typebox';
import { Port, section } from '../core/config/types.js';

/** One image store. Only `file` exists so far; the store interface (stores/store.ts) admits others. */
export const storeConfig = Type.Object(
  {
    id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'store id shown in /v2/info/stores' }),
    type: Type.Literal('file', { default: 'file' }),
    path: Type.String({ default: '', description: 'directory of the image files (default: <dataDir>/images/<id>)' }),
    description: Type.String({ default: '' }),
    readOnly: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);
export type StoreConfig = Static<typeof storeConfig>;

/** -1 means unlimited, as in Keystone's unified limits. */
const Limit = (description: string) => Type.Integer({ minimum: -1, default: -1, description });

export const imageSection = section({
  enabled: Type.Boolean({ default: true }),
  port: Port(9292, 'Glance v2 API port'),
  stores: Type.Array(storeConfig, {
    default: [],
    description:
      'image stores; empty = one file store under <dataDir>/images without multi-store (/v2/info/stores answers 404). ' +
      'One or more entries turn on Glance multi-store behaviour (stores field, copy-image, /v2/info/stores).',
  }),
  defaultStore: Type.String({ default: '', description: 'store that uploads go to (default: the first one)' }),
  stagingPath: Type.String({ default: '', description: 'directory of staged (glance-direct) data (default: <dataDir>/images/staging)' }),
  importMethods: Type.Array(
    Type.Union([Type.Literal('glance-direct'), Type.Literal('web-download'), Type.Literal('copy-image')]),
    {
      default: ['glance-direct', 'web-download', 'copy-image'],
      description: 'interoperable import methods offered (copy-image only shows when there are several stores)',
    },
  ),
  webDownload: section({
    allowedSchemes: Type.Array(Type.String(), { default: ['http', 'https'] }),
    allowedPorts: Type.Array(Type.Integer({ minimum: 1, maximum: 65535 }), {
      default: [80, 443],
      description: 'ports a web-download URL may use (empty = any)',
    }),
    allowedHosts: Type.Array(Type.String(), {
      default: [],
      description: 'hosts always allowed, even loopback/private ones (e.g. 127.0.0.1 in tests); empty = only public addresses',
    }),
    timeoutSeconds: Type.Integer({ minimum: 1, default: 600, description: 'limit on a whole download' }),
  }),
  /** Glance's legacy per-image limits (413 when exceeded). */
  imageMemberQuota: Type.Integer({ minimum: -1, default: 128 }),
  imagePropertyQuota: Type.Integer({ minimum: -1, default: 128 }),
  imageTagQuota: Type.Integer({ minimum: -1, default: 128 }),
  imageSizeCapBytes: Type.Integer({ minimum: 0, default: 1099511627776, description: 'largest image in bytes (Glance image_size_cap, 1 TiB)' }),
  /** Per-project limits, Glance's unified-limit resources (units as Glance: MiB for sizes). */
  quotas: section({
    imageCountTotal: Limit('images a project may own (not deleted)'),
    imageSizeTotalMiB: Limit('MiB of image data a project may store'),
    imageStageTotalMiB: Limit('MiB a project may have staged or importing at once'),
    imageCountUploading: Limit('images a project may be uploading/importing at once'),
  }),
  testImagePath: Type.String({
    default: '',
    description:
      'bootable test image imported as public `cirros` at the first start that finds it (default: <dataDir>/images/test-image.qcow2, else the image `nimbus image build-test` recorded in <dataDir>/test-image/manifest.json)',
  }),
  checksums: Type.Union([Type.Literal('inline'), Type.Literal('background')], {
    default: 'inline',
    description:
      'inline (Glance): checksum/os_hash_value are computed while the data streams in and are set when the image turns active; ' +
      'background: uploads run at disk speed and the image is active at once, the digests follow a few seconds later (null meanwhile)',
  }),
  uploadIdleTimeoutSeconds: Type.Integer({
    minimum: 1,
    default: 300,
    description: 'an upload or stage that sends no data for this long is aborted (the image goes back to queued)',
  }),
  rejectUnsafeImages: Type.Boolean({
    default: true,
    description: 'refuse data that is recognisably a dangerous image (qcow2 backing/data file, vmdk external extents, QED) or another format than disk_format',
  }),
  maxRequestBodyBytes: Type.Integer({ minimum: 1024, default: 1048576, description: 'largest JSON request body' }),
  policyFile: Type.String({ default: '', description: 'policy.yaml with Glance rule overrides' }),
});

export type ImageConfig = Static<typeof imageSection>;
