import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backendConformance } from '../conformance.js';
import { createFileBackend } from './file-backend.js';

const haveQemuImg = await import('node:child_process').then(
  (cp) => cp.spawnSync('qemu-img', ['--version']).status === 0,
  () => false,
);

for (const format of ['qcow2', 'raw'] as const) {
  let dir = '';
  backendConformance(`file (${format})`, {
    skip: haveQemuImg ? false : 'qemu-img is not installed (apt-get install qemu-utils)',
    async make() {
      dir = mkdtempSync(join(tmpdir(), `nimbus-file-backend-${format}-`));
      return createFileBackend({ name: 'file', path: dir, format });
    },
    async cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  });
}
