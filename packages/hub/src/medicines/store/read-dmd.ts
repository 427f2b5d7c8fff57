import { sql } from 'kysely';
import type { Store } from '../../store/database.js';
import type {
  AmppRow,
  AmpRow,
  DmdConceptDetail,
  DmdConceptRef,
  DmdConceptType,
  DmdLookupResolver,
  DmdSearchEntry,
  VmppRow,
  VmpRow,
  VtmRow,
} from '../model.js';
import { withSupplier } from '../model.js';
import type { LookupList } from '../records.js';
import { dmdTable, fromDbRow } from './tables.js';

/*
 * Reading the dm+d from the store. Everything is read from one release, fixed when the reader is
 * made (normally the active one), so a request never mixes two releases even if an import
 * switches releases while it runs.
 */

export interface DmdReleaseInfo {
  id: number;
  status: 'importing' | 'active' | 'superseded' | 'failed';
  source: string;
  releaseDate: string | null;
  startedAt: string;
  finishedAt: string | null;
  /** Rows per table, records per file and warnings, once the import finished. */
  summary: {
    tables: Record<string, number>;
    files: { name: string; kind: string; records: Record<string, number> }[];
    warnings: string[];
  } | null;
  error: string | null;
}

/** The release readers use now, or null before the first import. */
export async function activeDmdRelease(store: Store): Promise<DmdReleaseInfo | null> {
  const row = await store.db
    .selectFrom('dmd_releases')
    .selectAll()
    .where('status', '=', 'active')
    .executeTakeFirst();
  return row ? toReleaseInfo(row) : null;
}

/** Import history, newest first. */
export async function listDmdReleases(store: Store, limit = 20): Promise<DmdReleaseInfo[]> {
  const rows = await store.db
    .selectFrom('dmd_releases')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map(toReleaseInfo);
}

function toReleaseInfo(row: {
  id: number;
  status: string;
  source: string;
  release_date: string | null;
  started_at: string;
  finished_at: string | null;
  summary: string | null;
  error: string | null;
}): DmdReleaseInfo {
  return {
    id: Number(row.id),
    status: row.status as DmdReleaseInfo['status'],
    source: row.source,
    releaseDate: row.release_date,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    summary: row.summary ? (JSON.parse(row.summary) as DmdReleaseInfo['summary']) : null,
    error: row.error,
  };
}

/** How a requested code was found. */
export type DmdMatch = 'id' | 'previous-id' | 'gtin';

export interface DmdConceptLookup {
  detail: DmdConceptDetail;
  /** The code asked for; differs from the concept's id when found by a previous id or a GTIN. */
  requested: string;
  matchedBy: DmdMatch;
}

/** Table, id column and name column of each concept class. */
const CONCEPTS: Record<DmdConceptType, { table: string; id: string }> = {
  VTM: { table: 'dmd_vtm', id: 'vtmid' },
  VMP: { table: 'dmd_vmp', id: 'vpid' },
  AMP: { table: 'dmd_amp', id: 'apid' },
  VMPP: { table: 'dmd_vmpp', id: 'vppid' },
  AMPP: { table: 'dmd_ampp', id: 'appid' },
};

/**
 * Reads concepts of one release.
 *
 * @example
 * const release = await activeDmdRelease(store);
 * if (release) {
 *   const reader = new DmdReader(store, release.id);
 *   const found = await reader.concept('22480211000001104');
 * }
 */
export class DmdReader {
  private lookupResolver: Promise<DmdLookupResolver> | undefined;

  constructor(
    private readonly store: Store,
    readonly releaseId: number,
  ) {}

