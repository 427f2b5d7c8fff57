import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { MeshMailbox, MeshMessage, MeshSeed, MeshWorkflow } from './model.js';
import defaultSeed from './seed/mesh-sandbox.json' with { type: 'json' };

/** GP Connect Send Document (CONTRACTS.md §4): the ITK3 consultation report travels on this workflow. */
export const GP_CONSULT_REPORT_WORKFLOW = 'GPFED_CONSULT_REPORT';
/** Its acknowledgements, named by the `_ACK` convention MESH workflows use (as TEST_WORKFLOW_ACK). */
export const GP_CONSULT_REPORT_ACK_WORKFLOW = 'GPFED_CONSULT_REPORT_ACK';

/**
 * NHS's own MESH sandbox seed (mailboxes X26ABC1–3 with password `password`, shared key `TestKey`,
 * workflows TEST_WORKFLOW, TEST_WORKFLOW_ACK, TEST_WORKFLOW2 and the canned inbox messages
 * SIMPLE_MESSAGE, UNDELIVERED_MESSAGE, CHUNKED_MESSAGE_GZ); see seed/SOURCES.md.
 */
export function defaultMeshSeed(): MeshSeed {
  return structuredClone(defaultSeed) as MeshSeed;
}

/**
 * Reads a seed a user supplies: a JSON file shaped like `MeshSeed` (`seed/mesh-sandbox.json` is one),
 * or a directory laid out like NHS's sandbox `store/data` (`mailboxes.jsonl`, `workflows.jsonl`,
 * `mailboxes/<id>/in/<message>.json` with the chunk files in `<message>/<n>`). `sharedKey` falls
 * back to `TestKey` when the seed has none.
 */
export async function loadMeshSeed(path: string): Promise<MeshSeed> {
  const info = await stat(path);
  if (!info.isDirectory()) {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<MeshSeed>;
    return checkSeed({ sharedKey: 'TestKey', mailboxes: [], workflows: [], ...parsed }, path);
  }
  const jsonl = async <T>(file: string): Promise<T[]> => {
    const text = await readFile(join(path, file), 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter((line) => line.trim())
      .map((line) => JSON.parse(line) as T);
  };
  const messages: NonNullable<MeshSeed['messages']> = [];
  const mailboxesDir = join(path, 'mailboxes');
  for (const mailbox of await readdir(mailboxesDir).catch(() => [] as string[])) {
    const inDir = join(mailboxesDir, mailbox, 'in');
    for (const file of await readdir(inDir).catch(() => [] as string[])) {
      if (!file.endsWith('.json')) continue;
      const message = JSON.parse(await readFile(join(inDir, file), 'utf8')) as MeshMessage;
      const chunks: { base64: string }[] = [];
      for (let n = 1; n <= message.total_chunks; n++) {
        chunks.push({
          base64: (await readFile(join(inDir, message.message_id, String(n)))).toString('base64'),
        });
      }
      messages.push({ ...message, chunks });
    }
  }
  return checkSeed(
    {
      sharedKey: 'TestKey',
      mailboxes: await jsonl<MeshMailbox>('mailboxes.jsonl'),
      workflows: await jsonl<MeshWorkflow>('workflows.jsonl'),
      messages,
    },
    path,
  );
}

function checkSeed(seed: MeshSeed, path: string): MeshSeed {
  for (const mailbox of seed.mailboxes) {
    if (!mailbox.mailbox_id || typeof mailbox.password !== 'string') {
      throw new Error(`MESH seed ${path}: every mailbox needs mailbox_id and password`);
    }
  }
  for (const workflow of seed.workflows) {
    if (!workflow.workflow_id || !Array.isArray(workflow.senders) || !Array.isArray(workflow.receivers)) {
      throw new Error(`MESH seed ${path}: every workflow needs workflow_id, senders and receivers`);
    }
  }
  return seed;
}

/** The mailbox id the sandbox gives a GP practice: its ODS code + `HC001` (MESH ids look like `X26HC005`). */
export function gpMailboxId(odsCode: string): string {
  return `${odsCode.toUpperCase()}HC001`;
}

/**
 * Adds a MESH mailbox for each GP practice (ODS code) and registers them for the GP Connect Send
 * Document workflows: every other mailbox may send `GPFED_CONSULT_REPORT` to a practice, and a
 * practice may send `GPFED_CONSULT_REPORT_ACK` back. So `endpointlookup/{ods}/GPFED_CONSULT_REPORT`
 * finds a practice's mailbox. Existing mailboxes and workflows of the seed are kept as they are.
 */
export function withGpPracticeMailboxes(seed: MeshSeed, odsCodes: Iterable<string>): MeshSeed {
  const known = new Set(seed.mailboxes.map((m) => m.mailbox_id.toUpperCase()));
  const practices: MeshMailbox[] = [];
  for (const ods of new Set([...odsCodes].map((code) => code.toUpperCase()))) {
    const id = gpMailboxId(ods);
    if (known.has(id)) continue;
    known.add(id);
    practices.push({
      mailbox_id: id,
      mailbox_name: `GP practice ${ods}`,
      password: 'password',
      ods_code: ods,
      org_code: ods,
      org_name: `GP practice ${ods}`,
      billing_entity: 'England',
    });
  }
  const others = seed.mailboxes.map((m) => m.mailbox_id.toUpperCase());
  const practiceIds = practices.map((m) => m.mailbox_id);
  const extend = (id: string, senders: string[], receivers: string[]): MeshWorkflow => {
    const existing = seed.workflows.find((w) => w.workflow_id === id);
    return {
      workflow_id: id,
      senders: [...new Set([...(existing?.senders ?? []), ...senders])],
      receivers: [...new Set([...(existing?.receivers ?? []), ...receivers])],
    };
  };
  const workflows = seed.workflows.filter(
    (w) => w.workflow_id !== GP_CONSULT_REPORT_WORKFLOW && w.workflow_id !== GP_CONSULT_REPORT_ACK_WORKFLOW,
  );
  return {
    ...seed,
    mailboxes: [...seed.mailboxes, ...practices],
    workflows: [
      ...workflows,
      extend(GP_CONSULT_REPORT_WORKFLOW, others, practiceIds),
      extend(GP_CONSULT_REPORT_ACK_WORKFLOW, practiceIds, others),
    ],
  };
}
