import { verhoeffCheckDigit } from '@junction/core';
import { mix, pick, unit } from './prng.js';
import {
  BRAND_HEADS,
  BRAND_TAILS,
  DEVICES,
  type DeviceBase,
  FORMS,
  type FormKey,
  MOLECULES,
  NAME_MIDDLES,
  NAME_PREFIXES,
  NAME_PROFILES,
  type Presentation,
  SALTS,
  SUPPLIER_COUNT,
  SUPPLIER_FIRST,
  SUPPLIER_PARTNERS,
  SUPPLIER_SECOND,
  strengthLabel,
  UOM,
  type UomKey,
} from './vocabulary.js';

/**
 * Record counts of the real release, dm+d 11.1.0 of 10 Nov 2025, as counted by
 * KhanInformatics/snomed-database-loader (`DMD/StandaloneImports/README.md`).
 */
export const FULL_SIZE = {
  vtm: 3223,
  ing: 4490,
  vmp: 24390,
  amp: 164893,
  vmpp: 36932,
  ampp: 184331,
  gtinAmpps: 75000,
  gtinRows: 97633,
} as const;

/** Share of VMPs that have a VTM (the rest are devices, dressings, nutrition). */
const VTM_SHARE = 0.87;

// Streams for the hashing PRNG, one per decision family.
const S = {
  vtm: 1,
  vmp: 2,
  amp: 3,
  vmpp: 4,
  ampp: 5,
  ing: 6,
  alloc: 7,
  supplier: 8,
  id: 9,
  gtin: 10,
} as const;

export interface PlanCounts {
  vtm: number;
  ing: number;
  vmp: number;
  vpi: number;
  ont: number;
  dform: number;
  droute: number;
  controlInfo: number;
  amp: number;
  apIng: number;
  licRoute: number;
  apInfo: number;
  vmpp: number;
  dtInfo: number;
  ampp: number;
  packInfo: number;
  prescribInfo: number;
  priceInfo: number;
  reimbInfo: number;
  gtinAmpps: number;
  gtinRows: number;
  lookup: number;
  supplier: number;
}

/** The layout of a release: how many of each record and which VMP owns which AMPs, VMPPs, AMPPs. */
export interface ReleaseLayout {
  readonly seed: number;
  readonly scale: number;
  readonly nVtm: number;
  readonly nIng: number;
  readonly nVmp: number;
  /** VMPs [0, nVmpWithVtm) have a VTM; the rest are devices. */
  readonly nVmpWithVtm: number;
  readonly nAmp: number;
  readonly nVmpp: number;
  readonly nAmpp: number;
  readonly nGtinAmpps: number;
  readonly nGtinRows: number;
  /** Prefix sums, length nVmp + 1: VMP i owns AMPs [ampStart[i], ampStart[i+1]). */
  readonly ampStart: Int32Array;
  readonly vmppStart: Int32Array;
  readonly amppStart: Int32Array;
}

/** Splits `total` over `n` owners, at least `min` each, the rest in proportion to `weight`. */
function allocate(total: number, n: number, min: number, weight: (i: number) => number): Int32Array {
  const starts = new Int32Array(n + 1);
  const rest = total - n * min;
  const weights = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const w = weight(i);
    weights[i] = w;
    sum += w;
  }
  if (sum === 0) {
    for (let i = 0; i < n; i++) weights[i] = 1;
    sum = n;
  }
  let cumulative = 0;
  for (let i = 0; i < n; i++) {
    cumulative += weights[i] ?? 0;
    starts[i + 1] = (i + 1) * min + (i === n - 1 ? rest : Math.round((rest * cumulative) / sum));
  }
  return starts;
}

/**
 * Relative number of AMPs (suppliers) a VMP of each form attracts. In the real dm+d a generic
 * "…500mg capsules" VMP has dozens of AMPs while its injection vials have a handful; oral liquids
 * and topicals sit between (an assumption from prescribing practice, not a measured figure). The
 * search uses packCount as its popularity proxy, so this decides which form ranks first.
 */
const SUPPLY_WEIGHT: Readonly<Record<FormKey, number>> = {
  tablet: 1,
  capsule: 1,
  mrTablet: 0.6,
  grTablet: 0.6,
  effervescent: 0.3,
  suspension: 0.35,
  solution: 0.35,
  cream: 0.3,
  gel: 0.3,
  ointment: 0.3,
  injection: 0.1,
  subcutaneous: 0.15,
  powderInjection: 0.1,
  eyeDrops: 0.25,
  inhaler: 0.3,
};

