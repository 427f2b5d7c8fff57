import type { Store } from '../store/database.js';

/*
 * Who a CIS2 user id is, for the people who read the audit trail: the name a clinician's CIS2
 * UserInfo gave at their latest sign-in (`Dr Alex Carter`), kept beside, not inside, the hash-chained
 * audit records, which name the user by id only. Staff names only: a patient's name is never kept.
 */

type Db = Pick<Store, 'db'>;

/**
 * Keeps the name a CIS2 sign-in gave for this user id (the latest sign-in's name wins).
 * @example await recordClinicianName(store, '555254242106', 'Dr Alex Carter', now);
 */
export async function recordClinicianName(
  store: Db,
  uid: string,
  name: string,
  now: () => Date,
): Promise<void> {
  const at = now().toISOString();
  await store.db
    .insertInto('clinician_names')
    .values({ uid, name, updated_at: at })
    .onConflict((oc) => oc.column('uid').doUpdateSet({ name, updated_at: at }))
    .execute();
}

/**
 * The names known for these CIS2 user ids (ids with none are absent from the map).
 * @example const names = await clinicianNames(store, ['555254242106']);
 */
export async function clinicianNames(store: Db, uids: readonly string[]): Promise<Map<string, string>> {
  const unique = [...new Set(uids)];
  if (unique.length === 0) return new Map();
  const rows = await store.db
    .selectFrom('clinician_names')
    .select(['uid', 'name'])
    .where('uid', 'in', unique)
    .execute();
  return new Map(rows.map((r) => [r.uid, r.name]));
}
