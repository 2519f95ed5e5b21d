// Pure: every errno by its name, one table for every message angel writes. Linux's own list, as the C library
// names it (strerrorname_np(3)), written out here: the numbers are the same on x86-64, arm64, arm and s390x
// (ppc64le numbers one more, EDEADLOCK 58; alpha, mips, parisc and sparc their own). Node's os.constants.errno
// lacks the errnos libuv has no name for (ENOTBLK, EREMOTE, EKEYREJECTED, …), libuv's uv_err_name, which Node's
// own errors use, lacks some it has (ENOEXEC: `Unknown system error -8`), and node:os would be loaded for it alone
// (its module and binding, some 0.2-0.3 MB of every angel's resident memory). test/core/errnos.test.ts holds the
// table to the C library for every number it knows, and to Node's names.

/** Each number's first name, the one the C library and the man pages use (not EWOULDBLOCK, EDEADLOCK, ENOTSUP).
 * A function, so that the table is made at the first error named, not as the module is evaluated: every launch
 * evaluates the module before its first spawn, where the table and its map took some 60 KB of the young
 * generation (1 MB, which a launch fills before it spawns: the less it allocates, the less a scavenge copies). */
const errnos = (): Readonly<Record<string, number>> => ({
  EPERM: 1, ENOENT: 2, ESRCH: 3, EINTR: 4, EIO: 5, ENXIO: 6, E2BIG: 7, ENOEXEC: 8, EBADF: 9, ECHILD: 10,
  EAGAIN: 11, ENOMEM: 12, EACCES: 13, EFAULT: 14, ENOTBLK: 15, EBUSY: 16, EEXIST: 17, EXDEV: 18, ENODEV: 19,
  ENOTDIR: 20, EISDIR: 21, EINVAL: 22, ENFILE: 23, EMFILE: 24, ENOTTY: 25, ETXTBSY: 26, EFBIG: 27, ENOSPC: 28,
  ESPIPE: 29, EROFS: 30, EMLINK: 31, EPIPE: 32, EDOM: 33, ERANGE: 34, EDEADLK: 35, ENAMETOOLONG: 36, ENOLCK: 37,
  ENOSYS: 38, ENOTEMPTY: 39, ELOOP: 40, ENOMSG: 42, EIDRM: 43, ECHRNG: 44, EL2NSYNC: 45, EL3HLT: 46, EL3RST: 47,
  ELNRNG: 48, EUNATCH: 49, ENOCSI: 50, EL2HLT: 51, EBADE: 52, EBADR: 53, EXFULL: 54, ENOANO: 55, EBADRQC: 56,
  EBADSLT: 57, EBFONT: 59, ENOSTR: 60, ENODATA: 61, ETIME: 62, ENOSR: 63, ENONET: 64, ENOPKG: 65, EREMOTE: 66,
  ENOLINK: 67, EADV: 68, ESRMNT: 69, ECOMM: 70, EPROTO: 71, EMULTIHOP: 72, EDOTDOT: 73, EBADMSG: 74, EOVERFLOW: 75,
  ENOTUNIQ: 76, EBADFD: 77, EREMCHG: 78, ELIBACC: 79, ELIBBAD: 80, ELIBSCN: 81, ELIBMAX: 82, ELIBEXEC: 83,
  EILSEQ: 84, ERESTART: 85, ESTRPIPE: 86, EUSERS: 87, ENOTSOCK: 88, EDESTADDRREQ: 89, EMSGSIZE: 90, EPROTOTYPE: 91,
  ENOPROTOOPT: 92, EPROTONOSUPPORT: 93, ESOCKTNOSUPPORT: 94, EOPNOTSUPP: 95, EPFNOSUPPORT: 96, EAFNOSUPPORT: 97,
  EADDRINUSE: 98, EADDRNOTAVAIL: 99, ENETDOWN: 100, ENETUNREACH: 101, ENETRESET: 102, ECONNABORTED: 103,
  ECONNRESET: 104, ENOBUFS: 105, EISCONN: 106, ENOTCONN: 107, ESHUTDOWN: 108, ETOOMANYREFS: 109, ETIMEDOUT: 110,
  ECONNREFUSED: 111, EHOSTDOWN: 112, EHOSTUNREACH: 113, EALREADY: 114, EINPROGRESS: 115, ESTALE: 116, EUCLEAN: 117,
  ENOTNAM: 118, ENAVAIL: 119, EISNAM: 120, EREMOTEIO: 121, EDQUOT: 122, ENOMEDIUM: 123, EMEDIUMTYPE: 124,
  ECANCELED: 125, ENOKEY: 126, EKEYEXPIRED: 127, EKEYREVOKED: 128, EKEYREJECTED: 129, EOWNERDEAD: 130,
  ENOTRECOVERABLE: 131, ERFKILL: 132, EHWPOISON: 133,
});

let names: ReadonlyMap<number, string> | null = null;

/** The name of an errno (positive, as errno(3) holds it, or negative, as libuv and Node's errors carry it);
 * `errno N` for a number no table knows, never `Unknown system error`. */
export function errnoName(errno: number): string {
  names ??= new Map(Object.entries(errnos()).map(([name, number]) => [number, name]));
  return names.get(Math.abs(errno)) ?? `errno ${Math.abs(errno)}`;
}

/** The errno name of a thrown system error: from its number where it has one, so a name libuv lacks is still a
 * name; its code otherwise. */
export function errorCode(error: unknown, fallback = 'EIO'): string {
  const { errno, code } = (error ?? {}) as NodeJS.ErrnoException;
  if (typeof errno === 'number' && errno !== 0) return errnoName(errno);
  return typeof code === 'string' ? code : fallback;
}
