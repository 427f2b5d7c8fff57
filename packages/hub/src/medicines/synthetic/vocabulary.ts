/**
 * Small in-code vocabulary for synthetic dm+d releases. Codes (FORM, ROUTE, UNIT_OF_MEASURE,
 * ONT_FORM_ROUTE and the small code lists) are copied from the real 2019 lookup file
 * (reference/refdata/dmd/openprescribing-2019-04-01/f_lookup2_3010419.xml) so the
 * generator needs nothing outside the repository. Names of molecules beyond the real table,
 * brands and suppliers are invented.
 */

/** UNIT_OF_MEASURE codes used (SCTIDs from the 2019 lookup). */
export const UOM = {
  mg: { cd: '258684004', desc: 'mg' },
  microgram: { cd: '258685003', desc: 'microgram' },
  gram: { cd: '258682000', desc: 'gram' },
  ml: { cd: '258773002', desc: 'ml' },
  unit: { cd: '258666001', desc: 'unit' },
  tablet: { cd: '428673006', desc: 'tablet' },
  capsule: { cd: '428641000', desc: 'capsule' },
  ampoule: { cd: '413516001', desc: 'ampoule' },
  vial: { cd: '415818006', desc: 'vial' },
  dose: { cd: '3317411000001100', desc: 'dose' },
  device: { cd: '3318711000001107', desc: 'device' },
  dressing: { cd: '3320111000001103', desc: 'dressing' },
  pack: { cd: '3318211000001100', desc: 'pack' },
  strip: { cd: '733018009', desc: 'strip' },
} as const;
export type UomKey = keyof typeof UOM;

/** A dose form: FORM and ROUTE SCTIDs and the ONT_FORM_ROUTE code from the 2019 lookup. */
export interface FormSpec {
  /** As it appears at the end of a VMP name. */
  readonly label: string;
  readonly formCd: string;
  readonly formDesc: string;
  readonly routeCd: string;
  readonly routeDesc: string;
  readonly ontCd: string;
  readonly ontDesc: string;
  /** DF_INDCD: 1 discrete, 2 continuous, 3 not applicable. */
  readonly dfInd: '1' | '2' | '3';
  /** Unit a pack is counted in (VMPP QTY_UOMCD). */
  readonly packUnit: UomKey;
  readonly packSizes: readonly number[];
  readonly liquid?: boolean;
}

const ORAL = { routeCd: '26643006', routeDesc: 'Oral' } as const;
const CUTANEOUS = { routeCd: '6064005', routeDesc: 'Cutaneous' } as const;

