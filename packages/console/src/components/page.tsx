import { type ReactNode, useEffect, useRef } from 'react';
import { useLocation } from 'react-router';

let firstPage = true;

/**
 * One page of the console: its `<main>` landmark (the skip link's target) and its one `h1`. After a
 * client-side navigation, focus moves to the h1 so screen readers announce the new page (WCAG
 * 2.4.3); the document title follows the heading.
 */
export function Page({ title, children, caption }: { title: string; caption?: string; children: ReactNode }) {
  const heading = useRef<HTMLHeadingElement>(null);
  const { pathname } = useLocation();
  useEffect(() => {
    document.title = `${title} – Junction console`;
  }, [title]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: focus moves on every new path
  useEffect(() => {
    if (firstPage) {
      firstPage = false;
      return;
    }
    heading.current?.focus();
  }, [pathname]);
  return (
    <main className="nhsuk-main-wrapper" id="maincontent">
      <h1 tabIndex={-1} ref={heading}>
        {caption && <span className="nhsuk-caption-l">{caption}</span>}
        {title}
      </h1>
      {children}
    </main>
  );
}
