import type { VolumeApi } from '../context.js';

/** Generic volume groups, group types and group snapshots (3.11+). */
export function groupRoutes(_api: VolumeApi): void {}
