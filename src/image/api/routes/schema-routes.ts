import type { FastifyInstance } from 'fastify';
import { Errors } from '../../../core/errors.js';
import { CONTAINER_FORMATS, DISK_FORMATS, STATUSES, VISIBILITIES } from '../../service/image-schema.js';
import type { ImageApi } from '../context.js';

const UUID = '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$';
const str = (description: string, extra: Record<string, unknown> = {}) => ({ type: 'string', description, ...extra });
const nullStr = (description: string, extra: Record<string, unknown> = {}) => ({ type: ['null', 'string'], description, ...extra });

/** The image schema Glance Zed publishes (glanceclient reads it; Tempest checks `name`). */
export function imageSchema(): Record<string, unknown> {
  return {
    name: 'image',
    properties: {
      id: str('An identifier for the image', { pattern: UUID }),
      name: nullStr('Descriptive name for the image', { maxLength: 255 }),
      status: str('Status of the image', { readOnly: true, enum: [...STATUSES] }),
      visibility: str('Scope of image accessibility', { enum: [...VISIBILITIES] }),
      protected: { type: 'boolean', description: 'If true, image will not be deletable.' },
      os_hidden: { type: 'boolean', description: 'If true, image will not appear in default image list response.' },
      checksum: nullStr('md5 hash of image contents.', { readOnly: true, maxLength: 32 }),
      os_hash_algo: nullStr('Algorithm to calculate the os_hash_value', { readOnly: true, maxLength: 64 }),
      os_hash_value: nullStr('Hexdigest of the image contents using the algorithm specified by the os_hash_algo', {
        readOnly: true,
        maxLength: 128,
      }),
      owner: nullStr('Owner of the image', { maxLength: 255 }),
      size: { type: ['null', 'integer'], readOnly: true, description: 'Size of image file in bytes' },
      virtual_size: { type: ['null', 'integer'], readOnly: true, description: 'Virtual size of image in bytes' },
      container_format: { type: ['null', 'string'], description: 'Format of the container', enum: [null, ...CONTAINER_FORMATS] },
      disk_format: { type: ['null', 'string'], description: 'Format of the disk', enum: [null, ...DISK_FORMATS] },
      created_at: str('Date and time of image registration', { readOnly: true }),
      updated_at: str('Date and time of the last image modification', { readOnly: true }),
      tags: { type: 'array', description: 'List of strings related to the image', items: { type: 'string', maxLength: 255 } },
      direct_url: str('URL to access the image file kept in external store', { readOnly: true }),
      min_ram: { type: 'integer', description: 'Amount of ram (in MB) required to boot image.' },
      min_disk: { type: 'integer', description: 'Amount of disk space (in GB) required to boot image.' },
      self: str('An image self url', { readOnly: true }),
      file: str('An image file url', { readOnly: true }),
      stores: str('Store in which image data resides.  Only present when the operator has enabled multiple stores.', { readOnly: true }),
      schema: str('An image schema url', { readOnly: true }),
      locations: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            url: { type: 'string', maxLength: 255 },
            metadata: { type: 'object' },
            validation_data: {
              type: 'object',
              writeOnly: true,
              additionalProperties: false,
              properties: {
                checksum: { type: 'string', minLength: 32, maxLength: 32 },
                os_hash_algo: { type: 'string', maxLength: 64 },
                os_hash_value: { type: 'string', maxLength: 128 },
              },
              required: ['os_hash_algo', 'os_hash_value'],
            },
          },
          required: ['url', 'metadata'],
        },
        description: 'A set of URLs to access the image file kept in external store',
      },
      kernel_id: { type: ['null', 'string'], pattern: UUID, description: 'ID of image stored in Glance that should be used as the kernel when booting an AMI-style image.', is_base: false },
      ramdisk_id: { type: ['null', 'string'], pattern: UUID, description: 'ID of image stored in Glance that should be used as the ramdisk when booting an AMI-style image.', is_base: false },
      instance_uuid: { type: 'string', description: 'Metadata which can be used to record which instance this image is associated with. (Informational only, does not create an instance snapshot.)', is_base: false },
      architecture: { type: 'string', description: 'Operating system architecture as specified in https://docs.openstack.org/python-glanceclient/latest/cli/property-keys.html', is_base: false },
      os_distro: { type: 'string', description: 'Common name of operating system distribution as specified in https://docs.openstack.org/python-glanceclient/latest/cli/property-keys.html', is_base: false },
      os_version: { type: 'string', description: 'Operating system version as specified by the distributor.', is_base: false },
      description: { type: 'string', description: 'A human-readable string describing this image.', is_base: false },
    },
    additionalProperties: { type: 'string' },
    links: [
      { rel: 'self', href: '{self}' },
      { rel: 'enclosure', href: '{file}' },
      { rel: 'describedby', href: '{schema}' },
    ],
  };
}

