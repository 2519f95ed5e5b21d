// Pure: every errno by its name, one table for every message angel writes. Node's os.constants.errno is the
// base; it lacks the Linux errnos libuv has no name for (ENOTBLK, EREMOTE, EKEYREJECTED, …), and libuv's
// uv_err_name, which Node's own errors use, lacks some it has (ENOEXEC: `Unknown system error -8`), so the
// rest of Linux's list (asm-generic/errno.h, the numbers of x86-64 and arm64) is written out here.
// test/core/errnos.test.ts holds the table to the C library's strerrorname_np(3) for every number it knows.
import { constants } from 'node:os';

const LINUX_ONLY: Readonly<Record<string, number>> = {
  ENOTBLK: 15, ECHRNG: 44, EL2NSYNC: 45, EL3HLT: 46, EL3RST: 47, ELNRNG: 48, EUNATCH: 49, ENOCSI: 50, EL2HLT: 51,
  EBADE: 52, EBADR: 53, EXFULL: 54, ENOANO: 55, EBADRQC: 56, EBADSLT: 57, EBFONT: 59, ENONET: 64, ENOPKG: 65,
  EREMOTE: 66, EADV: 68, ESRMNT: 69, ECOMM: 70, EDOTDOT: 73, ENOTUNIQ: 76, EBADFD: 77, EREMCHG: 78, ELIBACC: 79,
  ELIBBAD: 80, ELIBSCN: 81, ELIBMAX: 82, ELIBEXEC: 83, ERESTART: 85, ESTRPIPE: 86, EUSERS: 87, ESOCKTNOSUPPORT: 94,
  EPFNOSUPPORT: 96, ESHUTDOWN: 108, ETOOMANYREFS: 109, EHOSTDOWN: 112, EUCLEAN: 117, ENOTNAM: 118, ENAVAIL: 119,
  EISNAM: 120, EREMOTEIO: 121, ENOMEDIUM: 123, EMEDIUMTYPE: 124, ENOKEY: 126, EKEYEXPIRED: 127, EKEYREVOKED: 128,
  EKEYREJECTED: 129, EOWNERDEAD: 130, ENOTRECOVERABLE: 131, ERFKILL: 132, EHWPOISON: 133,
};
/** Second names of one number; the first name is the one the C library and the man pages use. */
const ALIASES: ReadonlySet<string> = new Set(['EWOULDBLOCK', 'ENOTSUP', 'EDEADLOCK']);

const NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries({ ...constants.errno, ...LINUX_ONLY })
    .filter(([name]) => !ALIASES.has(name))
    .map(([name, number]) => [number, name]),
);

/** The name of an errno (positive, as errno(3) holds it, or negative, as libuv and Node's errors carry it);
 * `errno N` for a number no table knows, never `Unknown system error`. */
export function errnoName(errno: number): string {
  return NAMES.get(Math.abs(errno)) ?? `errno ${Math.abs(errno)}`;
}

/** The errno name of a thrown system error: from its number where it has one, so a name libuv lacks is still a
 * name; its code otherwise. */
export function errorCode(error: unknown, fallback = 'EIO'): string {
  const { errno, code } = (error ?? {}) as NodeJS.ErrnoException;
  if (typeof errno === 'number' && errno !== 0) return errnoName(errno);
  return typeof code === 'string' ? code : fallback;
}