  /**
   * A concept by its id, by a previous id (`VTMIDPREV`, `VPIDPREV`, the HISTORIC_CODES file) or,
   * for a pack, by one of its GTINs. Null when nothing in this release has that code.
   */
  async concept(code: string): Promise<DmdConceptLookup | null> {
    const trimmed = code.trim();
    if (!/^\d{1,18}$/.test(trimmed)) return null;
    const direct = await this.typeOf(trimmed);
    if (direct) return { detail: await this.detail(direct, trimmed), requested: trimmed, matchedBy: 'id' };
    const current = await this.currentIdOf(trimmed);
    if (current) {
      const type = await this.typeOf(current);
      if (type)
        return { detail: await this.detail(type, current), requested: trimmed, matchedBy: 'previous-id' };
    }
    if (/^\d{13,14}$/.test(trimmed)) {
      const gtin = await this.first('dmd_gtin', 'gtin', trimmed);
      const amppid = gtin?.amppid;
      if (typeof amppid === 'string' && (await this.typeOf(amppid)) === 'AMPP') {
        return { detail: await this.detail('AMPP', amppid), requested: trimmed, matchedBy: 'gtin' };
      }
    }
    return null;
  }

  /** The concepts one level up: a VMP's VTM, an AMP's VMP, a pack's product(s). */
  async parents(detail: DmdConceptDetail): Promise<DmdConceptRef[]> {
    switch (detail.type) {
      case 'VTM':
        return [];
      case 'VMP':
        return detail.vtm ? [ref('VTM', detail.vtm.VTMID, detail.vtm)] : [];
      case 'AMP':
        return [ref('VMP', detail.vmp.VPID, detail.vmp)];
      case 'VMPP':
        return [ref('VMP', detail.vmp.VPID, detail.vmp)];
      case 'AMPP': {
        const supplier = (await this.lookup())('SUPPLIER', detail.amp.SUPPCD);
        return [
          withSupplier(ref('AMP', detail.amp.APID, detail.amp), supplier),
          ref('VMPP', detail.vmpp.VPPID, detail.vmpp),
        ];
      }
    }
  }

  /** The concepts one level down: a VTM's VMPs, a VMP's AMPs and VMPPs, a product's packs. */
  async children(detail: DmdConceptDetail): Promise<DmdConceptRef[]> {
    switch (detail.type) {
      case 'VTM':
        return this.refs('VMP', 'vtmid', detail.vtm.VTMID);
      case 'VMP':
        return [
          ...(await this.refs('AMP', 'vpid', detail.vmp.VPID)),
          ...(await this.refs('VMPP', 'vpid', detail.vmp.VPID)),
        ];
      case 'AMP':
        return this.refs('AMPP', 'apid', detail.amp.APID);
      case 'VMPP':
        return this.refs('AMPP', 'vppid', detail.vmpp.VPPID);
      case 'AMPP':
        return [];
    }
  }

  /** Lookup descriptions of this release (`f_lookup2`), loaded once per reader. */
  lookup(): Promise<DmdLookupResolver> {
    this.lookupResolver ??= (async () => {
      const rows = await this.store.db
        .selectFrom(sql.table('dmd_lookup').as('l') as never)
        .select([sql<string>`list`.as('list'), sql<string>`cd`.as('cd'), sql<string>`"desc"`.as('desc')])
        .where(sql`release_id`, '=', this.releaseId)
        .execute();
      const byList = new Map<string, string>();
      for (const r of rows as { list: string; cd: string; desc: string }[])
        byList.set(`${r.list} ${r.cd}`, r.desc);
      return (list: LookupList, code: string | null | undefined) =>
        code === null || code === undefined ? null : (byList.get(`${list} ${code}`) ?? null);
    })();
    return this.lookupResolver;
  }

