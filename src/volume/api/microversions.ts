import { parseVersion, type MicroversionSpec } from '../../core/http/microversion.js';

export const MIN_VERSION = '3.0';
export const MAX_VERSION = '3.70';

export const volumeMicroversions: MicroversionSpec = {
  serviceType: 'volume',
  min: parseVersion(MIN_VERSION)!,
  max: parseVersion(MAX_VERSION)!,
};
