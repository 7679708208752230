import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InstancePaths, InstanceSpec } from './qemu-command.js';

/**
 * Per-instance directory on the compute host: the disk overlay, the console
 * log, QEMU's own log, and `instance.json` (the launch spec plus what the
 * driver must remember across agent restarts: desired power state, rescue,
 * saved state). Sockets and pidfiles live in a short run directory because a
 * UNIX socket path is limited to 107 bytes.
 */

export interface InstanceRecord {
  spec: InstanceSpec;
  /** sha1 name of the cached base image the root overlay uses. */
  baseImage?: string;
  /** Set while rescued: the original root disk id, booted as a second disk. */
  rescue?: { rescueDiskId: string };
  /** The spec to go back to on unrescue. */
  originalSpec?: InstanceSpec;
  /** Memory state saved by suspend, restored by resume. */
  savedState?: string;
  createdAt: string;
}

export interface InstanceDirs extends InstancePaths {
  dir: string;
  rootDisk: string;
  recordFile: string;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class InstanceStore {
  readonly instancesDir: string;
  readonly runDir: string;

  constructor(stateDir: string, runDir?: string) {
    this.instancesDir = join(stateDir, 'instances');
    this.runDir = runDir ?? join(stateDir, 'run');
    mkdirSync(this.instancesDir, { recursive: true });
    mkdirSync(this.runDir, { recursive: true, mode: 0o700 });
    const longest = join(this.runDir, `${'0'.repeat(36)}.serial`);
    if (Buffer.byteLength(longest) > 107) {
      throw new Error(`run directory ${this.runDir} is too long for UNIX socket paths (max 107 bytes); set compute.qemu.runDir`);
    }
  }

  paths(uuid: string): InstanceDirs {
    if (!UUID_RE.test(uuid)) throw new Error(`bad instance uuid ${uuid}`);
    const dir = join(this.instancesDir, uuid);
    return {
      dir,
      rootDisk: join(dir, 'disk'),
      recordFile: join(dir, 'instance.json'),
      consoleLog: join(dir, 'console.log'),
      qemuLog: join(dir, 'qemu.log'),
      qmpSocket: join(this.runDir, `${uuid}.qmp`),
      serialSocket: join(this.runDir, `${uuid}.serial`),
      pidFile: join(this.runDir, `${uuid}.pid`),
    };
  }

  create(uuid: string): InstanceDirs {
    const p = this.paths(uuid);
    mkdirSync(p.dir, { recursive: true, mode: 0o750 });
    return p;
  }

  read(uuid: string): InstanceRecord | undefined {
    const p = this.paths(uuid);
    if (!existsSync(p.recordFile)) return undefined;
    return JSON.parse(readFileSync(p.recordFile, 'utf8')) as InstanceRecord;
  }

  write(uuid: string, record: InstanceRecord): void {
    const p = this.paths(uuid);
    const tmp = `${p.recordFile}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`);
    renameSync(tmp, p.recordFile); // atomic: a crash never leaves half a record
  }

  list(): string[] {
    return readdirSync(this.instancesDir).filter((d) => UUID_RE.test(d) && existsSync(join(this.instancesDir, d, 'instance.json')));
  }

  remove(uuid: string): void {
    const p = this.paths(uuid);
    rmSync(p.dir, { recursive: true, force: true });
    for (const f of [p.qmpSocket, p.serialSocket, p.pidFile]) rmSync(f, { force: true });
  }
}