/** The form of medicinal VMP i (i < nVmpWithVtm), as vmpFacts derives it, without a layout. */
function formOfVmp(seed: number, nVtm: number, nVmpWithVtm: number, i: number): FormKey {
  const { vtm, variant } = vtmOfVmpIn(nVtm, nVmpWithVtm, i);
  const presentations = stem(seed, vtm).presentations;
  return (presentations[variant % presentations.length] ?? presentations[0]!).form;
}

export function layoutRelease(seed: number, scale: number): ReleaseLayout {
  if (!(scale > 0) || !Number.isFinite(scale))
    throw new RangeError(`scale must be a positive number, got ${scale}`);
  if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  const n = (full: number) => Math.max(1, Math.round(full * scale));
  const nVtm = n(FULL_SIZE.vtm);
  const nVmp = Math.max(n(FULL_SIZE.vmp), nVtm + 1);
  const nIng = Math.max(n(FULL_SIZE.ing), nVtm);
  const nAmp = Math.max(n(FULL_SIZE.amp), nVmp);
  const nVmpp = Math.max(n(FULL_SIZE.vmpp), nVmp);
  const nAmpp = Math.max(n(FULL_SIZE.ampp), nAmp);
  const nGtinAmpps = Math.min(n(FULL_SIZE.gtinAmpps), nAmpp);
  const nGtinRows = Math.max(n(FULL_SIZE.gtinRows), nGtinAmpps);
  const nVmpWithVtm = Math.min(nVmp - 1, Math.max(nVtm, Math.round(nVmp * VTM_SHARE)));
  // AMPs per VMP are heavily skewed (a long tail of generics); packs per VMP mostly 1-2.
  // The real, common molecules get many more AMPs (generics from many suppliers, parallel imports),
  // and within a molecule the routinely prescribed oral solids far more than its injections.
  const common = (i: number) => i < nVmpWithVtm && Math.floor((i * nVtm) / nVmpWithVtm) < MOLECULES.length;
  const ampStart = allocate(nAmp, nVmp, 1, (i) => {
    const u = unit(seed, S.alloc, i, 1);
    const form = i < nVmpWithVtm ? formOfVmp(seed, nVtm, nVmpWithVtm, i) : undefined;
    return ((-Math.log(1 - u)) ** 2.2 + (common(i) ? 15 : 0)) * (form ? SUPPLY_WEIGHT[form] : 1);
  });
  const vmppStart = allocate(nVmpp, nVmp, 1, (i) => unit(seed, S.alloc, i, 2) ** 3);
  const ampsOf = (i: number) => (ampStart[i + 1] ?? 0) - (ampStart[i] ?? 0);
  const vmppsOf = (i: number) => (vmppStart[i + 1] ?? 0) - (vmppStart[i] ?? 0);
  // Every AMP gets one pack (nAmpp >= nAmp by construction); the extra AMPPs go to VMPs with
  // several VMPPs to cross their AMPs with, in proportion to amps * (vmpps - 1).
  const extras = allocate(nAmpp - nAmp, nVmp, 0, (i) => ampsOf(i) * (vmppsOf(i) - 1));
  const amppStart = new Int32Array(nVmp + 1);
  for (let i = 0; i < nVmp; i++) amppStart[i + 1] = (ampStart[i + 1] ?? 0) + (extras[i + 1] ?? 0);
  return {
    seed,
    scale,
    nVtm,
    nIng,
    nVmp,
    nVmpWithVtm,
    nAmp,
    nVmpp,
    nAmpp,
    nGtinAmpps,
    nGtinRows,
    ampStart,
    vmppStart,
    amppStart,
  };
}

// ---------------------------------------------------------------------------------------------
// Identifiers: SNOMED CT ids with a Verhoeff check digit (SNOMED CT Release File Specification §6.4.2,
// https://confluence.snomedtools.org/display/DOCRELFMT/6.4.2+Check-digit+Computation).

const NAMESPACE_UK_DRUG = '1000001';
/** Item-id bases, one per concept kind, so ids never collide across kinds. */
const LONG_BASE = {
  vtm: 41_000_000,
  vmp: 42_000_000,
  ing: 43_000_000,
  amp: 44_000_000,
  vmpp: 46_000_000,
  ampp: 47_000_000,
  supplier: 49_000_000,
} as const;
const SHORT_BASE = { vtm: 610_000_000, vmp: 620_000_000, ing: 630_000_000 } as const;

