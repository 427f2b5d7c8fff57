import { DMD_SCHEMAS, type DmdFileKind, type DmdRecord } from '../records.js';

/*
 * Where each section of a release lives in the store. Columns are the XSD element names in lower
 * case (so every column traces back to the spec, and `DESC` becomes the quoted column "desc");
 * every table also has `release_id`, so a new release is written beside the active one and
 * switched to atomically (see import-release.ts). The sections of the lookup and history files
 * share one shape each, so each gets one table with a column saying which list/concept a row is.
 */

type FieldKind = 'id' | 'code' | 'text' | 'date' | 'flag' | 'int' | 'float' | 'gtin';

export interface DmdColumn {
  /** Column name: the XSD element name in lower case. */
  name: string;
  /** The XSD element name, as in records.ts. */
  field: string;
  kind: FieldKind;
  notNull: boolean;
}

export interface DmdTable {
  name: string;
  kind: DmdFileKind;
  /** The sections stored here (one, except for the lookup and history tables). */
  sections: readonly string[];
  /** For shared tables: the column naming the section's list (`list`) or concept (`concept`). */
  discriminator?: { column: string; valueOf(section: string): string };
  columns: readonly DmdColumn[];
  /** Primary key after `release_id` (the concept id), when the section has one. */
  key?: readonly string[];
  /** Secondary indexes after `release_id`: navigation and old-id resolution. */
  indexes: readonly (readonly string[])[];
}

interface TablePlan {
  kind: DmdFileKind;
  sections: readonly string[];
  discriminator?: { column: string; valueOf(section: string): string };
  key?: readonly string[];
  indexes?: readonly (readonly string[])[];
}

const beforeSlash = (section: string) => section.split('/')[0] as string;

/** The plan: table name → the sections it holds, its key and indexes. Order = creation order. */
const PLAN: Readonly<Record<string, TablePlan>> = {
  dmd_lookup: {
    kind: 'lookup',
    sections: Object.keys(DMD_SCHEMAS.lookup),
    discriminator: { column: 'list', valueOf: beforeSlash },
    key: ['list', 'cd'],
  },
  dmd_ingredient: { kind: 'ingredient', sections: ['ING'], key: ['isid'], indexes: [['isidprev']] },
  dmd_vtm: { kind: 'vtm', sections: ['VTM'], key: ['vtmid'], indexes: [['vtmidprev']] },
  dmd_vmp: { kind: 'vmp', sections: ['VMPS/VMP'], key: ['vpid'], indexes: [['vtmid'], ['vpidprev']] },
  dmd_vpi: { kind: 'vmp', sections: ['VIRTUAL_PRODUCT_INGREDIENT/VPI'], indexes: [['vpid']] },
  dmd_ont_form: { kind: 'vmp', sections: ['ONT_DRUG_FORM/ONT'], indexes: [['vpid']] },
  dmd_drug_form: { kind: 'vmp', sections: ['DRUG_FORM/DFORM'], indexes: [['vpid']] },
  dmd_drug_route: { kind: 'vmp', sections: ['DRUG_ROUTE/DROUTE'], indexes: [['vpid']] },
  dmd_control_info: { kind: 'vmp', sections: ['CONTROL_DRUG_INFO/CONTROL_INFO'], indexes: [['vpid']] },
  dmd_amp: { kind: 'amp', sections: ['AMPS/AMP'], key: ['apid'], indexes: [['vpid']] },
  dmd_ap_ingredient: { kind: 'amp', sections: ['AP_INGREDIENT/AP_ING'], indexes: [['apid']] },
  dmd_licensed_route: { kind: 'amp', sections: ['LICENSED_ROUTE/LIC_ROUTE'], indexes: [['apid']] },
  dmd_ap_info: { kind: 'amp', sections: ['AP_INFORMATION/AP_INFO'], indexes: [['apid']] },
  dmd_vmpp: { kind: 'vmpp', sections: ['VMPPS/VMPP'], key: ['vppid'], indexes: [['vpid']] },
  dmd_drug_tariff_info: { kind: 'vmpp', sections: ['DRUG_TARIFF_INFO/DTINFO'], indexes: [['vppid']] },
  dmd_vmpp_comb_content: {
    kind: 'vmpp',
    sections: ['COMB_CONTENT/CCONTENT'],
    indexes: [['prntvppid'], ['chldvppid']],
  },
  dmd_ampp: { kind: 'ampp', sections: ['AMPPS/AMPP'], key: ['appid'], indexes: [['apid'], ['vppid']] },
  dmd_pack_info: { kind: 'ampp', sections: ['APPLIANCE_PACK_INFO/PACK_INFO'], indexes: [['appid']] },
  dmd_prescrib_info: {
    kind: 'ampp',
    sections: ['DRUG_PRODUCT_PRESCRIB_INFO/PRESCRIB_INFO'],
    indexes: [['appid']],
  },
  dmd_price_info: { kind: 'ampp', sections: ['MEDICINAL_PRODUCT_PRICE/PRICE_INFO'], indexes: [['appid']] },
  dmd_reimb_info: { kind: 'ampp', sections: ['REIMBURSEMENT_INFO/REIMB_INFO'], indexes: [['appid']] },
  dmd_ampp_comb_content: {
    kind: 'ampp',
    sections: ['COMB_CONTENT/CCONTENT'],
    indexes: [['prntappid'], ['chldappid']],
  },
  dmd_gtin: { kind: 'gtin', sections: ['AMPPS/AMPP/GTINDATA'], indexes: [['gtin'], ['amppid']] },
  dmd_bnf_vmp: { kind: 'bnf', sections: ['VMPS/VMP'], indexes: [['vpid']] },
  dmd_bnf_amp: { kind: 'bnf', sections: ['AMPS/AMP'], indexes: [['apid']] },
  dmd_history: {
    kind: 'history',
    sections: Object.keys(DMD_SCHEMAS.history),
    // VTMS/VTM → VTM, INGS/ING → ING, …: which kind of concept changed id.
    discriminator: { column: 'concept', valueOf: (s) => s.split('/')[1] as string },
    indexes: [['idprevious'], ['idcurrent']],
  },
  dmd_vtm_ingredient: { kind: 'vtm_ing', sections: ['VTM_ING'], indexes: [['vtmid']] },
};

