// Checks for the parsers of messages that arrive as plain data (IPC, the control socket): each
// reads one field and throws a FieldError naming it; the parser turns that into its own error.

export type Fields = Record<string, unknown>;

export class FieldError extends Error {
  override readonly name = 'FieldError';
}

/** An object with a string-ish discriminant under `key` ("type", "command"). */
export function objectWith(value: unknown, key: string): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !(key in value)) {
    throw new FieldError(`expected an object with a ${key}, got ${describe(value)}`);
  }
  return value as Fields;
}

/** Reads one field, checked: `f('served', isCount, 'a count')`. */
export type FieldReader = <T>(key: string, check: (v: unknown) => v is T, expected: string) => T;

/** The fields of `message`; `kind` names it in errors ("stats", "status.rows"). */
export function fieldsOf(message: Fields, kind: string): FieldReader {
  return <T>(key: string, check: (v: unknown) => v is T, expected: string): T => {
    const value = message[key];
    if (!check(value)) throw new FieldError(`${kind}.${key}: expected ${expected}, got ${describe(value)}`);
    return value;
  };
}

export const isString = (v: unknown): v is string => typeof v === 'string';
export const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
export const isInteger = (v: unknown): v is number => Number.isSafeInteger(v);
export const isNonNegative = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
export const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';
export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
export const isStringOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';
export const isCountOrNull = (v: unknown): v is number | null => v === null || isCount(v);
export const isNonNegativeOrNull = (v: unknown): v is number | null => v === null || isNonNegative(v);

export function oneOf<const T extends string>(choices: readonly T[]): (v: unknown) => v is T {
  return (v): v is T => choices.includes(v as T);
}

/** An array of exactly `length` counts. */
export function countsOf(length: number): (v: unknown) => v is number[] {
  return (v): v is number[] => Array.isArray(v) && v.length === length && v.every(isCount);
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}