function withCheck(payload: string): string {
  return `${payload}${verhoeffCheckDigit(payload)}`;
}
/** Long format: item id, namespace 1000001, partition 10 (concept), check digit. */
export function longId(kind: keyof typeof LONG_BASE, index: number): string {
  return withCheck(`${LONG_BASE[kind] + index}${NAMESPACE_UK_DRUG}10`);
}
/** Short format (International release): item id, partition 00, check digit. */
export function shortId(kind: keyof typeof SHORT_BASE, index: number): string {
  return withCheck(`${SHORT_BASE[kind] + index}00`);
}
/** VTM, VMP and ING ids mix both formats, roughly 55% short as in the samples in reference/refdata/dmd/. */
function mixedId(seed: number, kind: 'vtm' | 'vmp' | 'ing', index: number): string {
  return unit(seed, S.id, index, kind.length) < 0.55 ? shortId(kind, index) : longId(kind, index);
}

// ---------------------------------------------------------------------------------------------
// Names.

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

interface Stem {
  readonly name: string;
  readonly presentations: readonly Presentation[];
  readonly cd: string;
  readonly legal: '0001' | '0002' | '0003';
  readonly brands: readonly string[];
}

/** The active moiety for molecule index m: a real molecule first, then invented unique names. */
export function stem(seed: number, m: number): Stem {
  const real = MOLECULES[m];
  if (real) {
    return {
      name: real.name,
      presentations: real.presentations,
      cd: real.cd ?? '0000',
      legal: real.legal ?? '0003',
      brands: real.brands ?? [],
    };
  }
  const k = m - MOLECULES.length;
  const P = NAME_PREFIXES.length;
  const M = NAME_MIDDLES.length;
  const F = NAME_PROFILES.length;
  const space = P * M * F;
  // A bijection on [0, space) (7919 is prime and does not divide space), so names are unique.
  const code = (((k % space) * 7919 + (seed % space) + space) % space) >>> 0;
  const profile = NAME_PROFILES[code % F] ?? NAME_PROFILES[0]!;
  const middle = NAME_MIDDLES[Math.floor(code / F) % M] ?? '';
  const prefix = NAME_PREFIXES[Math.floor(code / (F * M)) % P] ?? '';
  const round = Math.floor(k / space);
  const base = `${prefix}${middle}${profile.suffix}`.toLowerCase();
  const u = unit(seed, S.vtm, m, 9);
  const cd =
    profile.suffix === 'zepam' ? '0009' : u < 0.01 ? '0002' : u < 0.02 ? '0004' : u < 0.025 ? '0008' : '0000';
  return {
    name: capitalise(round === 0 ? base : `${base}-${round + 1}`),
    presentations: profile.presentations,
    cd,
    legal: u > 0.9 ? '0002' : '0003',
    brands: [],
  };
}

export function brandName(seed: number, key: number): string {
  const h = mix(seed, S.amp, key, 77);
  return `${BRAND_HEADS[h % BRAND_HEADS.length]}${BRAND_TAILS[Math.floor(h / 16) % BRAND_TAILS.length]}`;
}

export interface Supplier {
  readonly cd: string;
  readonly name: string;
  readonly invalid: boolean;
}
export function supplier(index: number): Supplier {
  const first = SUPPLIER_FIRST[index % SUPPLIER_FIRST.length] ?? '';
  const second = SUPPLIER_SECOND[Math.floor(index / SUPPLIER_FIRST.length) % SUPPLIER_SECOND.length] ?? '';
  const variant = Math.floor(index / (SUPPLIER_FIRST.length * SUPPLIER_SECOND.length));
  const partner = SUPPLIER_PARTNERS[index % SUPPLIER_PARTNERS.length] ?? '';
  const name =
    variant === 0
      ? `${first} ${second} Ltd`
      : variant === 1
        ? `${first} & ${partner} ${second} Ltd`
        : `${first} ${second} (UK ${variant}) Ltd`;
  return { cd: longId('supplier', index), name, invalid: index % 97 === 96 };
}

// ---------------------------------------------------------------------------------------------
// Per-record facts. Each is a pure function of (layout, index) so files can be written one by one.

