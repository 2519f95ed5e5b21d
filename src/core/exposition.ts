// Pure: a strict parser of Prometheus' text exposition format (version 0.0.4): `# HELP` and `# TYPE` lines,
// then samples `name{label="value",…} value [timestamp]`, with the escapes the format allows (\\, \", \n in
// label values; \\ and \n in help). A line that is none of these, a sample of a family whose TYPE came after
// it, a TYPE given twice, or a value that is not a float is an error naming the line. `angel status --metrics`
// reads an angel through it, and the tests hold angel's /metrics to it.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  help: string | null;
  samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*';
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES: Record<string, readonly string[]> = { histogram: ['_bucket', '_sum', '_count'], summary: ['_sum', '_count'] };

export class ExpositionError extends Error {
  override name = 'ExpositionError';
  constructor(line: number, why: string, text: string) {
    super(`line ${line}: ${why}: ${JSON.stringify(text.slice(0, 120))}`);
  }
}

/** A sample's value, or null when it is not a float as Go's ParseFloat reads them. */
function parseValue(text: string): number | null {
  // ParseFloat takes these in any case (prom-client writes `Nan` for a lag not yet measured)
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(text);
  if (special) return special[2]?.toLowerCase() === 'nan' ? NaN : special[1] === '-' ? -Infinity : Infinity;
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) ? Number(text) : null;
}

/** Reads `{a="b",c="d"}` from `text` at `at` (just past `{`); returns the labels and where the `}` ends. */
function parseLabels(text: string, at: number, line: number, whole: string): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  const name = new RegExp(`^${LABEL}`);
  let i = at;
  for (;;) {
    if (text[i] === '}') return [labels, i + 1];
    const match = name.exec(text.slice(i));
    if (!match || text[i + match[0].length] !== '=' || text[i + match[0].length + 1] !== '"') throw new ExpositionError(line, 'expected label="value"', whole);
    const key = match[0];
    i += key.length + 2;
    let value = '';
    for (;; i++) {
      const char = text[i];
      if (char === undefined) throw new ExpositionError(line, 'unterminated label value', whole);
      if (char === '"') break;
      if (char === '\\') {
        const next = text[++i];
        if (next === 'n') value += '\n';
        else if (next === '\\' || next === '"') value += next;
        else throw new ExpositionError(line, 'bad escape in a label value', whole);
      } else {
        value += char;
      }
    }
    if (Object.hasOwn(labels, key)) throw new ExpositionError(line, `label ${key} twice`, whole);
    labels[key] = value;
    i++;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') throw new ExpositionError(line, 'expected , or } after a label', whole);
  }
}

/** The families of an exposition, in order; throws ExpositionError on anything the format does not allow. */
export function parseExposition(text: string): Family[] {
  const families = new Map<string, Family>();
  const family = (name: string): Family => {
    let found = families.get(name);
    if (!found) families.set(name, (found = { name, type: 'untyped', help: null, samples: [] }));
    return found;
  };
  const typed = new Set<string>();
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    const meta = new RegExp(`^# (HELP|TYPE) (${NAME})(?: (.*))?$`).exec(raw);
    if (meta) {
      const [, kind, name = '', rest = ''] = meta;
      const target = family(name);
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new ExpositionError(line, 'unknown type', raw);
        if (typed.has(name) || target.samples.length > 0) throw new ExpositionError(line, 'TYPE twice or after samples', raw);
        typed.add(name);
        target.type = rest as Family['type'];
      } else {
        if (target.help !== null) throw new ExpositionError(line, 'HELP twice', raw);
        target.help = rest.replace(/\\(n|\\)/g, (_, char: string) => (char === 'n' ? '\n' : '\\'));
      }
      return;
    }
    if (raw.startsWith('#')) return; // a comment
    const name = new RegExp(`^${NAME}`).exec(raw)?.[0];
    if (!name) throw new ExpositionError(line, 'expected a metric name', raw);
    let [labels, at] = [{} as Record<string, string>, name.length];
    if (raw[at] === '{') [labels, at] = parseLabels(raw, at + 1, line, raw);
    const fields = raw.slice(at).trim().split(/\s+/);
    if (raw[at] !== ' ' || fields.length < 1 || fields.length > 2 || (fields[1] !== undefined && !/^-?\d+$/.test(fields[1]))) {
      throw new ExpositionError(line, 'expected a value and an optional timestamp', raw);
    }
    const value = parseValue(fields[0] ?? '');
    if (value === null) throw new ExpositionError(line, 'not a float', raw);
    // a histogram's or summary's samples carry suffixes on the family's name
    const owner = [...families.values()].find((candidate) => (SUFFIXES[candidate.type] ?? []).some((suffix) => name === candidate.name + suffix));
    const target = owner ?? family(name);
    target.samples.push({ name, labels, value });
  });
  return [...families.values()];
}

/** The value of the sample `name` whose labels include `labels`, or undefined. */
export function sampleValue(families: readonly Family[], name: string, labels: Record<string, string> = {}): number | undefined {
  for (const family of families) {
    for (const sample of family.samples) {
      if (sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value)) return sample.value;
    }
  }
  return undefined;
}
