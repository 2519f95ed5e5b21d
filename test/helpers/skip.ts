// Skips that say what is missing, and that CI never takes: .ci/run installs every tool a test needs (lighttpd,
// sudo, go, musl-gcc, a compiler), so under CI=true a missing tool fails its test instead of skipping it. What no
// install can give (a cgroup v2 memory controller on a machine that binds it to v1) stays a skip with its reason.

/** The skip option for a test that needs a tool: its reason where it is missing, none under CI=true. */
export function needs(missing: string | false): string | false {
  return missing !== false && !process.env.CI ? missing : false;
}