export interface VtmFacts {
  readonly id: string;
  readonly name: string;
  readonly invalid: boolean;
  /** Molecule indexes (ING indexes) of the active ingredients: 1 to 3. */
  readonly components: readonly number[];
  readonly cd: string;
  readonly legal: '0001' | '0002' | '0003';
  readonly brands: readonly string[];
  readonly presentations: readonly Presentation[];
}

export function vtmFacts(L: ReleaseLayout, v: number): VtmFacts {
  const own = stem(L.seed, v);
  const u = unit(L.seed, S.vtm, v, 1);
  // Real molecules stay single-ingredient; ~20% of invented ones are 2-part, ~3% 3-part combinations.
  const parts = v < MOLECULES.length || L.nVtm < 3 ? 1 : u < 0.03 ? 3 : u < 0.23 ? 2 : 1;
  const components = [v];
  for (let k = 1; k < parts; k++) {
    const other = (v + 1 + pick(L.seed, S.vtm, v, 10 + k, L.nVtm - 1)) % L.nVtm;
    if (!components.includes(other)) components.push(other);
  }
  const name = components.map((c, k) => (k === 0 ? own.name : stem(L.seed, c).name)).join(' + ');
  return {
    id: mixedId(L.seed, 'vtm', v),
    name,
    invalid: unit(L.seed, S.vtm, v, 2) < 0.03,
    components,
    cd: own.cd,
    legal: own.legal,
    brands: own.brands,
    presentations: own.presentations,
  };
}

export function ingFacts(L: ReleaseLayout, g: number): { id: string; name: string; invalid: boolean } {
  const base = g < L.nVtm ? g : g % L.nVtm;
  const name =
    g < L.nVtm
      ? stem(L.seed, g).name
      : `${stem(L.seed, base).name} ${SALTS[Math.floor(g / L.nVtm + g) % SALTS.length]}`;
  return { id: mixedId(L.seed, 'ing', g), name, invalid: unit(L.seed, S.ing, g, 1) < 0.012 };
}

function vtmOfVmp(L: ReleaseLayout, i: number): { vtm: number; variant: number } {
  return vtmOfVmpIn(L.nVtm, L.nVmpWithVtm, i);
}

function vtmOfVmpIn(nVtm: number, nVmpWithVtm: number, i: number): { vtm: number; variant: number } {
  const vtm = Math.floor((i * nVtm) / nVmpWithVtm);
  const first = Math.ceil((vtm * nVmpWithVtm) / nVtm);
  return { vtm, variant: i - first };
}

/** Qualifiers that tell apart further VMPs of one moiety, strength and form, by kind of form. */
const QUALIFIERS = {
  liquid: ['sugar free', 'preservative free', 'unit dose'],
  solid: ['blister pack', 'film-coated', 'unit dose'],
  other: ['preservative free', 'single use', 'unit dose'],
} as const;

export interface VmpFacts {
  readonly id: string;
  readonly index: number;
  readonly vtm?: VtmFacts;
  readonly name: string;
  readonly invalid: boolean;
  readonly device?: DeviceBase;
  readonly form?: FormKey;
  readonly presentation?: Presentation;
  /** Extra route for ~8% of medicines (a second DROUTE). */
  readonly extraRoute: boolean;
  readonly hasDform: boolean;
  readonly presStat: string;
  readonly nonAvail: boolean;
  readonly sugarFree: boolean;
  readonly preservativeFree: boolean;
  readonly cd: string;
  readonly packUnit: UomKey;
  readonly packSizes: readonly number[];
}

