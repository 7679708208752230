import type { VolumeRepos } from '../db/volume-db.js';

/**
 * Moves a group snapshot along with its member snapshots: `creating` becomes
 * `available` (or `error`) once every member is done; `deleting` ends with
 * the row gone when the last member is. Called whenever a member changes.
 */
export async function settleGroupSnapshot(repos: VolumeRepos, groupSnapshotId: string): Promise<void> {
  const gs = await repos.groupSnapshots.get(groupSnapshotId);
  if (!gs) return;
  const snaps = await repos.snapshots.all({ eq: { group_snapshot_id: gs.id } });
  if (gs.status === 'deleting') {
    if (!snaps.length) await repos.groupSnapshots.delete(gs.id);
    else if (snaps.some((s) => s.status === 'error_deleting')) await repos.groupSnapshots.transition(gs.id, ['deleting'], { status: 'error_deleting' });
    return;
  }
  if (gs.status !== 'creating') return;
  if (snaps.some((s) => s.status === 'error')) await repos.groupSnapshots.transition(gs.id, ['creating'], { status: 'error' });
  else if (snaps.every((s) => s.status === 'available')) await repos.groupSnapshots.transition(gs.id, ['creating'], { status: 'available' });
}
