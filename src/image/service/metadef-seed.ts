import type { ImageCore } from './image-core.js';
import { toStoredTime } from './time.js';

/** Resource types Glance ships (clients pick from them when associating namespaces). */
const RESOURCE_TYPES = ['OS::Glance::Image', 'OS::Cinder::Volume', 'OS::Nova::Flavor', 'OS::Nova::Aggregate', 'OS::Nova::Server', 'OS::Trove::Instance'];

export async function seedMetadefs(core: ImageCore): Promise<void> {
  const now = toStoredTime();
  for (const name of RESOURCE_TYPES) await core.repos.metadefs.ensureResourceType(name, now, true);
}