export function vmpFacts(L: ReleaseLayout, i: number): VmpFacts {
  const id = mixedId(L.seed, 'vmp', i);
  const invalid = unit(L.seed, S.vmp, i, 1) < 0.03;
  const u = unit(L.seed, S.vmp, i, 2);
  const presStat = u < 0.9 ? '0001' : u < 0.94 ? '0003' : u < 0.96 ? '0004' : u < 0.98 ? '0005' : '0002';
  const nonAvail = unit(L.seed, S.vmp, i, 3) < 0.05;
  if (i >= L.nVmpWithVtm) {
    const d = i - L.nVmpWithVtm;
    const device = DEVICES[d % DEVICES.length] ?? DEVICES[0]!;
    const round = Math.floor(d / DEVICES.length);
    const size = device.sizes[round % device.sizes.length] ?? '';
    const model = Math.floor(round / device.sizes.length);
    const name = [device.name, size, model > 0 ? `type ${model + 1}` : ''].filter(Boolean).join(' ');
    return {
      id,
      index: i,
      name,
      invalid,
      device,
      extraRoute: false,
      hasDform: false,
      presStat: '0001',
      nonAvail,
      sugarFree: false,
      preservativeFree: false,
      cd: '0000',
      packUnit: device.unit,
      packSizes: device.packSizes,
    };
  }
  const { vtm: v, variant } = vtmOfVmp(L, i);
  const vtm = vtmFacts(L, v);
  const count = vtm.presentations.length;
  const presentation = vtm.presentations[variant % count] ?? vtm.presentations[0]!;
  const round = Math.floor(variant / count);
  const form = FORMS[presentation.form];
  const liquid = 'liquid' in form && form.liquid;
  const choices = liquid
    ? QUALIFIERS.liquid
    : form.dfInd === '1' && form.routeCd === '26643006'
      ? QUALIFIERS.solid
      : QUALIFIERS.other;
  const qualifier =
    round === 0
      ? ''
      : `${choices[(round - 1) % choices.length]}${round > choices.length ? ` ${Math.ceil(round / choices.length)}` : ''}`;
  const name = [vtm.name, strengthLabel(presentation.strength), form.label, qualifier]
    .filter(Boolean)
    .join(' ');
  return {
    id,
    index: i,
    vtm,
    name,
    invalid: invalid || vtm.invalid,
    form: presentation.form,
    presentation,
    extraRoute: unit(L.seed, S.vmp, i, 4) < 0.08,
    hasDform: unit(L.seed, S.vmp, i, 5) >= 0.012,
    presStat,
    nonAvail,
    sugarFree: liquid && (qualifier === 'sugar free' || unit(L.seed, S.vmp, i, 6) < 0.4),
    preservativeFree: qualifier === 'preservative free',
    cd: vtm.cd,
    packUnit: form.packUnit,
    packSizes: form.packSizes,
  };
}

export interface AmpFacts {
  readonly id: string;
  readonly index: number;
  readonly vmp: number;
  readonly name: string;
  readonly desc: string;
  readonly supplier: Supplier;
  readonly brand: boolean;
  readonly invalid: boolean;
  readonly licAuth: string;
  readonly availRestrict: string;
  readonly ema: boolean;
  readonly parallelImport: boolean;
  readonly flavour: boolean;
  readonly hasApIng: boolean;
  readonly hasLicRoute: boolean;
}

/** Index of the VMP owning child `index` given prefix sums (binary search). */
export function ownerOf(starts: Int32Array, index: number): number {
  let lo = 0;
  let hi = starts.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] ?? 0) <= index) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export function ampFacts(L: ReleaseLayout, a: number, vmp: VmpFacts): AmpFacts {
  const local = a - (L.ampStart[vmp.index] ?? 0);
  const sup = supplier(pick(L.seed, S.supplier, a, 1, SUPPLIER_COUNT));
  const brands = vmp.vtm?.brands ?? [];
  const brand =
    local === 0 ? brands.length > 0 || unit(L.seed, S.amp, a, 1) < 0.35 : unit(L.seed, S.amp, a, 1) < 0.12;
  let name = vmp.name;
  if (brand) {
    const b =
      local === 0 && brands.length > 0 ? (brands[vmp.index % brands.length] ?? '') : brandName(L.seed, a);
    name = vmp.device
      ? `${b} ${vmp.name.charAt(0).toLowerCase()}${vmp.name.slice(1)}`
      : [
          b,
          vmp.presentation ? strengthLabel(vmp.presentation.strength) : '',
          vmp.form ? FORMS[vmp.form].label : '',
        ]
          .filter(Boolean)
          .join(' ');
  }
  const u = unit(L.seed, S.amp, a, 2);
  const parallelImport = !vmp.device && unit(L.seed, S.amp, a, 3) < 0.04;
  const availRestrict = parallelImport
    ? '0004'
    : u < 0.9
      ? '0001'
      : u < 0.94
        ? '0008'
        : u < 0.97
          ? '0006'
          : '0009';
  return {
    id: longId('amp', a),
    index: a,
    vmp: vmp.index,
    name,
    desc: `${name} (${sup.name})`,
    supplier: sup,
    brand,
    invalid: vmp.invalid || unit(L.seed, S.amp, a, 4) < 0.02,
    licAuth: vmp.device ? '0002' : unit(L.seed, S.amp, a, 5) < 0.05 ? '0000' : '0001',
    availRestrict,
    ema: !vmp.device && unit(L.seed, S.amp, a, 6) < 0.02,
    parallelImport,
    flavour: vmp.sugarFree && unit(L.seed, S.amp, a, 7) < 0.5,
    hasApIng: !vmp.device && unit(L.seed, S.amp, a, 8) < 0.13,
    hasLicRoute: !vmp.device && unit(L.seed, S.amp, a, 9) < 0.6,
  };
}

