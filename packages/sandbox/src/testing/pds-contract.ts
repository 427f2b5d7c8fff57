import $RefParser from '@apidevtools/json-schema-ref-parser';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsPlugin from 'ajv-formats';
import { parse as parseYaml } from 'yaml';
import { referencePath } from './reference.js';

// ajv-formats is CommonJS; under NodeNext its default import is typed as the module namespace.
const addFormats = addFormatsPlugin as unknown as typeof addFormatsPlugin.default;

/**
 * NHS's published PDS OpenAPI spec (NHSDigital/personal-demographics-service-api), vendored with
 * the components its `$ref`s reach: reference/specs/pds/specification/personal-demographics.yaml.
 */
const PDS_SPEC_PATH = referencePath('specs/pds/specification/personal-demographics.yaml');

type HttpMethod = 'get' | 'post' | 'patch' | 'put' | 'delete';

interface OpenApiSchema {
  [keyword: string]: unknown;
}
interface OpenApiHeader {
  required?: boolean;
  schema?: OpenApiSchema;
}
interface OpenApiResponse {
  headers?: Record<string, OpenApiHeader>;
  content?: Record<string, { schema?: OpenApiSchema }>;
}
interface OpenApiDocument {
  paths: Record<string, Partial<Record<HttpMethod, { responses?: Record<string, OpenApiResponse> }>>>;
  components?: { schemas?: Record<string, OpenApiSchema> };
}

/** A contract failure, in ajv's shape, with `instancePath` into the body or the header named. */
export type ContractError = Pick<ErrorObject, 'instancePath' | 'message'> & Partial<ErrorObject>;

export interface PdsContract {
  /**
   * Validates a response body against the spec's schema for that operation and status, falling
   * back as OpenAPI does: exact status, then its range (`4XX`), then `default`. Returns the errors
   * (empty when the body conforms); throws if the spec documents no such response, since a test
   * asking about one is itself wrong.
   * @example expect(contract.validateResponse('get', '/Patient/{id}', 200, res.json())).toEqual([])
   */
  validateResponse(method: string, pathTemplate: string, status: number, body: unknown): ContractError[];
  /**
   * Validates the response headers the spec documents for that response: each one present must
   * match its schema, and each the caller expects (or the spec marks `required`) must be present.
   */
  validateResponseHeaders(
    method: string,
    pathTemplate: string,
    status: number,
    headers: Record<string, unknown>,
    expected?: string[],
  ): ContractError[];
  /**
   * Validates a body against one of the spec's `components/schemas` (e.g. `OperationOutcome`), for
   * answers the spec describes in prose rather than by schema, such as search's 200 TOO_MANY_MATCHES.
   */
  validateSchema(name: string, body: unknown): ContractError[];
  /** The names of the headers the spec documents for that response, lower-cased. */
  documentedHeaders(method: string, pathTemplate: string, status: number): string[];
}

// The spec's YAML goes through the `yaml` package (YAML 1.2 core schema: dates such as
// 2010-10-22 stay strings, as JSON would have them).
const yamlParser = {
  order: 100,
  canParse: /\.ya?ml$/i,
  parse: (file: { data: Buffer | string }) =>
    parseYaml(typeof file.data === 'string' ? file.data : file.data.toString('utf8')),
};

let loading: Promise<PdsContract> | undefined;

/** Loads and dereferences the spec once per test process, and compiles each schema once on first use. */
export function loadPdsContract(): Promise<PdsContract> {
  loading ??= load();
  return loading;
}

async function load(): Promise<PdsContract> {
  const parser = new $RefParser();
  const spec = (await parser.dereference(PDS_SPEC_PATH, {
    parse: { yaml: yamlParser },
    // A cyclic schema would send ajv round in circles on a dereferenced object.
    dereference: { circular: false },
  })) as unknown as OpenApiDocument;

  // OpenAPI 3.0 schemas are a JSON Schema dialect: `example`, `nullable` and friends are not
  // JSON Schema keywords, so strict mode is off; `nullable` itself ajv understands natively.
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  // Formats the spec names that are not JSON Schema's own spellings.
  ajv.addFormat('url', ajv.formats.uri as never);
  ajv.addFormat('datetime', ajv.formats['date-time'] as never);
  ajv.addFormat('jsonpointer', ajv.formats['json-pointer'] as never);

  const compiled = new Map<string, ValidateFunction>();
  const compile = (key: string, schema: OpenApiSchema) => {
    let validate = compiled.get(key);
    if (!validate) {
      validate = ajv.compile(schema);
      compiled.set(key, validate);
    }
    return validate;
  };

  const responseOf = (method: string, pathTemplate: string, status: number) => {
    const operation = spec.paths[pathTemplate]?.[method.toLowerCase() as HttpMethod];
    if (!operation) throw new Error(`The PDS spec has no operation ${method.toUpperCase()} ${pathTemplate}`);
    const responses = operation.responses ?? {};
    const key = [String(status), `${String(status).charAt(0)}XX`, 'default'].find((k) => k in responses);
    const response = key === undefined ? undefined : responses[key];
    if (!response || key === undefined) {
      throw new Error(`The PDS spec documents no ${status} for ${method.toUpperCase()} ${pathTemplate}`);
    }
    return { key: `${method.toUpperCase()} ${pathTemplate} ${key}`, response };
  };

  const headersOf = (method: string, pathTemplate: string, status: number) =>
    Object.entries(responseOf(method, pathTemplate, status).response.headers ?? {}).map(
      ([name, header]) => [name.toLowerCase(), header] as const,
    );

  return {
    validateResponse(method, pathTemplate, status, body) {
      const { key, response } = responseOf(method, pathTemplate, status);
      const schema = response.content?.['application/fhir+json']?.schema;
      if (!schema) throw new Error(`The PDS spec gives no application/fhir+json schema for ${key}`);
      const validate = compile(key, schema);
      return validate(body) ? [] : [...(validate.errors ?? [])];
    },

    validateResponseHeaders(method, pathTemplate, status, headers, expected = []) {
      const errors: ContractError[] = [];
      const documented = headersOf(method, pathTemplate, status);
      for (const name of expected) {
        if (!documented.some(([n]) => n === name.toLowerCase())) {
          errors.push({ instancePath: `headers/${name}`, message: 'is not documented for this response' });
        }
      }
      for (const [name, header] of documented) {
        const value = headers[name];
        if (value === undefined) {
          if (header.required || expected.some((e) => e.toLowerCase() === name)) {
            errors.push({ instancePath: `headers/${name}`, message: 'is missing' });
          }
          continue;
        }
        if (!header.schema) continue;
        const validate = compile(
          `${method.toUpperCase()} ${pathTemplate} ${status} header ${name}`,
          header.schema,
        );
        if (!validate(value)) {
          for (const error of validate.errors ?? []) {
            errors.push({ ...error, instancePath: `headers/${name}${error.instancePath}` });
          }
        }
      }
      return errors;
    },

    validateSchema(name, body) {
      const schema = spec.components?.schemas?.[name];
      if (!schema) throw new Error(`The PDS spec has no components/schemas/${name}`);
      const validate = compile(`#/components/schemas/${name}`, schema);
      return validate(body) ? [] : [...(validate.errors ?? [])];
    },

    documentedHeaders(method, pathTemplate, status) {
      return headersOf(method, pathTemplate, status).map(([name]) => name);
    },
  };
}
