import type { DmdSearchEntry } from '../medicines/model.js';
import {
  type AmpFacts,
  ampFacts,
  amppFacts,
  layoutRelease,
  type VmpFacts,
  type VmppFacts,
  vmpFacts,
  vmppFacts,
  vtmFacts,
} from '../medicines/synthetic/model.js';
import { FORMS, UOM } from '../medicines/synthetic/vocabulary.js';

/*
 * Search entries for a synthetic release, computed straight from the generator's plan (the same
 * facts generateDmdRelease writes) so that scale tests and benchmarks need neither files nor a store.
 * The prescribable/available rules here are simple stand-ins for the store's, good enough to
 * exercise the filters at scale.
 */

const INTRAMUSCULAR = '78421000';

/** Converting a string to a number flattens it in place (a V8 detail). */
function flatten(s: string): void {
  void Number(s);
}

/** ABBREVNM as the generator writes it (generate-release.ts `abbreviate`). */
function abbreviate(name: string): string | null {
  const short = name
    .replace(/\bcapsules\b/, 'caps')
    .replace(/\btablets\b/, 'tabs')
    .replace(/\boral suspension\b/, 'oral susp')
    .replace(/\bgastro-resistant\b/, 'e/c')
    .replace(/\bmodified-release\b/, 'm/r');
  return short === name ? null : short.slice(0, 60);
}

function routesOf(vmp: VmpFacts): string[] {
  if (!vmp.form) return [];
  const routes: string[] = [FORMS[vmp.form].routeCd];
  if (vmp.extraRoute && (vmp.form === 'injection' || vmp.form === 'powderInjection'))
    routes.push(INTRAMUSCULAR);
  return routes;
}

/**
 * Every VTM, VMP, AMP, VMPP and AMPP of the synthetic release as a search entry.
 *
 * @example syntheticSearchEntries({ seed: 1, scale: 1 }).length // ~413k
 */
export function syntheticSearchEntries(options: { seed: number; scale: number }): DmdSearchEntry[] {
  const L = layoutRelease(options.seed, options.scale);
  const out: DmdSearchEntry[] = [];
  const vtmPacks = new Int32Array(L.nVtm);
  const vtmEntries: DmdSearchEntry[] = [];
  for (let v = 0; v < L.nVtm; v++) {
    const vtm = vtmFacts(L, v);
    const entry: DmdSearchEntry = {
      type: 'VTM',
      id: vtm.id,
      name: vtm.name,
      abbreviatedName: null,
      description: null,
      invalid: vtm.invalid,
      kind: 'medicine',
      prescribable: true,
      available: true,
      controlledDrugCategory: vtm.cd,
      formCode: null,
      routeCodes: [],
      vmpId: null,
      vtmId: vtm.id,
      packCount: 0,
    };
    vtmEntries.push(entry);
  }
  for (let i = 0; i < L.nVmp; i++) {
    const vmp = vmpFacts(L, i);
    const base = {
      kind: vmp.device ? 'device' : 'medicine',
      controlledDrugCategory: vmp.cd,
      formCode: vmp.form && vmp.hasDform ? FORMS[vmp.form].formCd : null,
      routeCodes: routesOf(vmp),
      vmpId: vmp.id,
      vtmId: vmp.vtm?.id ?? null,
    } as const;
    const prescribable = vmp.presStat === '0001';
    const aStart = L.ampStart[i] ?? 0;
    const amps: AmpFacts[] = [];
    for (let a = aStart; a < (L.ampStart[i + 1] ?? 0); a++) amps.push(ampFacts(L, a, vmp));
    const qStart = L.vmppStart[i] ?? 0;
    const vmpps: VmppFacts[] = [];
    for (let q = qStart; q < (L.vmppStart[i + 1] ?? 0); q++) vmpps.push(vmppFacts(L, q, vmp));
    const ampPacks = new Int32Array(amps.length);
    const vmppPacks = new Int32Array(vmpps.length);
    const amppEntries: DmdSearchEntry[] = [];
    for (let r = L.amppStart[i] ?? 0; r < (L.amppStart[i + 1] ?? 0); r++) {
      const f = amppFacts(L, r, i);
      const amp = amps[f.amp - aStart] as AmpFacts;
      const vmpp = vmpps[f.vmpp - qStart] as VmppFacts;
      const invalid = amp.invalid || vmpp.invalid || f.invalid;
      const available = !f.discontinued && amp.availRestrict === '0001';
      if (available && !invalid) {
        (ampPacks[f.amp - aStart] as number)++;
        (vmppPacks[f.vmpp - qStart] as number)++;
      }
      amppEntries.push({
        ...base,
        routeCodes: [...base.routeCodes],
        type: 'AMPP',
        id: f.id,
        name: `${amp.name} (${amp.supplier.name}) ${vmpp.qty} ${UOM[vmpp.uom].desc}`,
        abbreviatedName: null,
        description: null,
        invalid,
        prescribable,
        available,
        packCount: available && !invalid ? 1 : 0,
      });
    }
    const vmpPackCount = ampPacks.reduce((s, c) => s + c, 0);
    if (vmp.vtm)
      vtmPacks[vmp.vtm.components[0] ?? 0] = (vtmPacks[vmp.vtm.components[0] ?? 0] ?? 0) + vmpPackCount;
    out.push({
      ...base,
      routeCodes: [...base.routeCodes],
      type: 'VMP',
      id: vmp.id,
      name: vmp.name,
      abbreviatedName: abbreviate(vmp.name),
      description: null,
      invalid: vmp.invalid,
      prescribable,
      available: !vmp.nonAvail,
      packCount: vmpPackCount,
    });
    for (const [k, amp] of amps.entries()) {
      out.push({
        ...base,
        routeCodes: [...base.routeCodes],
        type: 'AMP',
        id: amp.id,
        name: amp.name,
        abbreviatedName: abbreviate(amp.name),
        description: amp.desc,
        invalid: amp.invalid,
        prescribable,
        available: amp.availRestrict === '0001',
        packCount: ampPacks[k] ?? 0,
      });
    }
    for (const [k, vmpp] of vmpps.entries()) {
      out.push({
        ...base,
        routeCodes: [...base.routeCodes],
        type: 'VMPP',
        id: vmpp.id,
        name: vmpp.name,
        abbreviatedName: null,
        description: null,
        invalid: vmpp.invalid,
        prescribable,
        available: (vmppPacks[k] ?? 0) > 0,
        packCount: vmppPacks[k] ?? 0,
      });
    }
    for (const e of amppEntries) out.push(e);
  }
  vtmEntries.forEach((e, v) => {
    e.packCount = vtmPacks[v] ?? 0;
    out.push(e);
  });
  // A database driver hands over flat strings; names built here by concatenation are V8 "cons
  // strings", which would make the index build look slower than it is behind the store.
  for (const e of out) {
    flatten(e.id);
    flatten(e.name);
    if (e.vmpId !== null) flatten(e.vmpId);
    if (e.abbreviatedName !== null) flatten(e.abbreviatedName);
    if (e.description !== null) flatten(e.description);
  }
  return out;
}