  /**
   * The flat facts the search index needs, for every concept of the release. Rules (where the
   * issue is silent, our own reading of the NHSBSA data model and lookup lists):
   * - kind: an AMP licensed as a device (LICENSING_AUTHORITY 0002) is a device; a VMP is a device
   *   when it has AMPs and all are devices; packs follow their product; a VTM is a medicine.
   * - prescribable: VMP when VIRTUAL_PRODUCT_PRES_STATUS is 0001 (valid as a prescribable product);
   *   AMP unless its VMP is 0002 (invalid to prescribe in NHS primary care); VMPP as its VMP; AMPP
   *   as its AMP unless Drug Tariff Part XVIIIA (SCHED_1: not to be prescribed under the NHS).
   *   A VTM is not a product, so never prescribable.
   * - available: VMP unless VIRTUAL_PRODUCT_NON_AVAIL 0001; AMP unless AVAILABILITY_RESTRICTION
   *   0009 (not available); VMPP as its VMP; AMPP as its AMP and not discontinued (DISCONTINUED_IND
   *   0001); a VTM when any of its VMPs is.
   * - packCount: valid, available AMPPs below (a pack counts 1).
   */
  async searchEntries(): Promise<DmdSearchEntry[]> {
    const rid = this.releaseId;
    const all = async (query: ReturnType<typeof sql>) =>
      (await query.execute(this.store.db)).rows as Record<string, unknown>[];
    const str = (v: unknown) => (v === null || v === undefined ? null : String(v));
    const flag = (v: unknown) => v === 1 || v === '1' || v === true;
    const lookup = await this.lookup();

    const forms = new Map<string, string>();
    for (const r of await all(sql`select vpid, formcd from dmd_drug_form where release_id = ${rid}`)) {
      forms.set(String(r.vpid), String(r.formcd));
    }
    const controls = new Map<string, string>();
    for (const r of await all(sql`select vpid, catcd from dmd_control_info where release_id = ${rid}`)) {
      controls.set(String(r.vpid), String(r.catcd));
    }
    const routes = new Map<string, string[]>();
    for (const r of await all(sql`select vpid, routecd from dmd_drug_route where release_id = ${rid}`)) {
      const list = routes.get(String(r.vpid)) ?? [];
      list.push(String(r.routecd));
      routes.set(String(r.vpid), list);
    }

    interface Vmp {
      entry: DmdSearchEntry;
      presStat: string;
      ampCount: number;
      deviceAmps: number;
    }
    const vmps = new Map<string, Vmp>();
    for (const r of await all(
      sql`select vpid, vtmid, nm, abbrevnm, invalid, pres_statcd, non_availcd from dmd_vmp where release_id = ${rid}`,
    )) {
      const vpid = String(r.vpid);
      vmps.set(vpid, {
        presStat: String(r.pres_statcd),
        ampCount: 0,
        deviceAmps: 0,
        entry: {
          type: 'VMP',
          id: vpid,
          name: String(r.nm),
          abbreviatedName: str(r.abbrevnm),
          description: null,
          supplier: null,
          invalid: flag(r.invalid),
          kind: 'medicine',
          prescribable: String(r.pres_statcd) === '0001',
          available: str(r.non_availcd) !== '0001',
          controlledDrugCategory: controls.get(vpid) ?? null,
          formCode: forms.get(vpid) ?? null,
          routeCodes: routes.get(vpid) ?? [],
          vmpId: vpid,
          vtmId: str(r.vtmid),
          packCount: 0,
        },
      });
    }
    // Entries are written out field by field (no spreads): V8 then gives them all one shape, which
    // makes the index build several times faster than reading objects of many shapes.
    const cd = (vmp: Vmp | undefined) => vmp?.entry.controlledDrugCategory ?? null;
    const form = (vmp: Vmp | undefined) => vmp?.entry.formCode ?? null;
    const routesOf = (vmp: Vmp | undefined) => vmp?.entry.routeCodes ?? [];
    const vtm = (vmp: Vmp | undefined) => vmp?.entry.vtmId ?? null;

    const amps = new Map<string, DmdSearchEntry>();
    for (const r of await all(
      sql`select apid, vpid, nm, abbrevnm, ${sql.ref('desc')} as descr, invalid, suppcd, lic_authcd, avail_restrictcd from dmd_amp where release_id = ${rid}`,
    )) {
      const vpid = String(r.vpid);
      const vmp = vmps.get(vpid);
      const device = String(r.lic_authcd) === '0002';
      if (vmp) {
        vmp.ampCount++;
        if (device) vmp.deviceAmps++;
      }
      amps.set(String(r.apid), {
        type: 'AMP',
        id: String(r.apid),
        name: String(r.nm),
        abbreviatedName: str(r.abbrevnm),
        description: str(r.descr),
        supplier: lookup('SUPPLIER', str(r.suppcd)),
        invalid: flag(r.invalid),
        kind: device ? 'device' : 'medicine',
        prescribable: !flag(r.invalid) && vmp?.presStat !== '0002',
        available: String(r.avail_restrictcd) !== '0009',
        controlledDrugCategory: cd(vmp),
        formCode: form(vmp),
        routeCodes: routesOf(vmp),
        vmpId: vpid,
        vtmId: vtm(vmp),
        packCount: 0,
      });
    }
    for (const vmp of vmps.values()) {
      if (vmp.ampCount > 0 && vmp.deviceAmps === vmp.ampCount) vmp.entry.kind = 'device';
    }

    const vmpps = new Map<string, DmdSearchEntry>();
    for (const r of await all(
      sql`select vppid, vpid, nm, abbrevnm, invalid from dmd_vmpp where release_id = ${rid}`,
    )) {
      const vmp = vmps.get(String(r.vpid));
      vmpps.set(String(r.vppid), {
        type: 'VMPP',
        id: String(r.vppid),
        name: String(r.nm),
        abbreviatedName: str(r.abbrevnm),
        description: null,
        supplier: null,
        invalid: flag(r.invalid),
        kind: vmp?.entry.kind ?? 'medicine',
        prescribable: vmp?.entry.prescribable ?? false,
        available: vmp?.entry.available ?? false,
        controlledDrugCategory: cd(vmp),
        formCode: form(vmp),
        routeCodes: routesOf(vmp),
        vmpId: String(r.vpid),
        vtmId: vtm(vmp),
        packCount: 0,
      });
    }

    const schedule1 = new Set<string>();
    for (const r of await all(
      sql`select appid from dmd_prescrib_info where release_id = ${rid} and sched_1 = 1`,
    )) {
      schedule1.add(String(r.appid));
    }
    const ampps: DmdSearchEntry[] = [];
    for (const r of await all(
      sql`select appid, apid, vppid, nm, abbrevnm, invalid, disccd from dmd_ampp where release_id = ${rid}`,
    )) {
      const amp = amps.get(String(r.apid));
      const vmp = amp?.vmpId ? vmps.get(amp.vmpId) : undefined;
      const appid = String(r.appid);
      const entry: DmdSearchEntry = {
        type: 'AMPP',
        id: appid,
        name: String(r.nm),
        abbreviatedName: str(r.abbrevnm),
        description: null,
        supplier: amp?.supplier ?? null,
        invalid: flag(r.invalid),
        kind: amp?.kind ?? 'medicine',
        prescribable: (amp?.prescribable ?? false) && !schedule1.has(appid),
        available: (amp?.available ?? false) && str(r.disccd) !== '0001',
        controlledDrugCategory: cd(vmp),
        formCode: form(vmp),
        routeCodes: routesOf(vmp),
        vmpId: amp?.vmpId ?? null,
        vtmId: vtm(vmp),
        packCount: 1,
      };
      ampps.push(entry);
      if (entry.invalid || !entry.available) continue;
      if (amp) amp.packCount++;
      if (vmp) vmp.entry.packCount++;
      const vmpp = vmpps.get(String(r.vppid));
      if (vmpp) vmpp.packCount++;
    }

    const vtms: DmdSearchEntry[] = [];
    const vtmFacts = new Map<string, { packs: number; available: boolean }>();
    for (const vmp of vmps.values()) {
      const id = vmp.entry.vtmId;
      if (!id) continue;
      const f = vtmFacts.get(id) ?? { packs: 0, available: false };
      f.packs += vmp.entry.packCount;
      f.available ||= vmp.entry.available && !vmp.entry.invalid;
      vtmFacts.set(id, f);
    }
    for (const r of await all(
      sql`select vtmid, nm, abbrevnm, invalid from dmd_vtm where release_id = ${rid}`,
    )) {
      const id = String(r.vtmid);
      const f = vtmFacts.get(id);
      vtms.push({
        type: 'VTM',
        id,
        name: String(r.nm),
        abbreviatedName: str(r.abbrevnm),
        description: null,
        supplier: null,
        invalid: flag(r.invalid),
        kind: 'medicine',
        prescribable: false,
        available: f?.available ?? false,
        controlledDrugCategory: null,
        formCode: null,
        routeCodes: [],
        vmpId: null,
        vtmId: id,
        packCount: f?.packs ?? 0,
      });
    }
    return [
      ...vtms,
      ...[...vmps.values()].map((v) => v.entry),
      ...amps.values(),
      ...vmpps.values(),
      ...ampps,
    ];
  }

