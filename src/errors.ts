// One error class per concept, and the exit statuses they map to.

/** Bad input from a flag or a config key: exit status 2, one line naming the flag and the value. */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(
    readonly flag: string,
    readonly value: unknown,
    readonly expected: string,
  ) {
    super(`${flag}: ${expected}, got ${showValue(value)}`);
  }
}

/** The value as JSON where JSON can say it; NaN, Infinity, undefined and bigints as themselves (JSON.stringify
 * would print `null`, nothing, or throw a TypeError in place of the usage error). */
function showValue(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** A spawn that failed before or at exec, with the failing step and the errno name (ENOENT, EACCES, EPERM). */
export class SpawnError extends Error {
  override name = 'SpawnError';
  constructor(
    readonly program: string,
    readonly step: string,
    readonly code: string,
    readonly errno: number | undefined,
    detail?: string,
  ) {
    super(`spawn ${program}: ${step}: ${code}${detail ? ` (${detail})` : ''}`);
  }
}

/** angel refuses to do what it was asked for security reasons (the root rule): exit status 126. */
export class PermissionError extends Error {
  override name = 'PermissionError';
}

export const EXIT_USAGE = 2;
export const EXIT_NOT_EXECUTABLE = 126;
export const EXIT_NOT_FOUND = 127;

/** The shell's convention, which tini and dumb-init keep: 127 not found, 126 found but not runnable. */
export function exitStatusForSpawnError(error: SpawnError): number {
  if (error.step === 'execve' || error.step === 'open') {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return EXIT_NOT_FOUND;
    return EXIT_NOT_EXECUTABLE;
  }
  return EXIT_NOT_EXECUTABLE;
}