export const FORMS = {
  tablet: {
    label: 'tablets',
    formCd: '385055001',
    formDesc: 'Tablet',
    ...ORAL,
    ontCd: '0001',
    ontDesc: 'tablet.oral',
    dfInd: '1',
    packUnit: 'tablet',
    packSizes: [28, 56, 100, 30, 14],
  },
  capsule: {
    label: 'capsules',
    formCd: '385049006',
    formDesc: 'Capsule',
    ...ORAL,
    ontCd: '0003',
    ontDesc: 'capsule.oral',
    dfInd: '1',
    packUnit: 'capsule',
    packSizes: [21, 15, 100, 500, 30],
  },
  mrTablet: {
    label: 'modified-release tablets',
    formCd: '385061003',
    formDesc: 'Modified-release tablet',
    ...ORAL,
    ontCd: '0001',
    ontDesc: 'tablet.oral',
    dfInd: '1',
    packUnit: 'tablet',
    packSizes: [28, 56, 30],
  },
  grTablet: {
    label: 'gastro-resistant tablets',
    formCd: '385059007',
    formDesc: 'Gastro-resistant tablet',
    ...ORAL,
    ontCd: '0001',
    ontDesc: 'tablet.oral',
    dfInd: '1',
    packUnit: 'tablet',
    packSizes: [28, 56, 84],
  },
  effervescent: {
    label: 'effervescent tablets',
    formCd: '764780001',
    formDesc: 'Effervescent tablet',
    ...ORAL,
    ontCd: '0001',
    ontDesc: 'tablet.oral',
    dfInd: '1',
    packUnit: 'tablet',
    packSizes: [24, 100],
  },
  suspension: {
    label: 'oral suspension',
    formCd: '385024007',
    formDesc: 'Oral suspension',
    ...ORAL,
    ontCd: '0006',
    ontDesc: 'suspension.oral',
    dfInd: '2',
    packUnit: 'ml',
    packSizes: [100, 60, 200],
    liquid: true,
  },
  solution: {
    label: 'oral solution',
    formCd: '385023001',
    formDesc: 'Oral solution',
    ...ORAL,
    ontCd: '0005',
    ontDesc: 'solution.oral',
    dfInd: '2',
    packUnit: 'ml',
    packSizes: [150, 100, 500],
    liquid: true,
  },
  cream: {
    label: 'cream',
    formCd: '385099005',
    formDesc: 'Cream',
    ...CUTANEOUS,
    ontCd: '0008',
    ontDesc: 'cream.cutaneous',
    dfInd: '2',
    packUnit: 'gram',
    packSizes: [30, 15, 50, 100],
  },
  gel: {
    label: 'gel',
    formCd: '385100002',
    formDesc: 'Gel',
    ...CUTANEOUS,
    ontCd: '0039',
    ontDesc: 'gel.cutaneous',
    dfInd: '2',
    packUnit: 'gram',
    packSizes: [30, 50, 100],
  },
  ointment: {
    label: 'ointment',
    formCd: '385101003',
    formDesc: 'Ointment',
    ...CUTANEOUS,
    ontCd: '0007',
    ontDesc: 'ointment.cutaneous',
    dfInd: '2',
    packUnit: 'gram',
    packSizes: [30, 15, 100],
  },
  injection: {
    label: 'solution for injection ampoules',
    formCd: '385219001',
    formDesc: 'Solution for injection',
    routeCd: '47625008',
    routeDesc: 'Intravenous',
    ontCd: '0024',
    ontDesc: 'solutioninjection.intravenous',
    dfInd: '1',
    packUnit: 'ampoule',
    packSizes: [10, 5, 1],
  },
  subcutaneous: {
    label: 'solution for injection pre-filled syringes',
    formCd: '385219001',
    formDesc: 'Solution for injection',
    routeCd: '34206005',
    routeDesc: 'Subcutaneous',
    ontCd: '0022',
    ontDesc: 'solutioninjection.subcutaneous',
    dfInd: '1',
    packUnit: 'ml',
    packSizes: [1, 2, 4],
  },
  powderInjection: {
    label: 'powder for solution for injection vials',
    formCd: '385223009',
    formDesc: 'Powder for solution for injection',
    routeCd: '47625008',
    routeDesc: 'Intravenous',
    ontCd: '0024',
    ontDesc: 'solutioninjection.intravenous',
    dfInd: '1',
    packUnit: 'vial',
    packSizes: [10, 1],
  },
  eyeDrops: {
    label: 'eye drops',
    formCd: '385124005',
    formDesc: 'Eye drops',
    routeCd: '54485002',
    routeDesc: 'Ocular',
    ontCd: '0010',
    ontDesc: 'solutiondrops.ophthalmic',
    dfInd: '2',
    packUnit: 'ml',
    packSizes: [10, 5],
    liquid: true,
  },
  inhaler: {
    label: 'inhaler',
    formCd: '385203008',
    formDesc: 'Pressurised inhalation',
    routeCd: '18679011000001101',
    routeDesc: 'Inhalation',
    ontCd: '0004',
    ontDesc: 'pressurizedinhalation.inhalation',
    dfInd: '1',
    packUnit: 'dose',
    packSizes: [200, 120],
  },
} as const satisfies Record<string, FormSpec>;
export type FormKey = keyof typeof FORMS;

/** FORM "Not applicable" for devices (2019 lookup). */
export const FORM_NOT_APPLICABLE = { cd: '3097611000001100', desc: 'Not applicable' } as const;

/** A strength: numerator (and denominator for liquids), rendered as dm+d writes it ("250mg/5ml"). */
export interface Strength {
  readonly n: number;
  readonly nu: UomKey;
  readonly d?: number;
  readonly du?: UomKey;
}

export function strengthLabel(s: Strength): string {
  const unitLabel = (u: UomKey) => (u === 'gram' ? 'g' : UOM[u].desc);
  const num = `${s.n}${unitLabel(s.nu)}`;
  if (s.d === undefined || s.du === undefined) return num;
  return `${num}/${s.d === 1 ? '' : s.d}${unitLabel(s.du)}`;
}

