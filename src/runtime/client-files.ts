import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NimbusConfig } from './config-schema.js';

/** Writes `openrc` and `clouds.yaml` for the admin user into the data dir (mode 0600: they hold the password). */
export function writeClientFiles(config: NimbusConfig, authUrl: string, adminPassword: string | undefined): void {
  const password = adminPassword ?? '';
  const openrc = [
    '# Nimbus admin credentials: . ./openrc && openstack token issue',
    `export OS_AUTH_URL=${authUrl}`,
    'export OS_IDENTITY_API_VERSION=3',
    'export OS_USERNAME=admin',
    `export OS_PASSWORD=${shellQuote(password)}`,
    'export OS_PROJECT_NAME=admin',
    'export OS_USER_DOMAIN_NAME=Default',
    'export OS_PROJECT_DOMAIN_NAME=Default',
    `export OS_REGION_NAME=${config.region}`,
    'export OS_INTERFACE=public',
    'export OS_IMAGE_API_VERSION=2',
    '',
  ].join('\n');
  writeFileSync(join(config.dataDir, 'openrc'), openrc, { mode: 0o600 });
  const clouds = [
    'clouds:',
    '  nimbus:',
    '    auth:',
    `      auth_url: ${authUrl}`,
    '      username: admin',
    `      password: ${JSON.stringify(password)}`,
    '      project_name: admin',
    '      user_domain_name: Default',
    '      project_domain_name: Default',
    `    region_name: ${config.region}`,
    '    interface: public',
    '    identity_api_version: 3',
    '',
  ].join('\n');
  writeFileSync(join(config.dataDir, 'clouds.yaml'), clouds, { mode: 0o600 });
}

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", "'\\''")}'`;
}
