/** One national RBAC role a CIS2 user holds at an organisation (userinfo `nhsid_nrbac_roles[]`). */
export interface Cis2Role {
  /** The role profile id (`person_roleid`, what `selected_roleid` and `NHSD-Session-URID` carry). */
  personRoleId: string;
  /** The user's membership of the organisation (`person_orgid`). */
  personOrgId: string;
  orgCode: string;
  orgName: string;
  /** National RBAC code `S…:G…:R…` (sector, group, role). */
  roleCode: string;
  /** National RBAC name, quoted and colon-joined as CIS2 sends it. */
  roleName: string;
  activities: readonly string[];
  activityCodes: readonly string[];
}

/** A synthetic CIS2 smartcard user of the sandbox's sign-in page. */
export interface Cis2TestUser {
  /** CIS2's user id (`sub`, `nhsid_useruid`, `uid`): 12 digits. */
  sub: string;
  title: string;
  givenName: string;
  familyName: string;
  email: string;
  /** Professional registrations (`professionalmemberships`). */
  professionalIds?: { gmc_id?: string; nmc_id?: string; gphc_id?: string };
  roles: readonly Cis2Role[];
}

// National RBAC roles (codes in the `S…:G…:R…` form of CIS2's userinfo, CIS2 "Scopes and claims"). The
// activity lists are illustrative (a few of each role's B-coded activities), not the full baselines.
const CLINICAL_PRACTITIONER = {
  roleCode: 'S8000:G8000:R8000',
  roleName: '"Clinical":"Clinical Provision":"Clinical Practitioner Access Role"',
  activities: ['Receive Self Claimed LR Alerts', 'Amend Patient Demographics', 'View Patient Medication'],
  activityCodes: ['B0360', 'B0825', 'B0370'],
};
const NURSE = {
  roleCode: 'S8000:G8000:R8001',
  roleName: '"Clinical":"Clinical Provision":"Nurse Access Role"',
  activities: ['Amend Patient Demographics', 'View Patient Medication'],
  activityCodes: ['B0825', 'B0370'],
};
const HEALTH_PROFESSIONAL = {
  roleCode: 'S8000:G8000:R8003',
  roleName: '"Clinical":"Clinical Provision":"Health Professional Access Role"',
  activities: ['Perform Pharmacy Activities', 'Manage Pharmacy Activities', 'View Patient Medication'],
  activityCodes: ['B0570', 'B0572', 'B0370'],
};
const ADMIN_CLERICAL = {
  roleCode: 'S8001:G8002:R8008',
  roleName: '"Admin & Clerical":"Management - Info":"Admin/Clinical Support Access Role"',
  activities: ['Amend Patient Demographics', 'Manage Pending Registrations'],
  activityCodes: ['B0825', 'B0264'],
};

/**
 * The sandbox CIS2's smartcard users: one with two roles at two organisations (clinical
 * practitioner at a GP practice, admin/clerical at another), a community pharmacist, a nurse.
 * Organisation codes are synthetic (Y12345 is the sandbox PDS patients' GP practice).
 */
export const CIS2_TEST_USERS: readonly Cis2TestUser[] = [
  {
    sub: '555000000001',
    title: 'Dr',
    givenName: 'Alex',
    familyName: 'Carter',
    email: 'alex.carter@example.com',
    professionalIds: { gmc_id: '7000001' },
    roles: [
      {
        personRoleId: '555000000101',
        personOrgId: '555000000201',
        orgCode: 'Y12345',
        orgName: 'SANDBOX GP PRACTICE',
        ...CLINICAL_PRACTITIONER,
      },
      {
        personRoleId: '555000000102',
        personOrgId: '555000000202',
        orgCode: 'Y23456',
        orgName: 'SANDBOX COMMUNITY HEALTH TRUST',
        ...ADMIN_CLERICAL,
      },
    ],
  },
  {
    sub: '555000000002',
    title: 'Mr',
    givenName: 'Sam',
    familyName: 'Patel',
    email: 'sam.patel@example.com',
    professionalIds: { gphc_id: '2000002' },
    roles: [
      {
        personRoleId: '555000000103',
        personOrgId: '555000000203',
        orgCode: 'FA001',
        orgName: 'SANDBOX COMMUNITY PHARMACY',
        ...HEALTH_PROFESSIONAL,
      },
    ],
  },
  {
    sub: '555000000003',
    title: 'Ms',
    givenName: 'Robin',
    familyName: 'Hughes',
    email: 'robin.hughes@example.com',
    professionalIds: { nmc_id: '00A0003E' },
    roles: [
      {
        personRoleId: '555000000104',
        personOrgId: '555000000204',
        orgCode: 'Y12345',
        orgName: 'SANDBOX GP PRACTICE',
        ...NURSE,
      },
    ],
  },
];
