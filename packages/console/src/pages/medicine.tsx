import { SummaryList, Table } from 'nhsuk-react-components';
import { useEffect, useState } from 'react';
import { Link, useParams } from 'react-router';
import { api, type DmdConcept, type DmdConceptRef } from '../api';
import { ErrorBox } from '../components/error-box';
import { formatDate, SECONDARY_LINE } from '../components/format';
import { Page } from '../components/page';
import { useApi } from '../components/use-api';
import { dmdFacts } from './dmd-fields';
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

/** " (Supplier Ltd)" after an AMP's name; nothing when there is none or the name says it (AMPP names do). */
function supplierAfter(ref: { name: string; supplier?: string }): string {
  return ref.supplier && !ref.name.includes(ref.supplier) ? ` (${ref.supplier})` : '';
}

export default function MedicinePage() {
  const { code = '' } = useParams();
  const concept = useApi<DmdConcept>(`/medicines/concepts/${encodeURIComponent(code)}`);
  const c = concept.data;
  const ancestors = useAncestors(c);
  const facts = c ? dmdFacts(c) : [];
  // Only AMPs and AMPPs have a supplier: the column is shown when one of the children is one.
  const withSupplier = c?.children.some((child) => child.type === 'AMP' || child.type === 'AMPP') ?? false;

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
                  {supplierAfter(a)}
                </li>
              ))}
              <li aria-current="page">
                <TypeTag type={c.type} /> <strong>{c.name}</strong>
                {supplierAfter(c)}
              </li>
            </ol>
          </nav>
          {c.children.length > 0 && (
            <Table responsive caption="Below this product (products and packs)">
              <Table.Head>
                <Table.Row>
                  <Table.Cell>Class</Table.Cell>
                  <Table.Cell>Name</Table.Cell>
                  {withSupplier && <Table.Cell>Supplier</Table.Cell>}
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
                    {withSupplier && <Table.Cell>{child.supplier ?? '—'}</Table.Cell>}
                  </Table.Row>
                ))}
              </Table.Body>
            </Table>
          )}
          <h2>Details</h2>
          <SummaryList>
            {facts.map((f) => (
              <SummaryList.Row key={f.element}>
                <SummaryList.Key>
                  {f.label}
                  {/* The XSD element name, for engineers reading the hub's JSON or the release files. */}
                  <span className={SECONDARY_LINE}>{f.element}</span>
                </SummaryList.Key>
                <SummaryList.Value>
                  {f.link ? <Link to={`/medicines/${f.link.id}`}>{f.link.name}</Link> : f.text}
                  {(f.code !== undefined || f.link) && (
                    <span className={SECONDARY_LINE}>{f.code ?? f.link?.id}</span>
                  )}
                </SummaryList.Value>
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
