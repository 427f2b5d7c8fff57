/*
 * The relationships a proxy may have to the patient (proxy-delegations.ts records them), in a module
 * of its own that loads nothing, so that listing them (the CLI's help) costs no store or server.
 */

/** The relationships a proxy may have to the patient. */
export const PROXY_RELATIONSHIPS = ['parent', 'legal-guardian', 'carer', 'power-of-attorney'] as const;
export type ProxyRelationship = (typeof PROXY_RELATIONSHIPS)[number];