const mg = (n: number): Strength => ({ n, nu: 'mg' });
const mcg = (n: number): Strength => ({ n, nu: 'microgram' });
const per5ml = (n: number): Strength => ({ n, nu: 'mg', d: 5, du: 'ml' });
const perMl = (n: number): Strength => ({ n, nu: 'mg', d: 1, du: 'ml' });
const perG = (n: number): Strength => ({ n, nu: 'mg', d: 1, du: 'gram' });

export interface Presentation {
  readonly form: FormKey;
  readonly strength: Strength;
}
export interface Molecule {
  readonly name: string;
  readonly presentations: readonly Presentation[];
  /** CONTROL_DRUG_CATEGORY code when controlled. */
  readonly cd?: string;
  /** LEGAL_CATEGORY for packs: 0001 GSL, 0002 P, 0003 POM. */
  readonly legal?: '0001' | '0002' | '0003';
  readonly brands?: readonly string[];
}

const p = (form: FormKey, ...strengths: Strength[]): Presentation[] =>
  strengths.map((strength) => ({ form, strength }));

/**
 * Real generic molecules with real presentations. Amoxicillin comes first and its first two
 * presentations are the 250 mg and 500 mg capsules, paracetamol second with 500 mg tablets first,
 * and morphine (Schedule 2) third, so even the smallest release has what the dm+d search tests
 * look for and a controlled drug.
 */
export const MOLECULES: readonly Molecule[] = [
  {
    name: 'Amoxicillin',
    presentations: [
      ...p('capsule', mg(250), mg(500)),
      ...p('suspension', per5ml(125), per5ml(250)),
      ...p('powderInjection', mg(500), mg(1000)),
    ],
    brands: ['Amoxil'],
  },
  {
    name: 'Paracetamol',
    presentations: [
      ...p('tablet', mg(500)),
      ...p('capsule', mg(500)),
      ...p('suspension', per5ml(120), per5ml(250)),
      ...p('effervescent', mg(500)),
      ...p('injection', perMl(10)),
    ],
    legal: '0001',
    brands: ['Panadol', 'Calpol'],
  },
  {
    name: 'Morphine',
    presentations: [
      ...p('mrTablet', mg(10), mg(30), mg(60)),
      ...p('solution', per5ml(10)),
      ...p('injection', perMl(10)),
    ],
    cd: '0002',
    brands: ['MST Continus', 'Oramorph'],
  },
  {
    name: 'Ibuprofen',
    presentations: [
      ...p('tablet', mg(200), mg(400), mg(600)),
      ...p('suspension', per5ml(100)),
      ...p('gel', perG(50)),
    ],
    legal: '0002',
    brands: ['Brufen', 'Nurofen'],
  },
  { name: 'Atorvastatin', presentations: p('tablet', mg(10), mg(20), mg(40), mg(80)), brands: ['Lipitor'] },
  { name: 'Simvastatin', presentations: p('tablet', mg(10), mg(20), mg(40)), brands: ['Zocor'] },
  {
    name: 'Amlodipine',
    presentations: [...p('tablet', mg(5), mg(10)), ...p('solution', perMl(1))],
    brands: ['Istin'],
  },
  {
    name: 'Omeprazole',
    presentations: [...p('grTablet', mg(10), mg(20)), ...p('capsule', mg(20), mg(40))],
    brands: ['Losec'],
  },
  { name: 'Lansoprazole', presentations: p('capsule', mg(15), mg(30)), brands: ['Zoton'] },
  {
    name: 'Metformin',
    presentations: [...p('tablet', mg(500), mg(850)), ...p('mrTablet', mg(500), mg(1000))],
    brands: ['Glucophage'],
  },
  {
    name: 'Ramipril',
    presentations: [...p('capsule', mg(1.25), mg(2.5), mg(5), mg(10)), ...p('tablet', mg(10))],
    brands: ['Tritace'],
  },
  { name: 'Lisinopril', presentations: p('tablet', mg(2.5), mg(5), mg(10), mg(20)), brands: ['Zestril'] },
  { name: 'Bisoprolol', presentations: p('tablet', mg(1.25), mg(2.5), mg(5), mg(10)), brands: ['Cardicor'] },
  {
    name: 'Salbutamol',
    presentations: [...p('inhaler', mcg(100)), ...p('solution', per5ml(2))],
    brands: ['Ventolin'],
  },
  { name: 'Sertraline', presentations: p('tablet', mg(50), mg(100)), brands: ['Lustral'] },
  { name: 'Citalopram', presentations: p('tablet', mg(10), mg(20), mg(40)), brands: ['Cipramil'] },
  { name: 'Levothyroxine', presentations: p('tablet', mcg(25), mcg(50), mcg(100)) },
  {
    name: 'Clarithromycin',
    presentations: [...p('tablet', mg(250), mg(500)), ...p('suspension', per5ml(125))],
    brands: ['Klaricid'],
  },
  {
    name: 'Flucloxacillin',
    presentations: [...p('capsule', mg(250), mg(500)), ...p('solution', per5ml(125))],
  },
  { name: 'Doxycycline', presentations: p('capsule', mg(50), mg(100)), brands: ['Vibramycin'] },
  { name: 'Prednisolone', presentations: [...p('tablet', mg(1), mg(5)), ...p('grTablet', mg(5))] },
  {
    name: 'Oxycodone',
    presentations: [...p('capsule', mg(5), mg(10)), ...p('mrTablet', mg(10), mg(20))],
    cd: '0002',
    brands: ['OxyContin'],
  },
  {
    name: 'Diazepam',
    presentations: [...p('tablet', mg(2), mg(5), mg(10)), ...p('solution', per5ml(2))],
    cd: '0009',
  },
  {
    name: 'Temazepam',
    presentations: [...p('tablet', mg(10), mg(20)), ...p('solution', per5ml(10))],
    cd: '0007',
  },
  { name: 'Codeine', presentations: p('tablet', mg(15), mg(30), mg(60)), cd: '0010' },
  {
    name: 'Tramadol',
    presentations: [...p('capsule', mg(50)), ...p('mrTablet', mg(100), mg(200))],
    cd: '0005',
    brands: ['Zydol'],
  },
  {
    name: 'Diclofenac',
    presentations: [...p('grTablet', mg(25), mg(50)), ...p('gel', perG(10))],
    brands: ['Voltarol'],
  },
  {
    name: 'Hydrocortisone',
    presentations: [...p('cream', perG(10)), ...p('ointment', perG(10)), ...p('tablet', mg(10))],
  },
  {
    name: 'Chloramphenicol',
    presentations: [...p('eyeDrops', perMl(5)), ...p('ointment', perG(10))],
    brands: ['Optrex'],
  },
  { name: 'Enoxaparin', presentations: p('subcutaneous', perMl(100)), brands: ['Clexane'] },
  {
    name: 'Aciclovir',
    presentations: [...p('tablet', mg(200), mg(400), mg(800)), ...p('cream', perG(50))],
    brands: ['Zovirax'],
  },
  { name: 'Naproxen', presentations: [...p('tablet', mg(250), mg(500)), ...p('grTablet', mg(250))] },
];