function memberSchema(): Record<string, unknown> {
  return {
    name: 'member',
    properties: {
      member_id: str('An identifier for the image member (tenantId)'),
      image_id: str('An identifier for the image', { pattern: UUID }),
      created_at: str('Date and time of image member creation'),
      updated_at: str('Date and time of last modification of image member'),
      status: str('The status of this image member', { enum: ['pending', 'accepted', 'rejected'] }),
      schema: str('', { readOnly: true }),
    },
  };
}

function taskSchema(): Record<string, unknown> {
  return {
    name: 'task',
    properties: {
      id: str('An identifier for the task', { pattern: UUID }),
      type: str('The type of task represented by this content', { enum: ['import', 'api_image_import'] }),
      status: str('The current status of this task', { enum: ['pending', 'processing', 'success', 'failure'] }),
      input: { type: ['null', 'object'], description: 'The parameters required by task, JSON blob' },
      result: { type: ['null', 'object'], description: 'The result of current task, JSON blob' },
      owner: str('An identifier for the owner of this task'),
      message: str('Human-readable informative message only included when appropriate (usually on failure)'),
      image_id: str('Image associated with the task', { readOnly: true }),
      request_id: str('Request ID associated with the task', { readOnly: true }),
      user_id: str('User associated with the task', { readOnly: true }),
      expires_at: { type: ['null', 'string'], description: 'Datetime when this resource would be subject to removal' },
      created_at: str('Datetime when this resource was created'),
      updated_at: str('Datetime when this resource was updated'),
      self: str(''),
      schema: str(''),
    },
  };
}

function collection(name: string, itemKey: string, item: Record<string, unknown>, paged: boolean): Record<string, unknown> {
  return {
    name,
    properties: {
      [itemKey]: { type: 'array', items: item },
      ...(paged ? { first: { type: 'string' }, next: { type: 'string' } } : {}),
      schema: { type: 'string' },
    },
    links: paged
      ? [
          { rel: 'first', href: '{first}' },
          { rel: 'next', href: '{next}' },
          { rel: 'describedby', href: '{schema}' },
        ]
      : [{ rel: 'describedby', href: '{schema}' }],
  };
}

const simple = (name: string, props: string[]) => ({
  name,
  properties: Object.fromEntries(props.map((p) => [p, { type: 'string' }])),
  additionalProperties: false,
});

/** Every schema Glance serves under /v2/schemas, by path. */
function allSchemas(): Record<string, Record<string, unknown>> {
  const image = imageSchema();
  const member = memberSchema();
  const task = taskSchema();
  const ns = simple('namespace', ['namespace', 'display_name', 'description', 'visibility', 'owner', 'created_at', 'updated_at', 'schema', 'self']);
  const rt = simple('resource_type_association', ['name', 'prefix', 'properties_target', 'created_at', 'updated_at']);
  const prop = simple('property', ['name', 'title', 'description', 'type']);
  const obj = simple('object', ['name', 'description', 'created_at', 'updated_at', 'schema', 'self']);
  const tag = simple('tag', ['name', 'created_at', 'updated_at']);
  return {
    image,
    images: collection('images', 'images', image, true),
    member,
    members: collection('members', 'members', member, false),
    task,
    tasks: collection('tasks', 'tasks', task, true),
    'metadefs/namespace': ns,
    'metadefs/namespaces': collection('namespaces', 'namespaces', ns, true),
    'metadefs/resource_type': rt,
    'metadefs/resource_types': collection('resource_type_associations', 'resource_type_associations', rt, true),
    'metadefs/property': prop,
    'metadefs/properties': collection('properties', 'properties', prop, true),
    'metadefs/object': obj,
    'metadefs/objects': collection('objects', 'objects', obj, true),
    'metadefs/tag': tag,
    'metadefs/tags': collection('tags', 'tags', tag, true),
  };
}

/** GET /v2/schemas/... (any authenticated user). */
export function schemaRoutes(app: FastifyInstance, api: ImageApi): void {
  const schemas = allSchemas();
  const auth = { preHandler: api.authenticate };
  app.get<{ Params: { '*': string } }>('/v2/schemas/*', auth, async (req) => {
    const s = schemas[req.params['*'].replace(/\/$/, '')];
    if (!s) throw Errors.notFoundMessage('The resource could not be found.');
    return s;
  });
}
