import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { button, errorSummary, escapeHtml, insetText, radios } from './html.js';

// The sign-in pages' components against the HTML nhsuk-frontend's own Nunjucks macros render: the
// package ships each component's examples with their rendered markup
// (dist/nhsuk/components/<name>/fixtures.json).
const components = join(
  dirname(createRequire(import.meta.url).resolve('nhsuk-frontend/package.json')),
  'dist/nhsuk/components',
);

interface Fixture {
  name: string;
  // biome-ignore lint/suspicious/noExplicitAny: each component's macro options, as nhsuk-frontend documents them
  context: any;
  html: string;
}

async function fixture(component: string, name: string, pick: (f: Fixture) => boolean = () => true) {
  const { fixtures } = JSON.parse(await readFile(join(components, component, 'fixtures.json'), 'utf8')) as {
    fixtures: Fixture[];
  };
  const found = fixtures.find((f) => f.name === name && pick(f));
  if (!found) throw new Error(`nhsuk-frontend has no ${component} fixture '${name}'`);
  return found;
}

/** Markup compared as a browser reads it: whitespace between tags and around text does not count. */
const normalised = (html: string) =>
  html
    .replace(/\s+/g, ' ')
    .replace(/\s*(<[^>]+>)\s*/g, '$1')
    .trim();

describe('sign-in page components render as nhsuk-frontend 10 does', () => {
  for (const name of ['with error message and hint', 'with hints on items', 'with hint']) {
    it(`radios: ${name}`, async () => {
      // The size-l variant: the sign-in pages' radios have their legend as the page's h1.
      const f = await fixture('radios', name, (f) => !f.context.small);
      const { context } = f;
      const ours = radios({
        name: context.name,
        idPrefix: context.idPrefix,
        legend: context.fieldset.legend.heading,
        ...(context.hint && { hint: context.hint.text }),
        ...(context.errorMessage && { error: context.errorMessage.text }),
        items: context.items.map((item: { value: string; text: string; hint?: { text: string } }) => ({
          value: item.value,
          text: item.text,
          ...(item.hint && { hint: [item.hint.text] }),
        })),
      });
      expect(normalised(ours)).toBe(normalised(f.html));
    });
  }

  it('error summary', async () => {
    const f = await fixture('error-summary', 'with multiple errors');
    const ours = errorSummary(
      f.context.errorList.map((e: { href: string; text: string }) => ({
        href: e.href.slice(1),
        text: e.text,
      })),
    );
    // What the design system's script would add on load (focus on the summary), done by autofocus.
    expect(ours).toContain(' tabindex="-1" autofocus');
    expect(normalised(ours.replace(' tabindex="-1" autofocus', ''))).toBe(normalised(f.html));
  });

  it('inset text', async () => {
    const f = await fixture('inset-text', 'default');
    expect(normalised(insetText(f.context.text))).toBe(normalised(f.html));
  });

  it('button', async () => {
    const f = await fixture('button', 'default');
    expect(normalised(button(f.context.text))).toBe(normalised(f.html));
  });

  it('escapes text and attribute values', () => {
    expect(escapeHtml(`<a href="x" title='y'>&`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;');
    const html = radios({
      name: 'user',
      idPrefix: 'user',
      legend: '<h1>',
      items: [{ value: '"><script>', text: '<b>bold</b>', hint: ['a & b'] }],
    });
    expect(html).not.toMatch(/<script|<b>|"><|<h1><\/h1>/);
    expect(html).toContain('value="&quot;&gt;&lt;script&gt;"');
    expect(html).toContain('a &amp; b');
  });
});
