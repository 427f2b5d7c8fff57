/** The few FHIR R4 Patient shapes the console reads (as the hub returns them from PDS). */
export interface HumanName {
  use?: string;
  prefix?: string[];
  given?: string[];
  family?: string;
  period?: { start?: string; end?: string };
}

export interface Patient {
  resourceType: 'Patient';
  id: string;
  meta?: { security?: { system?: string; code?: string; display?: string }[] };
  identifier?: { system?: string; value?: string }[];
  name?: HumanName[];
  gender?: string;
  birthDate?: string;
  deceasedDateTime?: string;
  address?: {
    use?: string;
    line?: string[];
    city?: string;
    district?: string;
    postalCode?: string;
    period?: { start?: string; end?: string };
  }[];
  telecom?: { system?: string; value?: string; use?: string }[];
  generalPractitioner?: { identifier?: { value?: string }; display?: string }[];
}

export interface Bundle<T> {
  resourceType: 'Bundle';
  total?: number;
  entry?: { resource?: T; search?: { score?: number } }[];
}

/** The usual name as "Jane SMITH" (given names, then the family name in capitals, as NHS lists do). */
export function nameOf(patient: Patient): string {
  const name = patient.name?.find((n) => n.use === 'usual' && !n.period?.end) ?? patient.name?.[0];
  if (!name) return 'Name not known';
  return [...(name.prefix ?? []), ...(name.given ?? []), (name.family ?? '').toUpperCase()]
    .filter((p) => p !== '')
    .join(' ');
}

/** PDS marks restricted ("S-flagged") patients with the v3 Confidentiality code R. */
export function isRestricted(patient: Patient): boolean {
  return (patient.meta?.security ?? []).some((s) => s.code === 'R');
}

export function genderOf(gender: string | undefined): string {
  if (!gender) return '—';
  return gender.charAt(0).toUpperCase() + gender.slice(1);
}