/** Pieces for invented but plausible generic names; each suffix implies a drug class profile. */
export const NAME_PREFIXES = [
  'Ab',
  'Ac',
  'Al',
  'Am',
  'Ar',
  'Az',
  'Bel',
  'Bri',
  'Cal',
  'Car',
  'Cef',
  'Cil',
  'Clo',
  'Dal',
  'Dex',
  'Dor',
  'Ela',
  'Ena',
  'Eso',
  'Fel',
  'Flu',
  'Gal',
  'Hal',
  'Ima',
  'Ir',
  'Ket',
  'Lab',
  'Lev',
  'Lor',
  'Mel',
  'Mir',
  'Nab',
  'Nor',
  'Ola',
  'Pal',
  'Per',
  'Qui',
  'Ral',
  'Ros',
  'Sal',
  'Tel',
  'Tor',
  'Val',
  'Ver',
  'Zol',
] as const;
export const NAME_MIDDLES = [
  'a',
  'e',
  'i',
  'o',
  'u',
  'am',
  'ed',
  'il',
  'on',
  'ur',
  'ox',
  'ar',
  'et',
  'im',
  'ol',
] as const;

export interface NameProfile {
  readonly suffix: string;
  readonly presentations: readonly Presentation[];
}
export const NAME_PROFILES: readonly NameProfile[] = [
  { suffix: 'olol', presentations: p('tablet', mg(10), mg(25), mg(50), mg(100)) },
  { suffix: 'pril', presentations: [...p('tablet', mg(2.5), mg(5), mg(10), mg(20)), ...p('capsule', mg(5))] },
  { suffix: 'sartan', presentations: p('tablet', mg(40), mg(80), mg(160)) },
  { suffix: 'statin', presentations: p('tablet', mg(10), mg(20), mg(40)) },
  { suffix: 'azole', presentations: [...p('capsule', mg(50), mg(150)), ...p('cream', perG(10))] },
  { suffix: 'mycin', presentations: [...p('capsule', mg(250), mg(500)), ...p('suspension', per5ml(125))] },
  { suffix: 'cillin', presentations: [...p('capsule', mg(250), mg(500)), ...p('powderInjection', mg(1000))] },
  { suffix: 'floxacin', presentations: [...p('tablet', mg(250), mg(500)), ...p('eyeDrops', perMl(3))] },
  { suffix: 'tidine', presentations: [...p('tablet', mg(150), mg(300)), ...p('solution', per5ml(75))] },
  { suffix: 'prazole', presentations: [...p('grTablet', mg(20), mg(40)), ...p('capsule', mg(15))] },
  { suffix: 'dipine', presentations: [...p('tablet', mg(5), mg(10)), ...p('mrTablet', mg(30), mg(60))] },
  { suffix: 'oxetine', presentations: p('capsule', mg(20), mg(40), mg(60)) },
  { suffix: 'triptan', presentations: p('tablet', mg(2.5), mg(50), mg(100)) },
  { suffix: 'parin', presentations: p('subcutaneous', perMl(100), perMl(150)) },
  {
    suffix: 'sone',
    presentations: [...p('cream', perG(1)), ...p('ointment', perG(1)), ...p('tablet', mg(5))],
  },
  { suffix: 'terol', presentations: [...p('inhaler', mcg(25), mcg(50)), ...p('solution', per5ml(1))] },
  { suffix: 'vir', presentations: p('tablet', mg(200), mg(300), mg(500)) },
  { suffix: 'zepam', presentations: p('tablet', mg(1), mg(2), mg(5)) },
  { suffix: 'caine', presentations: [...p('gel', perG(20)), ...p('injection', perMl(10))] },
  { suffix: 'fenac', presentations: [...p('grTablet', mg(25), mg(75)), ...p('gel', perG(10))] },
];