  private async typeOf(id: string): Promise<DmdConceptType | null> {
    for (const [type, c] of Object.entries(CONCEPTS) as [
      DmdConceptType,
      (typeof CONCEPTS)[DmdConceptType],
    ][]) {
      const r =
        await sql`select 1 as x from ${sql.table(c.table)} where release_id = ${this.releaseId} and ${sql.ref(c.id)} = ${id}`.execute(
          this.store.db,
        );
      if (r.rows.length > 0) return type;
    }
    return null;
  }

  /** The current id for an id that changed: VTMIDPREV, VPIDPREV, then the HISTORIC_CODES file. */
  private async currentIdOf(previous: string): Promise<string | null> {
    const vtm = await this.first('dmd_vtm', 'vtmidprev', previous);
    if (vtm) return String(vtm.vtmid);
    const vmp = await this.first('dmd_vmp', 'vpidprev', previous);
    if (vmp) return String(vmp.vpid);
    const history = await this.first('dmd_history', 'idprevious', previous);
    return history ? String(history.idcurrent) : null;
  }

  private async detail(type: DmdConceptType, id: string): Promise<DmdConceptDetail> {
    switch (type) {
      case 'VTM':
        return { type, vtm: await this.one<VtmRow>('dmd_vtm', 'vtmid', id) };
      case 'VMP': {
        const vmp = await this.one<VmpRow>('dmd_vmp', 'vpid', id);
        const vpis = await this.rows<import('../model.js').VmpDetail['ingredients'][number]['vpi']>(
          'dmd_vpi',
          'vpid',
          id,
        );
        return {
          type,
          vmp,
          vtm: vmp.VTMID ? await this.maybe<VtmRow>('dmd_vtm', 'vtmid', vmp.VTMID) : null,
          ingredients: await Promise.all(
            vpis.map(async (vpi) => ({
              vpi,
              ingredient: await this.maybe('dmd_ingredient', 'isid', vpi.ISID),
            })),
          ),
          ontForms: await this.rows('dmd_ont_form', 'vpid', id),
          form: await this.maybe('dmd_drug_form', 'vpid', id),
          routes: await this.rows('dmd_drug_route', 'vpid', id),
          control: await this.maybe('dmd_control_info', 'vpid', id),
          bnf: await this.maybe('dmd_bnf_vmp', 'vpid', id),
        };
      }
      case 'AMP': {
        const amp = await this.one<AmpRow>('dmd_amp', 'apid', id);
        const apIngs = await this.rows<import('../model.js').AmpDetail['ingredients'][number]['apIng']>(
          'dmd_ap_ingredient',
          'apid',
          id,
        );
        return {
          type,
          amp,
          vmp: await this.one<VmpRow>('dmd_vmp', 'vpid', amp.VPID),
          ingredients: await Promise.all(
            apIngs.map(async (apIng) => ({
              apIng,
              ingredient: await this.maybe('dmd_ingredient', 'isid', apIng.ISID),
            })),
          ),
          licensedRoutes: await this.rows('dmd_licensed_route', 'apid', id),
          info: await this.maybe('dmd_ap_info', 'apid', id),
          bnf: await this.maybe('dmd_bnf_amp', 'apid', id),
        };
      }
      case 'VMPP': {
        const vmpp = await this.one<VmppRow>('dmd_vmpp', 'vppid', id);
        const parts = await this.rows<{ CHLDVPPID: string }>('dmd_vmpp_comb_content', 'prntvppid', id);
        return {
          type,
          vmpp,
          vmp: await this.one<VmpRow>('dmd_vmp', 'vpid', vmpp.VPID),
          drugTariff: await this.maybe('dmd_drug_tariff_info', 'vppid', id),
          contents: await this.existing<VmppRow>(
            'dmd_vmpp',
            'vppid',
            parts.map((p) => p.CHLDVPPID),
          ),
        };
      }
      case 'AMPP': {
        const ampp = await this.one<AmppRow>('dmd_ampp', 'appid', id);
        const parts = await this.rows<{ CHLDAPPID: string }>('dmd_ampp_comb_content', 'prntappid', id);
        return {
          type,
          ampp,
          amp: await this.one<AmpRow>('dmd_amp', 'apid', ampp.APID),
          vmpp: await this.one<VmppRow>('dmd_vmpp', 'vppid', ampp.VPPID),
          packInfo: await this.maybe('dmd_pack_info', 'appid', id),
          prescribingInfo: await this.maybe('dmd_prescrib_info', 'appid', id),
          priceInfo: await this.maybe('dmd_price_info', 'appid', id),
          reimbursementInfo: await this.maybe('dmd_reimb_info', 'appid', id),
          gtins: await this.rows('dmd_gtin', 'amppid', id),
          contents: await this.existing<AmppRow>(
            'dmd_ampp',
            'appid',
            parts.map((p) => p.CHLDAPPID),
          ),
        };
      }
    }
  }

