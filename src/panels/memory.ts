// Opening a descriptor's buffer in VS Code's memory view. VS Code shows debug memory through the
// Hex Editor extension, on the `vscode-debug-memory` file system that calls the adapter's
// readMemory/writeMemory with a DAP memoryReference. The public way in is the command the
// Variables view uses ("View Binary Data"), 'workbench.debug.viewlet.action.viewMemory', given a
// variables-view context { sessionId, variable: { memoryReference } }. The hex editor then shows
// offset 0 at that reference — here the descriptor's guest-physical address, named by
// physMemoryReference (the adapter's side of the contract). It cannot be told a length: the
// buffer is the bytes from offset 0 to the descriptor's len.
//
// Without the Hex Editor (offline machines, other editors) we do not trigger VS Code's install
// prompt: the adapter's readMemory answer is shown as a hex dump in a read-only text document.
import * as vscode from 'vscode';
import { logger } from '../log';
import { physMemoryReference } from '../shared/protocol';
import { hexDump } from './hexdump';

const log = logger('panels.memory');

export const VIEW_MEMORY_COMMAND = 'workbench.debug.viewlet.action.viewMemory';
export const HEX_EDITOR_EXTENSION = 'ms-vscode.hexeditor';
/** Largest hex dump we put in a text document. */
const MAX_DUMP_BYTES = 64 * 1024;

let sessionProvider: () => vscode.DebugSession | undefined = () => vscode.debug.activeDebugSession;

/** Lets the extension say which session owns guest memory (default: the active debug session). */
export function setMemorySessionProvider(provider: () => vscode.DebugSession | undefined): void {
  sessionProvider = provider;
}

export async function openGuestMemory(address: number, length: number): Promise<void> {
  const session = sessionProvider();
  const where = `0x${(address >>> 0).toString(16).padStart(8, '0')}`;
  if (!session) {
    void vscode.window.showWarningMessage(`semu: no debug session to read guest memory at ${where} from. Start a 'Boot semu' session first.`);
    return;
  }
  const memoryReference = physMemoryReference(address);
  if (vscode.extensions.getExtension(HEX_EDITOR_EXTENSION)) {
    try {
      await vscode.commands.executeCommand(VIEW_MEMORY_COMMAND, {
        sessionId: session.id,
        container: { name: 'virtqueue', variablesReference: 0, expensive: false },
        variable: { name: `buffer @ ${where} (${length} bytes)`, value: where, variablesReference: 0, memoryReference },
      });
      return;
    } catch (e) {
      log.warn(`memory view command failed (${(e as Error).message}); showing a hex dump instead`);
    }
  }
  await showHexDump(session, address, length, memoryReference, where);
}

async function showHexDump(session: vscode.DebugSession, address: number, length: number, memoryReference: string, where: string): Promise<void> {
  const count = Math.min(Math.max(length, 1), MAX_DUMP_BYTES);
  let body: { address?: string; unreadableBytes?: number; data?: string } | undefined;
  try {
    body = await session.customRequest('readMemory', { memoryReference, offset: 0, count });
  } catch (e) {
    void vscode.window.showErrorMessage(`semu: cannot read guest memory at ${where}: ${(e as Error).message}`);
    return;
  }
  const bytes = body?.data ? new Uint8Array(Buffer.from(body.data, 'base64')) : new Uint8Array(0);
  const unreadable = Math.max(0, Math.min(count - bytes.length, body?.unreadableBytes ?? count - bytes.length));
  const cut = length > count ? ` (first ${count} of ${length} bytes)` : '';
  const text = hexDump(address, bytes, unreadable, `Guest-physical memory at ${where}, ${length} bytes${cut} — snapshot read through the debug adapter.`);
  const doc = await vscode.workspace.openTextDocument({ content: text, language: 'plaintext' });
  await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true, preserveFocus: false });
}
