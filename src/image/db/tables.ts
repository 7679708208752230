/**
 * Image tables (prefix `img_`). Booleans are 0/1 integers, JSON is text,
 * timestamps ISO-8601 text with microseconds (so text order is time order).
 * Deleted images stay as rows (`deleted = 1`) so their ids stay taken, as in Glance.
 */

export type ImageStatus =
  | 'queued'
  | 'saving'
  | 'uploading'
  | 'importing'
  | 'active'
  | 'deactivated'
  | 'killed'
  | 'deleted'
  | 'pending_delete';

export type Visibility = 'public' | 'private' | 'shared' | 'community';

export interface ImageRow {
  id: string;
  name: string | null;
  status: ImageStatus;
  visibility: Visibility;
  protected: number;
  os_hidden: number;
  checksum: string | null;
  os_hash_algo: string | null;
  os_hash_value: string | null;
  size: number | null;
  virtual_size: number | null;
  owner: string | null;
  disk_format: string | null;
  container_format: string | null;
  min_disk: number;
  min_ram: number;
  created_at: string;
  updated_at: string;
  deleted: number;
  deleted_at: string | null;
}

export interface PropertyRow {
  image_id: string;
  name: string;
  value: string;
}

export interface TagRow {
  image_id: string;
  value: string;
}

export type MemberStatus = 'pending' | 'accepted' | 'rejected';

export interface MemberRow {
  image_id: string;
  member: string;
  status: MemberStatus;
  created_at: string;
  updated_at: string;
}

/** A copy of an image's data in one store. */
export interface LocationRow {
  image_id: string;
  store_id: string;
  created_at: string;
}

export interface TaskRow {
  id: string;
  type: string;
  status: 'pending' | 'processing' | 'success' | 'failure';
  owner: string | null;
  user_id: string | null;
  image_id: string | null;
  request_id: string | null;
  input: string;
  result: string | null;
  message: string;
  expires_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface MdNamespaceRow {
  id: string;
  namespace: string;
  display_name: string | null;
  description: string | null;
  visibility: 'public' | 'private';
  protected: number;
  owner: string;
  created_at: string;
  updated_at: string;
}

export interface MdResourceTypeRow {
  name: string;
  protected: number;
  created_at: string;
  updated_at: string;
}

export interface MdNsResourceTypeRow {
  namespace_id: string;
  resource_type: string;
  prefix: string | null;
  properties_target: string | null;
  created_at: string;
  updated_at: string;
}

/** Properties, objects and tags of a namespace; `body` is the JSON document as the API shows it. */
export interface MdItemRow {
  namespace_id: string;
  kind: 'property' | 'object' | 'tag';
  name: string;
  body: string;
  created_at: string;
  updated_at: string;
}

export interface ImageTables {
  img_image: ImageRow;
  img_property: PropertyRow;
  img_tag: TagRow;
  img_member: MemberRow;
  img_location: LocationRow;
  img_task: TaskRow;
  img_md_namespace: MdNamespaceRow;
  img_md_resource_type: MdResourceTypeRow;
  img_md_ns_resource_type: MdNsResourceTypeRow;
  img_md_item: MdItemRow;
}