  /**
   * The concepts of a class whose `column` is `value`, by name. AMPs and AMPPs carry their supplier
   * (the AMP's SUPPCD in the SUPPLIER lookup) and are ordered by it within one name, since all the
   * AMPs of a VMP usually share the VMP's name.
   */
  private async refs(type: DmdConceptType, column: string, value: string): Promise<DmdConceptRef[]> {
    const c = CONCEPTS[type];
    const rid = this.releaseId;
    const query =
      type === 'AMP' || type === 'AMPP'
        ? sql<
            Record<string, unknown>
          >`select t.${sql.ref(c.id)} as id, t.nm, t.invalid, l.${sql.ref('desc')} as supplier
            from ${sql.table(c.table)} t
            ${type === 'AMPP' ? sql`left join dmd_amp a on a.release_id = t.release_id and a.apid = t.apid` : sql``}
            left join dmd_lookup l on l.release_id = t.release_id and l.list = 'SUPPLIER'
              and l.cd = ${type === 'AMPP' ? sql`a.suppcd` : sql`t.suppcd`}
            where t.release_id = ${rid} and t.${sql.ref(column)} = ${value}
            order by t.nm, l.${sql.ref('desc')}, t.${sql.ref(c.id)}`
        : sql<Record<string, unknown>>`select ${sql.ref(c.id)} as id, nm, invalid from ${sql.table(c.table)}
            where release_id = ${rid} and ${sql.ref(column)} = ${value} order by nm`;
    const r = await query.execute(this.store.db);
    return r.rows.map((row) =>
      withSupplier(
        { type, id: String(row.id), name: String(row.nm), invalid: row.invalid === 1 || row.invalid === '1' },
        typeof row.supplier === 'string' ? row.supplier : null,
      ),
    );
  }

