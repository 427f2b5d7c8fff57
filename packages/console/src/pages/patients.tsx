import { Button, Select, Table, Tag, TextInput } from 'nhsuk-react-components';
import { type FormEvent, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { dayProblem, isoDate, partsOf } from '../components/dates';
import { DayInput } from '../components/day-input';
import { ErrorBox, errorProp, FieldErrors } from '../components/error-box';
import { formatDate, formatNhsNumber } from '../components/format';
import { Page } from '../components/page';
import { useApi } from '../components/use-api';
import { type Bundle, genderOf, isRestricted, nameOf, type Patient } from './fhir';

type FieldError = { field: string; message: string };

/** Trace a patient through PDS: by NHS number, or by demographics (a PDS search). */
export default function PatientsPage() {
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const [nhsNumber, setNhsNumber] = useState('');
  const [family, setFamily] = useState(params.get('family') ?? '');
  const [given, setGiven] = useState(params.get('given') ?? '');
  const [gender, setGender] = useState(params.get('gender') ?? '');
  const [dob, setDob] = useState(partsOf(params.get('birthdate')));
  const [errors, setErrors] = useState<FieldError[]>([]);

  const searching = params.get('family') !== null;
  const query = searching
    ? {
        family: params.get('family'),
        given: params.get('given'),
        gender: params.get('gender'),
        birthdate: params.get('birthdate') ? `eq${params.get('birthdate')}` : undefined,
      }
    : undefined;
  const results = useApi<Bundle<Patient>>(searching ? '/fhir/R4/Patient' : null, query);

  const byNumber = (event: FormEvent) => {
    event.preventDefault();
    const n = nhsNumber.replace(/\s+/g, '');
    if (!/^\d{10}$/.test(n)) {
      setErrors([{ field: 'nhs-number', message: 'Enter a 10 digit NHS number, like 999 123 4567' }]);
      return;
    }
    setErrors([]);
    navigate(`/patients/${n}`);
  };

  const byDemographics = (event: FormEvent) => {
    event.preventDefault();
    const found: FieldError[] = [];
    if (family.trim() === '') found.push({ field: 'family', message: 'Enter a last name' });
    // PDS refuses a search without a date of birth (specs/pds patient-search.yaml: every search
    // example carries `birthdate`; the API answers "Missing value - birth_date…" otherwise).
    const dobProblem = dayProblem(dob, 'Date of birth', 'Enter a date of birth');
    if (dobProblem) found.push({ field: 'dob-day', message: dobProblem });
    const birthdate = isoDate(dob);
    setErrors(found);
    if (found.length > 0) return;
    const next = new URLSearchParams({ family: family.trim() });
    if (given.trim() !== '') next.set('given', given.trim());
    if (gender !== '') next.set('gender', gender);
    if (birthdate) next.set('birthdate', birthdate);
    setParams(next);
  };

  const errorOf = (field: string) => errors.find((e) => e.field === field)?.message;
  const patients = (results.data?.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));

  return (
    <Page title="Patients">
      <p className="nhsuk-lede-text">
        Trace a patient on the Personal Demographics Service (PDS). Every look-up is audited.
      </p>
      <FieldErrors errors={errors} />
      <form onSubmit={byNumber} noValidate aria-labelledby="by-number">
        <h2 id="by-number">Find by NHS number</h2>
        <TextInput
          id="nhs-number"
          name="nhsNumber"
          label="NHS number"
          hint="For example, 999 123 4567"
          inputMode="numeric"
          spellCheck={false}
          width={10}
          value={nhsNumber}
          onChange={(e) => setNhsNumber(e.currentTarget.value)}
          {...errorProp(errorOf('nhs-number'))}
        />
        <Button type="submit">Find patient</Button>
      </form>

      <form onSubmit={byDemographics} noValidate aria-labelledby="by-details">
        <h2 id="by-details">Search by details</h2>
        <TextInput
          id="family"
          name="family"
          label="Last name"
          autoComplete="off"
          width={20}
          value={family}
          onChange={(e) => setFamily(e.currentTarget.value)}
          {...errorProp(errorOf('family'))}
        />
        <TextInput
          id="given"
          name="given"
          label="First name (optional)"
          autoComplete="off"
          width={20}
          value={given}
          onChange={(e) => setGiven(e.currentTarget.value)}
        />
        <Select
          id="gender"
          label="Gender (optional)"
          value={gender}
          onChange={(e) => setGender(e.currentTarget.value)}
        >
          <Select.Option value="">Any</Select.Option>
          <Select.Option value="female">Female</Select.Option>
          <Select.Option value="male">Male</Select.Option>
          <Select.Option value="other">Other</Select.Option>
          <Select.Option value="unknown">Unknown</Select.Option>
        </Select>
        <DayInput
          id="dob"
          legend="Date of birth"
          hint="For example, 15 3 1984"
          value={dob}
          onChange={setDob}
          error={errorOf('dob-day')}
        />
        <Button type="submit">Search</Button>
      </form>

      {searching && (
        <section aria-labelledby="results-heading">
          <h2 id="results-heading">Results</h2>
          <ErrorBox error={results.error} />
          {results.loading && (
            <p className="nhsuk-body" role="status">
              Searching…
            </p>
          )}
          {results.data && patients.length === 0 && (
            <p className="nhsuk-body">No patients found. Check the details and try again.</p>
          )}
          {patients.length > 0 && (
            <Table
              responsive
              caption={`${patients.length} ${patients.length === 1 ? 'patient' : 'patients'} found`}
            >
              <Table.Head>
                <Table.Row>
                  <Table.Cell>Name</Table.Cell>
                  <Table.Cell>NHS number</Table.Cell>
                  <Table.Cell>Date of birth</Table.Cell>
                  <Table.Cell>Gender</Table.Cell>
                </Table.Row>
              </Table.Head>
              <Table.Body>
                {patients.map((p) => (
                  <Table.Row key={p.id}>
                    <Table.Cell>
                      <Link to={`/patients/${p.id}`}>{nameOf(p)}</Link>{' '}
                      {isRestricted(p) && <Tag modifier="orange">Restricted</Tag>}
                    </Table.Cell>
                    <Table.Cell className="app-nowrap">{formatNhsNumber(p.id)}</Table.Cell>
                    <Table.Cell>{formatDate(p.birthDate)}</Table.Cell>
                    <Table.Cell>{genderOf(p.gender)}</Table.Cell>
                  </Table.Row>
                ))}
              </Table.Body>
            </Table>
          )}
        </section>
      )}
    </Page>
  );
}
