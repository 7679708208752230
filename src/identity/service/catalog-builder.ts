import { isTrue } from '../../core/db/columns.js';
import type { CatalogRepo } from '../db/catalog-repo.js';

export interface CatalogEndpoint {
  id: string;
  interface: string;
  region: string | null;
  region_id: string | null;
  url: string;
}

export interface CatalogEntry {
  id: string;
  type: string;
  name: string;
  endpoints: CatalogEndpoint[];
}

/** The service catalog as tokens carry it: enabled services with their enabled endpoints. */
export async function buildCatalog(repo: CatalogRepo, substitutions: Record<string, string> = {}): Promise<CatalogEntry[]> {
  const [services, endpoints] = await Promise.all([repo.listServices(), repo.listEndpoints()]);
  const byService = new Map<string, CatalogEndpoint[]>();
  for (const e of endpoints) {
    if (!isTrue(e.enabled)) continue;
    const list = byService.get(e.service_id) ?? [];
    list.push({ id: e.id, interface: e.interface, region: e.region_id, region_id: e.region_id, url: substitute(e.url, substitutions) });
    byService.set(e.service_id, list);
  }
  return services
    .filter((s) => isTrue(s.enabled))
    .map((s) => ({ id: s.id, type: s.type, name: s.name, endpoints: byService.get(s.id) ?? [] }));
}

/** Keystone substitutes `$(project_id)s` / `%(tenant_id)s` style placeholders in endpoint URLs. */
function substitute(url: string, values: Record<string, string>): string {
  return url.replace(/[$%]\((\w+)\)s/g, (whole, key: string) => values[key] ?? whole);
}
