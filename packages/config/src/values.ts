// Value parsers for settings: each turns a raw value (CLI or env text, or a config-file value)
// into a typed one, or says what it expected. Runs in the master and in workers.
import { usableCpus } from './machine-limits.js';

export type Parsed<T> = { ok: true; value: T } | { ok: false; expected: string };

export interface ValueType<T, Input = T> {
  /** What a person writes, for help and errors: `<n|auto>`. */
  readonly placeholder: string;
  /** One phrase for errors and the reference: `a positive integer or "auto"`. */
  readonly expected: string;
  readonly parse: (raw: unknown) => Parsed<T>;
  /**
   * How a value is shown where JSON would mislead (file modes: octal). A method, so that a
   * ValueType<number> still counts as a ValueType<unknown>.
   */
  format?(value: T): string;
  /** Only for the type checker: the shape a config file may give. */
  readonly input?: Input;
}

/** A value as help, SETTINGS.md and `bicorn check` show it: its type's format, else JSON. */
export function formatValue<T>(type: ValueType<T, unknown>, value: T): string {
  return type.format?.(value) ?? JSON.stringify(value);
}

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(expected: string): Parsed<T> => ({ ok: false, expected });

export function integer(min: number, placeholder = '<n>', max = Number.MAX_SAFE_INTEGER): ValueType<number> {
  const expected = max !== Number.MAX_SAFE_INTEGER ? `a whole number from ${String(min)} to ${String(max)}` : `a whole number >= ${String(min)}`;
  return {
    placeholder,
    expected,
    parse: (raw) => {
      const n = typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : raw;
      return typeof n === 'number' && Number.isSafeInteger(n) && n >= min && n <= max ? ok(n) : fail(expected);
    },
  };
}

export const workerCount: ValueType<number, number | 'auto'> = {
  placeholder: '<n|auto>',
  expected: 'a positive integer or "auto"',
  parse: (raw) => {
    if (raw === 'auto') return ok(availableCpus());
    const parsed = integer(1).parse(raw);
    return parsed.ok ? parsed : fail(workerCount.expected);
  },
};

/** One worker per CPU bicorn may use: under a container's CPU limit (a cgroup quota), its whole CPUs, at least one. */
function availableCpus(): number {
  return Math.max(1, Math.floor(usableCpus().value));
}

const durationUnits: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };

/** Seconds, as a number or text with a unit: 30, "30", "500ms", "2m". */
export const duration: ValueType<number, number | string> = {
  placeholder: '<seconds>',
  expected: 'a duration in seconds (30, 2.5) or with a unit (500ms, 30s, 2m)',
  parse: (raw) => {
    if (typeof raw === 'number') return Number.isFinite(raw) && raw >= 0 ? ok(raw) : fail(duration.expected);
    if (typeof raw !== 'string') return fail(duration.expected);
    const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(raw);
    const amount = match?.[1];
    if (amount === undefined) return fail(duration.expected);
    return ok(Number(amount) * (durationUnits[match?.[2] ?? 's'] ?? 1));
  },
};

export const flag: ValueType<boolean> = {
  placeholder: '',
  expected: 'true or false',
  parse: (raw) => {
    if (typeof raw === 'boolean') return ok(raw);
    if (typeof raw === 'string') {
      const text = raw.trim().toLowerCase();
      // click's words too, for UVICORN_* variables.
      if (['1', 'true', 't', 'yes', 'y', 'on'].includes(text)) return ok(true);
      if (['0', 'false', 'f', 'no', 'n', 'off', ''].includes(text)) return ok(false);
    }
    return fail(flag.expected);
  },
};

export function choice<const C extends string>(choices: readonly C[]): ValueType<C> {
  const expected = `one of ${choices.map((c) => `"${c}"`).join(', ')}`;
  return {
    placeholder: `<${choices.join('|')}>`,
    expected,
    parse: (raw) => {
      const found = choices.find((c) => c === raw);
      return found === undefined ? fail(expected) : ok(found);
    },
  };
}

/**
 * A choice that takes any case, and other tools' names for the same values: log levels are
 * gunicorn's and uvicorn's (`warning`, `critical`) as well as bicorn's, written as they like.
 */
export function choiceWithAliases<const C extends string>(choices: readonly C[], aliases: Readonly<Record<string, C>>): ValueType<C> {
  const named = choice(choices);
  const expected = `${named.expected} (any case; or ${Object.keys(aliases).map((a) => `"${a}"`).join(', ')})`;
  return {
    placeholder: named.placeholder,
    expected,
    parse: (raw) => {
      if (typeof raw !== 'string') return fail(expected);
      const name = raw.trim().toLowerCase();
      const found = choices.find((c) => c === name) ?? (Object.hasOwn(aliases, name) ? aliases[name] : undefined);
      return found === undefined ? fail(expected) : ok(found);
    },
  };
}

