/*
 * Prescribers' shorthand and what dm+d spells out in full. dm+d names use full words ("Paracetamol
 * 500mg tablets", "Amoxicillin 250mg/5ml oral suspension sugar free", "Diclofenac 75mg
 * modified-release tablets"); ABBREVNM uses some short forms, which are indexed as written. A query
 * word found here matches either literally (as a prefix, like any word) or as its expansion (as whole
 * words). Keys and expansions are written as tokenise() leaves them: lower case, plurals folded (so
 * "tabs" arrives as "tab", and "tablet" also matches "tablets").
 */
export const PRESCRIBER_ABBREVIATIONS: Readonly<Record<string, readonly string[]>> = {
  tab: ['tablet'],
  cap: ['capsule'],
  inj: ['injection'],
  susp: ['suspension'],
  sol: ['solution'],
  soln: ['solution'],
  liq: ['liquid'],
  mr: ['modified', 'release'],
  sr: ['modified', 'release'],
  xl: ['modified', 'release'],
  ec: ['gastro', 'resistant'],
  gr: ['gastro', 'resistant'],
  sf: ['sugar', 'free'],
  pf: ['preservative', 'free'],
  oint: ['ointment'],
  crm: ['cream'],
  pdr: ['powder'],
  drp: ['drop'],
  gtt: ['drop'],
  supp: ['suppository'],
  pess: ['pessary'],
  inh: ['inhaler'],
  neb: ['nebuliser'],
  disp: ['dispersible'],
  eff: ['effervescent'],
  effer: ['effervescent'],
  pfs: ['pre', 'filled', 'syringe'],
};

/** The expansion of a query token (already plural-folded, so "tabs" arrives as "tab"), if any. */
export function expansionOf(token: string): readonly string[] | undefined {
  return Object.hasOwn(PRESCRIBER_ABBREVIATIONS, token) ? PRESCRIBER_ABBREVIATIONS[token] : undefined;
}