export interface VmppFacts {
  readonly id: string;
  readonly index: number;
  readonly qty: number;
  readonly uom: UomKey;
  readonly name: string;
  readonly invalid: boolean;
  readonly hasDtInfo: boolean;
}

export function vmppFacts(L: ReleaseLayout, q: number, vmp: VmpFacts): VmppFacts {
  const local = q - (L.vmppStart[vmp.index] ?? 0);
  const sizes = vmp.packSizes;
  const qty = (sizes[local % sizes.length] ?? 1) * (1 + Math.floor(local / sizes.length));
  return {
    id: longId('vmpp', q),
    index: q,
    qty,
    uom: vmp.packUnit,
    name: `${vmp.name} ${qty} ${UOM[vmp.packUnit].desc}`,
    invalid: vmp.invalid || unit(L.seed, S.vmpp, q, 1) < 0.01,
    hasDtInfo: unit(L.seed, S.vmpp, q, 2) < 0.35,
  };
}

export interface AmppFacts {
  readonly id: string;
  readonly index: number;
  readonly amp: number;
  readonly vmpp: number;
  readonly hasPrescribInfo: boolean;
  readonly hasPriceInfo: boolean;
  readonly hasReimbInfo: boolean;
  readonly invalid: boolean;
  readonly discontinued: boolean;
}

/**
 * AMPP r of a VMP crosses one of its AMPs with one of its VMPPs (the same VMP: NHSBSA Technical
 * Specification of data files R2 v3.1 §2).
 */
export function amppFacts(L: ReleaseLayout, r: number, vmpIndex: number): AmppFacts {
  const local = r - (L.amppStart[vmpIndex] ?? 0);
  const amps = (L.ampStart[vmpIndex + 1] ?? 0) - (L.ampStart[vmpIndex] ?? 0);
  const vmpps = (L.vmppStart[vmpIndex + 1] ?? 0) - (L.vmppStart[vmpIndex] ?? 0);
  const ampLocal = local % amps;
  const vmppLocal = (Math.floor(local / amps) + ampLocal) % vmpps;
  return {
    id: longId('ampp', r),
    index: r,
    amp: (L.ampStart[vmpIndex] ?? 0) + ampLocal,
    vmpp: (L.vmppStart[vmpIndex] ?? 0) + vmppLocal,
    hasPrescribInfo: unit(L.seed, S.ampp, r, 1) < 0.5,
    hasPriceInfo: unit(L.seed, S.ampp, r, 2) < 0.98,
    hasReimbInfo: unit(L.seed, S.ampp, r, 3) < 0.97,
    invalid: unit(L.seed, S.ampp, r, 4) < 0.02,
    discontinued: unit(L.seed, S.ampp, r, 5) < 0.04,
  };
}

/** Which AMPPs carry GTINs (spread evenly) and how many rows each (1, or 2 with a historic one). */
export function gtinRowsOf(L: ReleaseLayout, r: number): number {
  const has = Math.floor(((r + 1) * L.nGtinAmpps) / L.nAmpp) > Math.floor((r * L.nGtinAmpps) / L.nAmpp);
  if (!has) return 0;
  const k = Math.floor((r * L.nGtinAmpps) / L.nAmpp);
  const extra = L.nGtinRows - L.nGtinAmpps;
  return 1 + (Math.floor(((k + 1) * extra) / L.nGtinAmpps) - Math.floor((k * extra) / L.nGtinAmpps));
}

/** A GTIN-13 with GS1 mod-10 check digit, unique per (AMPP, row). */
export function gtinCode(seed: number, r: number, row: number): string {
  const body =
    `50${String((((r * 4 + row) * 2654435761) % 9_999_999_967) + (seed % 7)).padStart(10, '0')}`.slice(0, 12);
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += Number(body[i]) * (i % 2 === 0 ? 1 : 3);
  return `${body}${(10 - (sum % 10)) % 10}`;
}

export { S as STREAMS };
