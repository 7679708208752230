import { chownSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import type { CommandRunner } from '../../../core/exec.js';

/**
 * The test image is made from Debian's own packages, fetched with apt's
 * ordinary client (`apt-get download`, no installation) and unpacked with
 * `dpkg -x`. Downloaded .debs are kept in a cache directory so a rebuild
 * needs no network.
 */

/** The package that `linux-image-amd64` currently depends on, e.g. linux-image-6.1.0-56-amd64. */
export async function currentKernelPackage(run: CommandRunner): Promise<string> {
  const { stdout } = await run('apt-cache', ['depends', 'linux-image-amd64'], { timeoutMs: 60_000 });
  const m = /Depends:\s*(linux-image-[^\s]+)/.exec(stdout);
  if (!m?.[1]) throw new Error('apt does not know linux-image-amd64: run `apt-get update` first');
  return m[1];
}

/** Candidate version apt would download for a package. */
export async function candidateVersion(run: CommandRunner, pkg: string): Promise<string> {
  const { stdout } = await run('apt-cache', ['policy', pkg], { timeoutMs: 60_000 });
  const m = /Candidate:\s*(\S+)/.exec(stdout);
  if (!m?.[1] || m[1] === '(none)') throw new Error(`apt has no candidate for ${pkg}: run \`apt-get update\` first`);
  return m[1];
}

/** Path of the cached .deb of `pkg`, downloading it into `cacheDir` when missing. */
export async function fetchDeb(run: CommandRunner, cacheDir: string, pkg: string): Promise<string> {
  mkdirSync(cacheDir, { recursive: true });
  const version = await candidateVersion(run, pkg);
  // apt names files <pkg>_<version with ':' as %3a>_<arch>.deb
  const expected = `${pkg}_${version.replace(/:/g, '%3a')}_`;
  const find = () => readdirSync(cacheDir).find((f) => f.startsWith(expected) && f.endsWith('.deb'));
  const have = find();
  if (have) return join(cacheDir, have);
  // A newer version replaces the cached one.
  for (const old of readdirSync(cacheDir)) if (old.startsWith(`${pkg}_`) && old.endsWith('.deb')) rmSync(join(cacheDir, old), { force: true });
  // As root apt downloads as the unprivileged _apt user; let it write here
  // (otherwise apt warns and falls back to root).
  if (userInfo().uid === 0) {
    try {
      const { stdout } = await run('id', ['-u', '_apt'], { okCodes: [1] });
      const uid = Number(stdout.trim());
      if (Number.isInteger(uid) && uid > 0) chownSync(cacheDir, uid, 0);
    } catch {
      /* no _apt user: download as root */
    }
  }
  await run('apt-get', ['download', '-q', `${pkg}=${version}`], { cwd: cacheDir, timeoutMs: 600_000 });
  const got = find();
  if (!got) throw new Error(`apt-get download ${pkg} produced no .deb in ${cacheDir}`);
  return join(cacheDir, got);
}

/** Unpacks a .deb into `dir` (which is created). */
export async function extractDeb(run: CommandRunner, deb: string, dir: string): Promise<void> {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
  await run('dpkg', ['-x', deb, dir], { timeoutMs: 300_000 });
}