  private async first(table: string, column: string, value: string): Promise<Record<string, unknown> | null> {
    const r = await sql<Record<string, unknown>>`select * from ${sql.table(table)}
      where release_id = ${this.releaseId} and ${sql.ref(column)} = ${value} limit 1`.execute(this.store.db);
    return r.rows[0] ?? null;
  }

  private async rows<T>(table: string, column: string, value: string): Promise<T[]> {
    const r = await sql<Record<string, unknown>>`select * from ${sql.table(table)}
      where release_id = ${this.releaseId} and ${sql.ref(column)} = ${value}`.execute(this.store.db);
    const spec = dmdTable(table);
    return r.rows.map((row) => fromDbRow<T>(spec, row));
  }

  private async maybe<T>(table: string, column: string, value: string): Promise<T | null> {
    return (await this.rows<T>(table, column, value))[0] ?? null;
  }

  private async one<T>(table: string, column: string, value: string): Promise<T> {
    const row = await this.maybe<T>(table, column, value);
    if (row === null)
      throw new Error(`dm+d release ${this.releaseId} has no ${table} row with ${column} ${value}`);
    return row;
  }

  private async existing<T>(table: string, column: string, values: string[]): Promise<T[]> {
    const out: T[] = [];
    for (const v of values) {
      const row = await this.maybe<T>(table, column, v);
      if (row) out.push(row);
    }
    return out;
  }
}

function ref(type: DmdConceptType, id: string, row: { NM: string; INVALID: boolean }): DmdConceptRef {
  return { type, id, name: row.NM, invalid: row.INVALID };
}
