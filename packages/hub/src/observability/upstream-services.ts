import type { HubConfig, NhsEnvironment } from '../config/load-config.js';
import type { UpstreamService } from './upstream-calls.js';

export type ServiceEnvironment = NhsEnvironment | 'custom';

/** An NHS API the hub uses, as the console shows it. */
export interface UpstreamServiceInfo {
  id: UpstreamService;
  name: string;
  baseUrl: string;
  environment: ServiceEnvironment;
}

/**
 * Hosts of the published NHS environments (personal-demographics.yaml and mesh-api.yaml `servers`,
 * https://nhsconnect.github.io/nhslogin/compare-environments):
 * the API platform (PDS, token endpoint), NHS login, CIS2 Authentication and MESH.
 */
const KNOWN_HOSTS: Record<string, NhsEnvironment> = {
  'sandbox.api.service.nhs.uk': 'sandbox',
  'int.api.service.nhs.uk': 'int',
  'api.service.nhs.uk': 'live',
  'auth.sandpit.signin.nhs.uk': 'int',
  'auth.login.nhs.uk': 'live',
  'am.nhsint.auth-ptl.cis2.spineservices.nhs.uk': 'int',
  'am.nhsidentity.spineservices.nhs.uk': 'live',
  'msg.intspineservices.nhs.uk': 'int',
  'mesh-sync.spineservices.nhs.uk': 'live',
};

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Which NHS environment a base URL points at: a published host's, the local sandbox (a loopback
 * URL on the configured sandbox port, or any loopback URL when the hub runs against the sandbox,
 * as `junction start` does), or `custom` for anything else (a proxy, another mock).
 */
export function environmentOf(
  baseUrl: string,
  config: Pick<HubConfig, 'sandboxPort' | 'nhsEnvironment'>,
): ServiceEnvironment {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return 'custom';
  }
  const known = KNOWN_HOSTS[url.hostname];
  if (known) return known;
  if (LOOPBACK.has(url.hostname)) {
    if (config.nhsEnvironment === 'sandbox' || url.port === String(config.sandboxPort)) return 'sandbox';
  }
  return 'custom';
}

/**
 * The NHS APIs this hub is configured to use: PDS always; the API platform's token endpoint when
 * the hub has key material; NHS login and CIS2 when their relying parties exist; MESH when a
 * mailbox is configured (the first mailbox's host: the hub's mailboxes live in one environment).
 */
export function upstreamServicesOf(
  config: HubConfig,
  uses: { apiPlatformAuth: boolean; nhsLogin: boolean; cis2: boolean },
): UpstreamServiceInfo[] {
  const info = (id: UpstreamService, name: string, baseUrl: string): UpstreamServiceInfo => ({
    id,
    name,
    baseUrl,
    environment: environmentOf(baseUrl, config),
  });
  const out = [info('pds', 'Personal Demographics Service (PDS FHIR API)', config.pds.baseUrl)];
  const mailbox = config.mesh.mailboxes[0];
  if (mailbox) out.push(info('mesh', 'MESH (Message Exchange for Social Care and Health)', mailbox.baseUrl));
  if (uses.nhsLogin) out.push(info('nhs-login', 'NHS login', config.nhsLogin.issuer));
  if (uses.cis2) out.push(info('cis2', 'CIS2 Authentication', config.cis2.issuer));
  if (uses.apiPlatformAuth) {
    out.push(info('api-platform-auth', 'NHS API platform token endpoint', config.apiPlatform.tokenUrl));
  }
  return out;
}
