import { identityModule } from '../identity/module.js';
import { imageModule } from '../image/module.js';
import { networkModule } from '../network/module.js';
import { metadataModule } from '../metadata/module.js';
import { volumeModule } from '../volume/module.js';
import type { ServiceModule } from './service-module.js';

/**
 * Every service of the cloud, in start order. Identity is first (the others
 * validate tokens with it); a new service adds its module here.
 */
export const allModules: ServiceModule[] = [identityModule, imageModule, networkModule, metadataModule, volumeModule];
