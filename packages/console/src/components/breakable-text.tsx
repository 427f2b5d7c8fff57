import { Fragment } from 'react';

/** A URL's scheme and authority (`https://host:port/`): one piece, so a host is never split. */
const URL_ORIGIN = /^[a-z][a-z\d+.-]*:\/\/[^/?#]*\/?/i;

/**
 * A machine value split where a line may break: after each `.`, `/`, `-` or `_` (a run of them
 * stays together), except inside a URL's `scheme://host:port/`. Ids (UUIDs, correlation ids, MESH
 * message ids such as `20200529155357895317_3573F8`), URLs and dotted names
 * (`settings.mailbox.change`) then wrap at their own joints, never mid-word where a joint would do.
 */
export function breakParts(text: string): string[] {
  const origin = URL_ORIGIN.exec(text)?.[0] ?? '';
  const rest = text.slice(origin.length);
  const parts = rest === '' ? [] : rest.split(/(?<=[./_-])(?![./_-])/);
  return origin === '' ? (parts.length === 0 ? [''] : parts) : [origin, ...parts];
}

/**
 * A machine value (id, URL, action or job kind) that wraps after its separators, with `<wbr>`, and
 * mid-part only when one part alone is wider than its column. `code` for names people type or read
 * as code (policy actions, job kinds).
 */
export function BreakableText({
  text,
  code = false,
  className,
}: {
  text: string;
  code?: boolean;
  className?: string;
}) {
  const Element = code ? 'code' : 'span';
  return (
    <Element className={className ? `app-breakable ${className}` : 'app-breakable'}>
      {breakParts(text).map((part, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: the parts of one fixed string, in order
        <Fragment key={i}>
          {i > 0 && <wbr />}
          {part}
        </Fragment>
      ))}
    </Element>
  );
}
