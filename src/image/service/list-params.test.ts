import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseListParams } from './list-params.js';
import { ApiError } from '../../core/errors.js';

const bad = (pairs: Array<[string, string]>, message: RegExp) =>
  assert.throws(() => parseListParams(pairs), (e: unknown) => e instanceof ApiError && e.status === 400 && message.test(e.message));

test('list parameters as Glance reads them', () => {
  const p = parseListParams([
    ['limit', '5'],
    ['marker', 'm'],
    ['name', 'in:a,"b,c",d'],
    ['status', 'eq:active'],
    ['size_min', '10'],
    ['created_at', 'gte:2026-01-01T00:00:00Z'],
    ['tag', 't1'],
    ['tag', 't2'],
    ['os_distro', 'cirros'],
    ['sort', 'name:asc,size'],
  ]);
  assert.equal(p.query.limit, 5);
  assert.equal(p.markerId, 'm');
  assert.deepEqual(p.query.sort, [{ key: 'name', dir: 'asc' }, { key: 'size', dir: 'desc' }]);
  assert.deepEqual(p.query.tags, ['t1', 't2']);
  assert.deepEqual(p.query.properties, [{ name: 'os_distro', value: 'cirros' }]);
  const byColumn = Object.fromEntries(p.query.columns.map((c) => [c.column, c]));
  assert.deepEqual(byColumn['name'], { column: 'name', op: 'in', values: ['a', 'b,c', 'd'] });
  assert.deepEqual(byColumn['status'], { column: 'status', op: 'eq', values: ['active'] });
  assert.deepEqual(byColumn['size'], { column: 'size', op: 'gte', values: [10] });
  assert.equal(byColumn['created_at']?.op, 'gte');
  assert.deepEqual(byColumn['os_hidden'], { column: 'os_hidden', op: 'eq', values: [0] }, 'hidden images are excluded by default');

  const classic = parseListParams([['sort_key', 'name'], ['sort_key', 'size'], ['sort_dir', 'asc']]);
  assert.deepEqual(classic.query.sort, [{ key: 'name', dir: 'asc' }, { key: 'size', dir: 'asc' }]);
  assert.equal(parseListParams([['limit', '5000']]).query.limit, 1000);

  bad([['limit', '-1']], /must be positive/);
  bad([['limit', 'x']], /must be an integer/);
  bad([['sort', 'nope']], /Invalid sort key/);
  bad([['sort', 'name:up']], /Invalid sort direction/);
  bad([['sort', 'name'], ['sort_key', 'size']], /cannot be combined/);
  bad([['sort_key', 'name'], ['sort_key', 'size'], ['sort_key', 'id'], ['sort_dir', 'asc'], ['sort_dir', 'desc']], /does not match/);
  bad([['visibility', 'everyone']], /Invalid visibility/);
  bad([['member_status', 'maybe']], /Invalid status/);
  bad([['changes-since', '2020-01-01']], /no longer available/);
  bad([['name', 'like:x']], /unknown operator/);
  bad([['size_max', 'big']], /non-numeric/);
  bad([['os_hidden', 'perhaps']], /true or false/);
  bad([['created_at', 'gt:yesterday']], /Invalid date/);
});
