/**
 * Cinder's CapabilitiesFilter matching: an extra spec `capabilities:x` or an
 * unscoped `x` must match the pool's capability `x` (a missing capability
 * rejects the pool); other scopes (`RESKEY:`, `qos:`, `hw:` …) are not
 * about placement. Values may carry an operator, as in the scheduler's
 * extra_specs_ops: `<is> True`, `<in> x`, `<or> a <or> b`, `>= 10`, `s== x` …
 */
export function poolMatchesSpecs(capabilities: Record<string, unknown>, specs: Record<string, string>): boolean {
  for (const [rawKey, wanted] of Object.entries(specs)) {
    const parts = rawKey.split(':');
    let key = rawKey;
    if (parts.length > 1) {
      if (parts[0] !== 'capabilities') continue;
      key = parts.slice(1).join(':');
    }
    if (!(key in capabilities)) return false;
    if (!matchValue(capabilities[key], wanted)) return false;
  }
  return true;
}

export function matchValue(actual: unknown, spec: string): boolean {
  if (actual === null || actual === undefined) return false;
  const words = spec.trim().split(/\s+/);
  const op = words[0] ?? '';
  const rest = words.slice(1).join(' ');
  const str = Array.isArray(actual) ? actual.map(String) : [String(actual)];
  const anyOf = (f: (s: string) => boolean) => str.some(f);
  const num = (s: string) => Number(s);
  switch (op) {
    case '=':
      return anyOf((s) => num(s) >= num(rest));
    case '==':
      return anyOf((s) => num(s) === num(rest));
    case '!=':
      return anyOf((s) => num(s) !== num(rest));
    case '>=':
      return anyOf((s) => num(s) >= num(rest));
    case '<=':
      return anyOf((s) => num(s) <= num(rest));
    case 's==':
      return anyOf((s) => s === rest);
    case 's!=':
      return anyOf((s) => s !== rest);
    case 's<':
      return anyOf((s) => s < rest);
    case 's<=':
      return anyOf((s) => s <= rest);
    case 's>':
      return anyOf((s) => s > rest);
    case 's>=':
      return anyOf((s) => s >= rest);
    case '<in>':
      return anyOf((s) => s.includes(rest));
    case '<is>':
      return anyOf((s) => s.toLowerCase() === rest.toLowerCase());
    case '<or>': {
      const options = spec.split('<or>').map((x) => x.trim()).filter(Boolean);
      return anyOf((s) => options.includes(s));
    }
    default:
      return anyOf((s) => s === spec || canonicalProtocol(s) === canonicalProtocol(spec));
  }
}

/** Storage protocols compare case- and spelling-insensitively (iSCSI/iscsi, NVMe-oF/nvmeof …). */
function canonicalProtocol(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]/g, '');
}