/** Salts and hydrates for ingredient substances beyond the active moieties. */
export const SALTS = [
  'hydrochloride',
  'sodium',
  'potassium',
  'maleate',
  'besilate',
  'succinate',
  'tartrate',
  'citrate',
  'trihydrate',
  'monohydrate',
  'acetate',
  'phosphate',
  'sulfate',
  'mesilate',
] as const;

/** Device, dressing and nutrition product bases for VMPs without a VTM. */
export interface DeviceBase {
  readonly name: string;
  readonly sizes: readonly string[];
  readonly unit: UomKey;
  readonly packSizes: readonly number[];
  readonly acbs?: boolean;
}
export const DEVICES: readonly DeviceBase[] = [
  { name: 'Blood glucose testing strips', sizes: [''], unit: 'strip', packSizes: [50, 25] },
  {
    name: 'Hypodermic insulin injection pen needles',
    sizes: ['4mm/32gauge', '5mm/31gauge', '8mm/30gauge'],
    unit: 'device',
    packSizes: [100],
  },
  {
    name: 'Adhesive film dressing',
    sizes: ['6cm x 7cm', '10cm x 12cm', '15cm x 20cm'],
    unit: 'dressing',
    packSizes: [10, 5],
  },
  {
    name: 'Foam dressing sterile',
    sizes: ['5cm x 5cm', '10cm x 10cm', '15cm x 15cm'],
    unit: 'dressing',
    packSizes: [10],
  },
  { name: 'Alginate dressing', sizes: ['5cm x 5cm', '10cm x 10cm'], unit: 'dressing', packSizes: [10] },
  { name: 'Urinary leg bag sterile', sizes: ['350ml', '500ml', '750ml'], unit: 'device', packSizes: [10] },
  {
    name: 'Intermittent self-catheter female',
    sizes: ['Ch10', 'Ch12', 'Ch14'],
    unit: 'device',
    packSizes: [30],
  },
  {
    name: 'Below knee compression hosiery class 2',
    sizes: ['small', 'medium', 'large'],
    unit: 'device',
    packSizes: [2, 1],
  },
  {
    name: 'Generic Nutrison liquid',
    sizes: ['', 'energy', 'protein plus'],
    unit: 'ml',
    packSizes: [1000, 500],
    acbs: true,
  },
  {
    name: 'Gluten free white bread',
    sizes: ['sliced', 'rolls'],
    unit: 'gram',
    packSizes: [400, 300],
    acbs: true,
  },
  {
    name: 'Lancets sterile single-use',
    sizes: ['0.3mm/30gauge', '0.2mm/33gauge'],
    unit: 'device',
    packSizes: [200, 100],
  },
  { name: 'Spacer device', sizes: ['standard', 'with mask'], unit: 'device', packSizes: [1] },
];

