import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud } from './support/cloud.js';
import { metadataSharedSecret } from '../src/metadata/shared-secret.js';
import { signInstanceId } from '../src/metadata/signature.js';

test('the cloud serves the metadata API with a generated shared secret', async () => {
  const cloud = await startTestCloud();
  try {
    const base = cloud.url('metadata');
    assert.match(await (await fetch(`${base}/`)).text(), /2009-04-04\nlatest$/);
    const secret = metadataSharedSecret('', cloud.config.dataDir);
    assert.match(secret, /^[0-9a-f]{64}$/);
    const id = '0b5e55ed-0000-4000-8000-00000000abcd';
    const headers = { 'x-instance-id': id, 'x-tenant-id': 'p', 'x-instance-id-signature': signInstanceId(secret, id) };
    assert.equal((await fetch(`${base}/latest/meta-data/instance-id`, { headers })).status, 404, 'no source registered yet');
    const forged = { ...headers, 'x-instance-id-signature': signInstanceId('guess', id) };
    assert.equal((await fetch(`${base}/latest/meta-data/instance-id`, { headers: forged })).status, 403);
  } finally {
    await cloud.close();
  }
});
