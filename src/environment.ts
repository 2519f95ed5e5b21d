// The child's environment: angel's own, less what describes angel's own activation, plus --env and
// ANGEL_GENERATION. LISTEN_*, NOTIFY_SOCKET and an outer angel's ANGEL_READY_FD addressed angel (systemd's sd_listen_fds(3) says to unset
// them), NODE_CHANNEL_FD would make a Node child adopt a channel fd it does not have, and an outer angel's
// ANGEL_GENERATION counts angel's generations, not the child's (each start sets its own).
const ANGEL_ONLY = /^(LISTEN_PID|LISTEN_FDS|LISTEN_FDNAMES|NOTIFY_SOCKET|NODE_CHANNEL_FD|NODE_CHANNEL_SERIALIZATION_MODE|ANGEL_READY_FD|ANGEL_GENERATION)$/;

/** angel's environment (only its PATH with `clear`) less its own activation variables, plus `extra`;
 * ANGEL_GENERATION is added per start. */
export function childEnvironment(
  base: Readonly<Record<string, string | undefined>>,
  extra: Readonly<Record<string, string>>,
  clear = false,
): Record<string, string> {
  const env: Record<string, string> = {};
  if (clear) {
    if (base.PATH !== undefined) env.PATH = base.PATH;
    return Object.assign(env, extra);
  }
  for (const [key, value] of Object.entries(base)) {
    if (value !== undefined && !ANGEL_ONLY.test(key)) env[key] = value;
  }
  return Object.assign(env, extra);
}
