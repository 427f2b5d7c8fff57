import { SummaryList, Table } from 'nhsuk-react-components';
import { useEffect, useState } from 'react';
import { Link, useParams } from 'react-router';
import { api, type DmdConcept, type DmdConceptRef } from '../api';
import { ErrorBox } from '../components/error-box';
import { formatDate } from '../components/format';
import { Page } from '../components/page';
import { useApi } from '../components/use-api';
import { TypeTag } from './medicines';

/** Order of the dm+d classes from the therapeutic moiety down to packs. */
const LEVEL: Record<string, number> = { VTM: 0, VMP: 1, AMP: 2, VMPP: 2, AMPP: 3 };

/** The chain above a concept (VTM → VMP → AMP), following the first parent of each, up to 3 levels. */
function useAncestors(concept: DmdConcept | undefined): DmdConceptRef[] {
  const [chain, setChain] = useState<DmdConceptRef[]>([]);
  useEffect(() => {
    let cancelled = false;
    setChain([]);
    if (!concept) return;
    void (async () => {
      const found: DmdConceptRef[] = [];
      let parents = concept.parents;
      for (let depth = 0; depth < 3 && parents.length > 0; depth++) {
        const parent = [...parents].sort((a, b) => (LEVEL[b.type] ?? 0) - (LEVEL[a.type] ?? 0))[0];
        if (!parent) break;
        found.unshift(parent);
        try {
          parents = (await api<DmdConcept>(`/medicines/concepts/${parent.id}`)).parents;
        } catch {
          break;
        }
      }
      if (!cancelled) setChain(found);
    })();
    return () => {
      cancelled = true;
    };
  }, [concept]);
  return chain;
}

function scalar(value: unknown): string | undefined {
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'Yes' : 'No';
  return undefined;
}

export default function MedicinePage() {
  const { code = '' } = useParams();
  const concept = useApi<DmdConcept>(`/medicines/concepts/${encodeURIComponent(code)}`);
  const c = concept.data;
  const ancestors = useAncestors(c);
  // The concept's own dm+d row (XSD element names) is under its class, e.g. detail.vmp.
  const row = c?.detail[c.type.toLowerCase()];
  const facts =
    row && typeof row === 'object'
      ? Object.entries(row as Record<string, unknown>).flatMap(([name, value]) => {
          const text = scalar(value);
          return text === undefined ? [] : [[name, text] as const];
        })
      : [];

  return (
    <Page title={c?.name ?? 'Medicine'} {...(c && { caption: `${c.type} ${c.id}` })}>
      <p className="nhsuk-body">
        <Link to="/medicines">Back to medicines search</Link>
      </p>
      <ErrorBox error={concept.error} />
      {c && (
        <>
          <nav aria-label="Product hierarchy">
            <h2>Hierarchy</h2>
            <ol className="nhsuk-list nhsuk-list--number">
              {ancestors.map((a) => (
                <li key={a.id}>
                  <TypeTag type={a.type} /> <Link to={`/medicines/${a.id}`}>{a.name}</Link>
                </li>
              ))}
              <li aria-current="page">
                <TypeTag type={c.type} /> <strong>{c.name}</strong>
              </li>
            </ol>
          </nav>
          {c.children.length > 0 && (
            <Table responsive caption="Below this product (products and packs)">
              <Table.Head>
                <Table.Row>
                  <Table.Cell>Class</Table.Cell>
                  <Table.Cell>Name</Table.Cell>
                </Table.Row>
              </Table.Head>
              <Table.Body>
                {c.children.map((child) => (
                  <Table.Row key={`${child.type}-${child.id}`}>
                    <Table.Cell>
                      <TypeTag type={child.type} />
                    </Table.Cell>
                    <Table.Cell>
                      <Link to={`/medicines/${child.id}`}>{child.name}</Link>
                      {child.invalid && ' (invalid)'}
                    </Table.Cell>
                  </Table.Row>
                ))}
              </Table.Body>
            </Table>
          )}
          <h2>Details</h2>
          <SummaryList>
            {facts.map(([name, text]) => (
              <SummaryList.Row key={name}>
                <SummaryList.Key>{name}</SummaryList.Key>
                <SummaryList.Value>{text}</SummaryList.Value>
              </SummaryList.Row>
            ))}
          </SummaryList>
          <p className="nhsuk-body-s">
            From the dm+d release of {formatDate(c.release.releaseDate)} (matched by {c.matchedBy}).
          </p>
        </>
      )}
    </Page>
  );
}
