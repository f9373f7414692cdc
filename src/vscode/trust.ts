// Workspace trust (package.json capabilities.untrustedWorkspaces: "limited"): in an untrusted
// workspace a launch may not read or write host files, run host programs or open host ports on a
// launch.json's word. Which attributes do is declared with each option (OptionSpec.hostAccess:
// the machine's, every device's, the debugger's). Pure logic, unit-tested in
// test/extension/reach.test.ts.

import { launchOptionSpecs } from '../../debug-adapter/launch';

/** The adapter's own attribute that redirects every relative path. */
const ALWAYS_RESTRICTED = ['cwd'];

/** The restricted attributes a configuration uses, as people will read them in the refusal. */
export function restrictedIn(c: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const spec of launchOptionSpecs()) {
    const v = c[spec.key];
    if (!spec.hostAccess || v === undefined || v === null || v === '') continue;
    if (typeof spec.hostAccess === 'function') {
      if ((spec.hostAccess as (value: unknown) => boolean)(v)) out.push(`${spec.key} "${String(v)}"`);
    } else out.push(spec.key);
  }
  for (const k of ALWAYS_RESTRICTED) if (c[k] !== undefined && c[k] !== null && c[k] !== '') out.push(k);
  return out;
}