/** Syllables for invented brand names. */
export const BRAND_HEADS = [
  'Zen',
  'Nova',
  'Cal',
  'Vir',
  'Lo',
  'Pre',
  'Max',
  'Tri',
  'Flo',
  'Dura',
  'Ora',
  'Sol',
  'Ven',
  'Qua',
  'Ryl',
] as const;
export const BRAND_TAILS = [
  'trix',
  'prex',
  'mol',
  'dex',
  'zin',
  'vance',
  'lin',
  'tal',
  'fen',
  'cor',
  'sal',
  'ryn',
  'mab',
  'lex',
] as const;

/** Words for invented supplier names; "&" makes sure `&amp;` escaping is exercised. */
export const SUPPLIER_FIRST = [
  'Alder',
  'Beacon',
  'Bramley',
  'Castle',
  'Crown',
  'Dales',
  'Eden',
  'Fenwick',
  'Granite',
  'Harbour',
  'Kestrel',
  'Lyndon',
  'Meridian',
  'Northgate',
  'Orchard',
  'Pennine',
  'Quayside',
  'Redwood',
  'Severn',
  'Thistle',
  'Union',
  'Vale',
  'Westfield',
  'Yarrow',
] as const;
export const SUPPLIER_SECOND = [
  'Pharma',
  'Healthcare',
  'Medical',
  'Laboratories',
  'Generics',
  'Pharmaceuticals',
  'Life Sciences',
  'Specials',
] as const;
export const SUPPLIER_PARTNERS = ['Hale', 'Moss', 'Burke', 'Lyle', 'Grant'] as const;
/** Supplier list size (the real 2019 list has 1,818; 400 keeps the lookup small). */
export const SUPPLIER_COUNT = 400;

export const FLAVOURS = [
  { cd: '0001', desc: 'Almond' },
  { cd: '0003', desc: 'Apple' },
  { cd: '0004', desc: 'Apple & pear' },
  { cd: '0005', desc: 'Apricot' },
] as const;
export const COLOURS = [
  { cd: '0001', desc: 'Beige' },
  { cd: '0031', desc: 'White' },
  { cd: '0003', desc: 'Blue' },
] as const;

/**
 * Small code lists copied verbatim from the 2019 lookup
 * (`reference/refdata/dmd/openprescribing-2019-04-01/f_lookup2_3010419.xml`), in XSD order.
 */
