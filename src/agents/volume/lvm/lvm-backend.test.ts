import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backendConformance } from '../conformance.js';
import { createLvmBackend } from './lvm-backend.js';
import { createLoopVolumeGroup, lvmUnavailableReason, type LoopVolumeGroup } from './loop-vg.js';

// A real volume group on a loop device (a sparse file), made and removed by the test.
const reason = await lvmUnavailableReason();
for (const lvmType of ['default', 'thin'] as const) {
  let vg: LoopVolumeGroup | undefined;
  let dir = '';
  backendConformance(`lvm (${lvmType})`, {
    skip: reason,
    async make() {
      dir = mkdtempSync(join(tmpdir(), 'nimbus-lvm-'));
      vg = await createLoopVolumeGroup(dir, 12);
      return createLvmBackend({ name: 'lvm', volumeGroup: vg.name, lvmType });
    },
    async cleanup() {
      await vg?.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}
