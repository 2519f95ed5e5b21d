// The child's environment: angel's own, less what describes angel's own activation, plus --env and
// ANGEL_GENERATION. LISTEN_* and NOTIFY_SOCKET addressed angel (systemd's sd_listen_fds(3) says to unset
// them), and NODE_CHANNEL_FD would make a Node child adopt a channel fd it does not have.
const ANGEL_ONLY = /^(LISTEN_PID|LISTEN_FDS|LISTEN_FDNAMES|NOTIFY_SOCKET|NODE_CHANNEL_FD|NODE_CHANNEL_SERIALIZATION_MODE)$/;

export function childEnvironment(
  base: Readonly<Record<string, string | undefined>>,
  extra: Readonly<Record<string, string>>,
  generation: number,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(base)) {
    if (value !== undefined && !ANGEL_ONLY.test(key)) env[key] = value;
  }
  Object.assign(env, extra);
  env.ANGEL_GENERATION = String(generation);
  return env;
}
