/** The JSON-schema validator's options: strict, and formats that match what PostgreSQL accepts. */
/**
 * A UUID as ids are written: 8-4-4-4-12 hex digits. ajv-formats' `uuid` also takes a `urn:uuid:`
 * prefix, which PostgreSQL's uuid type refuses: such an id passed validation and failed in SQL
 * (500). The app's validator uses this stricter form instead.
 */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * RFC 3339 (ajv-formats' check) and also a time JavaScript and PostgreSQL can hold: ajv-formats
 * takes a leap second (`…T23:59:60Z`, which `new Date` cannot parse) and years 0000 or past 9999
 * after the offset (which PostgreSQL refuses); each of those was a 500.
 */
function representableDateTime(rfc3339: (text: string) => boolean): (text: string) => boolean {
  return (text) => {
    if (!rfc3339(text)) return false;
    const ms = Date.parse(text);
    if (!Number.isFinite(ms)) return false;
    const year = new Date(ms).getUTCFullYear();
    return year >= 1 && year <= 9999;
  };
}

interface AjvInstance {
  addFormat(name: string, format: RegExp | ((text: string) => boolean)): unknown;
  readonly formats: Record<string, unknown>;
}

/** ajv-formats' own check for a format, as a function (it is stored as a definition object). */
function formatCheck(ajv: AjvInstance, name: string): (text: string) => boolean {
  const format = ajv.formats[name];
  if (typeof format === 'function') return format as (text: string) => boolean;
  if (format instanceof RegExp) return (text) => format.test(text);
  const validate = (format as { validate?: unknown } | undefined)?.validate;
  if (typeof validate === 'function') return validate as (text: string) => boolean;
  if (validate instanceof RegExp) return (text) => validate.test(text);
  throw new Error(`no ${name} format to build on`);
}

/**
 * The validator's options; exported so that tests judge a generated request exactly as the app
 * does. Strict validation: unknown fields are errors (not silently dropped), no type coercion.
 * `onCreate` runs after ajv-formats is added, so these definitions replace its own.
 */
export const AJV_OPTIONS = {
  customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false },
  onCreate: (ajv: AjvInstance) => {
    ajv.addFormat('uuid', UUID_PATTERN);
    ajv.addFormat('date-time', representableDateTime(formatCheck(ajv, 'date-time')));
  },
} as const;
