// Pure: a `#!` line as the kernel reads it (fs/binfmt_script.c): the first line of at most 256 bytes, the
// interpreter up to the first space or tab after `#!` and its leading blanks, one optional argument after.

export interface Shebang {
  interpreter: string;
  /** The rest of the line, trimmed, or null. */
  argument: string | null;
}

/** The first bytes of a file as a `#!` line, or null when it is none. */
export function parseShebang(head: Uint8Array): Shebang | null {
  const text = Buffer.from(head.buffer, head.byteOffset, head.byteLength).toString('latin1');
  if (!text.startsWith('#!')) return null;
  const end = text.indexOf('\n');
  const line = (end < 0 ? text : text.slice(0, end)).slice(2).replace(/^[ \t]+/, '').replace(/[ \t]+$/, '');
  const blank = line.search(/[ \t]/);
  if (blank < 0) return { interpreter: line, argument: null };
  return { interpreter: line.slice(0, blank), argument: line.slice(blank).trim() || null };
}