function columnsOf(kind: DmdFileKind, section: string): DmdColumn[] {
  const schema = (DMD_SCHEMAS[kind] as Record<string, Record<string, string>>)[section];
  if (!schema) throw new Error(`no schema for ${kind} ${section}`);
  return Object.entries(schema).map(([field, spec]) => {
    const notNull = spec.endsWith('!') || spec === 'flag';
    return { name: field.toLowerCase(), field, kind: spec.replace('!', '') as FieldKind, notNull };
  });
}

export const DMD_TABLES: readonly DmdTable[] = Object.entries(PLAN).map(([name, plan]) => {
  const first = plan.sections[0] as string;
  const columns = columnsOf(plan.kind, first);
  const table: DmdTable = {
    name,
    kind: plan.kind,
    sections: plan.sections,
    columns,
    indexes: plan.indexes ?? [],
  };
  if (plan.discriminator) table.discriminator = plan.discriminator;
  if (plan.key) table.key = plan.key;
  return table;
});

const tableBySection = new Map<DmdFileKind, Map<string, DmdTable>>();
for (const t of DMD_TABLES) {
  let bySection = tableBySection.get(t.kind);
  if (!bySection) {
    bySection = new Map();
    tableBySection.set(t.kind, bySection);
  }
  for (const s of t.sections) bySection.set(s, t);
}

/** The table a record goes to. Every section of DMD_SCHEMAS has one (tested). */
export function tableOf(record: Pick<DmdRecord, 'kind' | 'section'>): DmdTable {
  const t = tableBySection.get(record.kind)?.get(record.section);
  if (!t) throw new Error(`no table for ${record.kind} ${record.section}`);
  return t;
}

export function dmdTable(name: string): DmdTable {
  const t = DMD_TABLES.find((x) => x.name === name);
  if (!t) throw new Error(`no dm+d table ${name}`);
  return t;
}

/** The SQL type of a column, the same on SQLite and PostgreSQL (ids as text: 17 digits exceed 2^53). */
export function sqlTypeOf(kind: FieldKind): string {
  switch (kind) {
    case 'id':
    case 'code':
      return 'varchar(20)';
    case 'gtin':
      return 'varchar(14)';
    case 'date':
      return 'varchar(10)';
    case 'text':
      return 'text';
    case 'flag':
      return 'smallint';
    case 'int':
      return 'bigint';
    case 'float':
      return 'double precision';
  }
}

/**
 * Appends one record's values to `out` in the table's column order (discriminator first when
 * there is one): the importer's flat parameter lists, one per table.
 */
export function appendRowValues(table: DmdTable, record: DmdRecord, out: unknown[]): void {
  const row = record.row as Record<string, string | number | boolean | null>;
  if (table.discriminator) out.push(table.discriminator.valueOf(record.section));
  for (const c of table.columns) {
    const v = row[c.field] ?? null;
    out.push(typeof v === 'boolean' ? (v ? 1 : 0) : v);
  }
}

/** A database row back to the typed record shape (XSD names, flags boolean, numbers numbers). */
export function fromDbRow<T>(table: DmdTable, dbRow: Record<string, unknown>): T {
  const out: Record<string, unknown> = {};
  for (const c of table.columns) {
    const v = dbRow[c.name];
    if (c.kind === 'flag') out[c.field] = v === 1 || v === '1' || v === true;
    else if (v === null || v === undefined) out[c.field] = null;
    else if (c.kind === 'int' || c.kind === 'float') out[c.field] = Number(v);
    else out[c.field] = String(v);
  }
  return out as T;
}