/** Header names and the like: any case in, the choice as declared out. */
export function choiceIgnoringCase<const C extends string>(choices: readonly C[], placeholder: string): ValueType<C> {
  const exact = choice(choices);
  return {
    ...exact,
    placeholder,
    parse: (raw) => exact.parse(typeof raw === 'string' ? choices.find((c) => c.toLowerCase() === raw.toLowerCase()) : raw),
  };
}

/**
 * A choice whose flag may come without a value (`--proxy-protocol`): that, or true in a
 * config file or the environment, means `bare`; false means the first choice.
 */
export function choiceOrBare<const C extends string>(choices: readonly [C, ...C[]], bare: C): ValueType<C, C | boolean> {
  const named = choice(choices);
  const expected = `${named.expected}, true (${bare}) or false (${choices[0]})`;
  return {
    placeholder: `[${choices.join('|')}]`,
    expected,
    parse: (raw) => {
      const parsed = named.parse(raw);
      if (parsed.ok) return parsed;
      const given = flag.parse(raw);
      if (!given.ok) return fail(expected);
      return ok(given.value ? bare : choices[0]);
    },
  };
}

export function text(placeholder: string, check?: (value: string) => string | undefined): ValueType<string> {
  const expected = 'a non-empty string';
  return {
    placeholder,
    expected,
    parse: (raw) => {
      if (typeof raw !== 'string' || raw.trim() === '') return fail(expected);
      const problem = check?.(raw);
      return problem === undefined ? ok(raw) : fail(problem);
    },
  };
}

/** A value that may be left unset; `null` in the resolved config. */
export function optional<T, I>(inner: ValueType<T, I>): ValueType<T | null, I | null> {
  return {
    placeholder: inner.placeholder,
    expected: inner.expected,
    parse: (raw) => (raw === null ? ok(null) : inner.parse(raw)),
    ...(inner.format === undefined ? {} : { format: (value: T | null) => (value === null ? JSON.stringify(null) : formatValue(inner, value)) }),
  };
}

/**
 * A repeatable value. From a config file: an array (or one item). From text (an env var):
 * items separated by commas; `commasEverywhere`: each flag's value and array item too, for
 * lists gunicorn takes as one comma-separated value (`--forwarded-allow-ips a,b`).
 */
export function list<T, I>(item: ValueType<T, I>, options: { commasEverywhere?: boolean } = {}): ValueType<readonly T[], readonly I[] | I> {
  const split = (text: string): string[] => text.split(',').filter((part) => part.trim() !== '');
  return {
    placeholder: item.placeholder,
    expected: item.expected,
    parse: (raw) => {
      const items = Array.isArray(raw)
        ? options.commasEverywhere === true
          ? (raw as unknown[]).flatMap((entry) => (typeof entry === 'string' ? split(entry) : [entry]))
          : (raw as unknown[])
        : typeof raw === 'string'
          ? split(raw)
          : [raw];
      const values: T[] = [];
      for (const entry of items) {
        const parsed = item.parse(typeof entry === 'string' ? entry.trim() : entry);
        if (!parsed.ok) return parsed;
        values.push(parsed.value);
      }
      return ok(values);
    },
  };
}

/**
 * A list whose entries may each name several items separated by commas, as gunicorn's
 * `--pythonpath a,b` does; repeating the flag adds more.
 */
export function commaList<T, I>(item: ValueType<T, I>): ValueType<readonly T[], readonly I[] | I> {
  const inner = list(item);
  return {
    ...inner,
    parse: (raw) => inner.parse(Array.isArray(raw) ? (raw as unknown[]).flatMap((entry) => (typeof entry === 'string' ? entry.split(',').filter((part) => part.trim() !== '') : [entry])) : raw),
  };
}

/** A URL path prefix: empty, or starting with a slash and not ending with one. */
export const urlPathPrefix: ValueType<string> = {
  placeholder: '<path>',
  expected: 'an empty string or a path such as /api (starting with /, not ending with /)',
  parse: (raw) =>
    typeof raw === 'string' && (raw === '' || /^\/\S*[^/]$/.test(raw)) ? ok(raw) : fail(urlPathPrefix.expected),
};

/** File permission bits, octal as text ("0o022", "022") or a number. */
export const fileMode: ValueType<number, number | string> = {
  placeholder: '<octal>',
  expected: 'an octal file mode such as 022 or 0o077',
  parse: (raw) => {
    if (typeof raw === 'number') return Number.isInteger(raw) && raw >= 0 && raw <= 0o777 ? ok(raw) : fail(fileMode.expected);
    if (typeof raw !== 'string' || !/^\s*(0o?)?[0-7]{1,3}\s*$/i.test(raw)) return fail(fileMode.expected);
    return ok(Number.parseInt(raw.trim().replace(/^0o/i, ''), 8));
  },
  format: (value) => value.toString(8).padStart(3, '0'),
};