export const SMALL_LISTS: Readonly<Record<string, readonly (readonly [string, string])[]>> = {
  COMBINATION_PACK_IND: [
    ['0001', 'Combination pack'],
    ['0002', 'Component only pack'],
  ],
  COMBINATION_PROD_IND: [
    ['0001', 'Combination Product'],
    ['0002', 'Component only product'],
  ],
  BASIS_OF_NAME: [
    ['0001', 'rINN - Recommended International Non-proprietary'],
    ['0002', 'BAN - British Approved Name'],
    ['0003', 'BANM - British Approved Name (Modified)'],
    ['0004', 'INNM - International Non-proprietary Name (Modified)'],
    ['0005', 'pINN - Proposed International Non-proprietary Name'],
    ['0006', 'USAN - United States Adopted Name'],
    ['0007', 'Other'],
  ],
  NAMECHANGE_REASON: [
    ['0000', ' '],
    ['0001', 'Replacement of a temporary name'],
    ['0002', 'New approved generic name available'],
    ['0003', 'Basis of name changed'],
    ['0004', 'Other'],
  ],
  VIRTUAL_PRODUCT_PRES_STATUS: [
    ['0001', 'Valid as a prescribable product'],
    ['0002', 'Invalid to prescribe in NHS primary care'],
    ['0003', 'Not prescribable as a VMP but AMP prescribable'],
    ['0004', 'Never Valid To Prescribe As A VMP'],
    ['0005', 'Not Recommended To Prescribe As A VMP'],
    ['0006', 'VMP not recommended to prescribe - brands not bioequivalent'],
    ['0007', 'VMP not recommended to prescribe - patient training required'],
    ['0008', 'VMP not recommended to prescribe -no published specification'],
  ],
  CONTROL_DRUG_CATEGORY: [
    ['0000', 'No Controlled Drug Status'],
    ['0001', 'Schedule 1 (CD Lic)'],
    ['0002', 'Schedule 2 (CD)'],
    ['0003', 'Schedule 2 (CD Exempt Safe Custody)'],
    ['0004', 'Schedule 3 (CD No Register)'],
    ['0005', 'Schedule 3 (CD No Register Exempt Safe Custody)'],
    ['0006', 'Schedule 3 (CD No Register Phenobarbital)'],
    ['0007', 'Schedule 3 (CD No Register Temazepam)'],
    ['0008', 'Schedule 4 (CD Anab)'],
    ['0009', 'Schedule 4 (CD Benz)'],
    ['0010', 'Schedule 5 (CD Inv)'],
  ],
  LICENSING_AUTHORITY: [
    ['0000', 'None'],
    ['0001', 'Medicines - MHRA/EMA'],
    ['0002', 'Devices'],
    ['0003', 'Unknown'],
    ['0004', 'Traditional Herbal Medicines'],
  ],
  DT_PAYMENT_CATEGORY: [
    ['0001', 'Part VIIIA Cat A'],
    ['0003', 'Part VIIIA Cat C'],
    ['0005', 'Part IXa'],
    ['0006', 'Part IXb'],
    ['0007', 'Part IXc'],
    ['0008', 'Part IXr'],
    ['0009', 'Part X'],
    ['0010', 'Parts IXb and IXc'],
    ['0011', 'Part VIIIA Cat M'],
    ['0012', 'Part VIIIB'],
  ],
  BASIS_OF_STRNTH: [
    ['0001', 'Based on Ingredient Substance'],
    ['0002', 'Based on Base Substance'],
  ],
  REIMBURSEMENT_STATUS: [
    ['0000', 'Not allowed (not in Drug Tariff)'],
    ['0001', 'Allowed (in Drug Tariff)'],
  ],
  SPEC_CONT: [
    ['0001', 'Special container'],
    ['0002', 'Sub-pack is a special container'],
  ],
  DND: [
    ['0001', 'Discount not deducted - automatic'],
    ['0002', 'Discount not deducted - endorsement required'],
  ],
  VIRTUAL_PRODUCT_NON_AVAIL: [
    ['0000', 'Actual Products Available'],
    ['0001', 'Actual Products not Available'],
  ],
  DISCONTINUED_IND: [
    ['0000', 'Reinstated'],
    ['0001', 'Discontinued Flag'],
  ],
  DF_INDICATOR: [
    ['1', 'Discrete'],
    ['2', 'Continuous'],
    ['3', 'Not applicable'],
  ],
  PRICE_BASIS: [
    ['0001', 'NHS Indicative Price'],
    ['0002', 'No Price Available'],
    ['0003', 'No Price product centrally funded'],
    ['0004', 'No Price priced when manufactured'],
  ],
  LEGAL_CATEGORY: [
    ['0001', 'GSL'],
    ['0002', 'P'],
    ['0003', 'POM'],
    ['0004', 'Not Applicable'],
  ],
  AVAILABILITY_RESTRICTION: [
    ['0001', 'None'],
    ['0002', 'Restricted Availability'],
    ['0003', 'Individual Patient Supply'],
    ['0004', 'Imported'],
    ['0005', 'Clinical Trial'],
    ['0006', 'Special'],
    ['0007', 'Extemp'],
    ['0008', 'Hospital Only'],
    ['0009', 'Not available'],
  ],
  LICENSING_AUTHORITY_CHANGE_REASON: [
    ['0001', 'Licence Granted'],
    ['0002', 'Licence Transferred'],
    ['0003', 'Withdrawn Manufacturer '],
    ['0004', 'Withdrawn CHM'],
    ['0005', 'Suspended CHM'],
    ['0006', 'Discontinued/Expired/Lapsed '],
    ['0007', 'Reintroduced'],
    ['0008', 'No Reason Available'],
  ],
};
