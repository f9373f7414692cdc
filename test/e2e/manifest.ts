// The installed extension's manifest: the palette titles of its commands, as VS Code shows them.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

interface Command {
  command: string;
  title: string;
  category?: string;
}

export interface InstalledExtension {
  dir: string;
  manifest: {
    version: string;
    contributes?: { commands?: Command[]; menus?: { commandPalette?: { command: string; when?: string }[] } };
  };
}

export function installedExtension(extensionsDir: string, id = 'vscode-semu.vscode-semu'): InstalledExtension {
  const name = readdirSync(extensionsDir).find((d) => d.toLowerCase().startsWith(`${id}-`));
  if (!name) throw new Error(`${id} is not installed in ${extensionsDir}`);
  const dir = join(extensionsDir, name);
  return { dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) };
}

/** "category: title" of each command the palette always lists (no `when` of its own there). */
export function paletteCommands(ext: InstalledExtension): Map<string, string> {
  const hidden = new Set((ext.manifest.contributes?.menus?.commandPalette ?? []).filter((m) => m.when !== undefined).map((m) => m.command));
  const out = new Map<string, string>();
  for (const c of ext.manifest.contributes?.commands ?? []) {
    if (!hidden.has(c.command)) out.set(c.command, c.category ? `${c.category}: ${c.title}` : c.title);
  }
  return out;
}

/** The palette title of the first of `ids` that the palette lists. */
export function titleOf(ext: InstalledExtension, ids: readonly string[]): string {
  const listed = paletteCommands(ext);
  for (const id of ids) {
    const t = listed.get(id);
    if (t) return t;
  }
  throw new Error(`none of ${ids.join(', ')} is in the command palette`);
}
