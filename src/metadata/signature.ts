import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The contract between the metadata proxy and the metadata API: the proxy
 * sends X-Instance-ID with X-Instance-ID-Signature, the hex HMAC-SHA256 of the
 * instance id under a secret both share (Nova's metadata_proxy_shared_secret).
 */
export function signInstanceId(secret: string, instanceId: string): string {
  return createHmac('sha256', secret).update(instanceId).digest('hex');
}

export function verifyInstanceSignature(secret: string, instanceId: string, signature: string): boolean {
  const want = Buffer.from(signInstanceId(secret, instanceId));
  const got = Buffer.from(signature);
  return want.length === got.length && timingSafeEqual(want, got);
}
