// Workspace trust (package.json capabilities.untrustedWorkspaces: "limited"): in an untrusted
// workspace a launch may not read or write host files, run host programs or open host ports on a
// launch.json's word. Pure logic, unit-tested in test/extension/trust.test.ts.

/** Attributes that name host paths or start host programs and ports, whatever their value. */
export const RESTRICTED_ATTRIBUTES = ['kernel', 'initrd', 'dtb', 'disk', 'symbols', 'cwd', 'sharedDir', 'netdev', 'hostForward', 'pcap', 'gdbPort'] as const;

/** The restricted attributes a configuration uses (audio backends only when they name a file). */
export function restrictedIn(c: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const k of RESTRICTED_ATTRIBUTES) {
    const v = c[k];
    if (v === undefined || v === null || v === "") continue;
    out.push(k);
  }
  for (const k of ['audioOut', 'audioIn']) {
    const v = c[k];
    if (typeof v === 'string' && v.trim().startsWith('wav:')) out.push(`${k} "${v}"`);
  }
  return out;
}
