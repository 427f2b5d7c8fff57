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
 * or a directory laid out like NHS's sandbox `store/data` (github.com/NHSDigital/mesh-sandbox
 * `src/mesh_sandbox/store/canned_store.py`): `mailboxes.jsonl`, `workflows.jsonl`, and optionally
 * `mailboxes/<id>/in/<message>.json` with the chunk files in `<message>/<n>`. So NHS's files load as
 * they are, e.g. mesh-client's `tests/` folder, which holds its `mailboxes.jsonl` and `workflows.jsonl`.
 * Ids are normalised as NHS's sandbox does (`models/mailbox.py`, `models/workflow.py`); `sharedKey`
 * falls back to `TestKey`, the `SHARED_KEY` NHS's sandbox runs with. A file that cannot be read or
 * parsed throws an Error naming the file (and line).
 */
export async function loadMeshSeed(path: string): Promise<MeshSeed> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw new Error(
      `MESH seed ${path}: ${error.code === 'ENOENT' ? 'no such file or directory' : error.message}`,
    );
  });
  if (!info.isDirectory()) {
    const parsed = parseJson(await readFile(path, 'utf8'), path) as Partial<MeshSeed>;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new Error(`MESH seed ${path}: expected a JSON object with mailboxes and workflows`);
    }
    return normaliseSeed({ sharedKey: 'TestKey', mailboxes: [], workflows: [], ...parsed }, path);
  }
  const jsonl = async <T>(file: string): Promise<T[]> => {
    const text = await readFile(join(path, file), 'utf8').catch(() => '');
    return text
      .split('\n')
      .map((line, index) => ({ line, index }))
      .filter(({ line }) => line.trim())
      .map(({ line, index }) => parseJson(line, `${join(path, file)} line ${index + 1}`) as T);
  };
  const messages: NonNullable<MeshSeed['messages']> = [];
  const mailboxesDir = join(path, 'mailboxes');
  for (const mailbox of await readdir(mailboxesDir).catch(() => [] as string[])) {
    const inDir = join(mailboxesDir, mailbox, 'in');
    for (const file of await readdir(inDir).catch(() => [] as string[])) {
      if (!file.endsWith('.json')) continue;
      const messageFile = join(inDir, file);
      const message = parseJson(await readFile(messageFile, 'utf8'), messageFile) as MeshMessage;
      const chunks: { base64: string }[] = [];
      for (let n = 1; n <= message.total_chunks; n++) {
        const chunkFile = join(inDir, message.message_id, String(n));
        const bytes = await readFile(chunkFile).catch(() => {
          throw new Error(`MESH seed ${messageFile}: chunk ${n} missing (${chunkFile})`);
        });
        chunks.push({ base64: bytes.toString('base64') });
      }
      messages.push({ ...message, chunks });
    }
  }
  const mailboxes = await jsonl<MeshMailbox>('mailboxes.jsonl');
  const workflows = await jsonl<MeshWorkflow>('workflows.jsonl');
  if (mailboxes.length === 0 && workflows.length === 0 && messages.length === 0) {
    throw new Error(`MESH seed ${path}: no mailboxes.jsonl, workflows.jsonl or mailboxes/ in this directory`);
  }
  return normaliseSeed({ sharedKey: 'TestKey', mailboxes, workflows, messages }, path);
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`MESH seed ${where}: ${(error as Error).message}`);
  }
}

/**
 * Checks a seed and applies NHS's sandbox's defaults: a mailbox's id upper-case, `password`,
 * `ods_code` and `org_code` empty when absent; a workflow's id trimmed, its senders and receivers
 * trimmed, upper-case, empty ones dropped.
 */
function normaliseSeed(seed: MeshSeed, path: string): MeshSeed {
  if (!Array.isArray(seed.mailboxes) || !Array.isArray(seed.workflows)) {
    throw new Error(`MESH seed ${path}: mailboxes and workflows must be arrays`);
  }
  const ids = (list: unknown) =>
    (Array.isArray(list) ? list : [])
      .map((id) =>
        String(id ?? '')
          .trim()
          .toUpperCase(),
      )
      .filter((id) => id !== '');
  const mailboxes = seed.mailboxes.map((mailbox): MeshMailbox => {
    if (!mailbox || typeof mailbox.mailbox_id !== 'string' || !mailbox.mailbox_id.trim()) {
      throw new Error(`MESH seed ${path}: every mailbox needs a mailbox_id`);
    }
    return {
      ...mailbox,
      mailbox_id: mailbox.mailbox_id.trim().toUpperCase(),
      mailbox_name: mailbox.mailbox_name ?? '',
      password: mailbox.password ?? '',
      ods_code: mailbox.ods_code ?? '',
      org_code: mailbox.org_code ?? '',
    };
  });
  const workflows = seed.workflows.map((workflow): MeshWorkflow => {
    if (!workflow || typeof workflow.workflow_id !== 'string' || !workflow.workflow_id.trim()) {
      throw new Error(`MESH seed ${path}: every workflow needs a workflow_id`);
    }
    return {
      workflow_id: workflow.workflow_id.trim(),
      senders: ids(workflow.senders),
      receivers: ids(workflow.receivers),
    };
  });
  return { ...seed, mailboxes, workflows };
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
