// The DebugConfigurationProvider of "semu": F5 without a launch.json boots the default guest;
// a configuration without "kernel" gets the default guest too: the one shipped in the package
// (at once), else built on first use under a cancellable progress notification (guest/build.sh,
// minutes the first time, cached after), which never installs Debian packages by itself.

import * as vscode from 'vscode';
import { buildGuest, MissingPackagesError, shippedGuest, type GuestArtifacts } from '../host/default-guest';
import { logger } from '../log';
import { applyDefaults, defaultConfiguration, needsDefaultGuest, withDefaultGuest, type PendingOverrides, type SemuDebugConfiguration } from './config-defaults';
import { readSettings } from './settings';
import { restrictedIn } from './trust';

const log = logger('config');

export class SemuConfigurationProvider implements vscode.DebugConfigurationProvider {
  /** Overrides for the next launch only (recordTx / playRx commands). */
  pending: PendingOverrides = {};
  /** Chooses `auto` audio backends (audio-choice.ts); the extension sets it. */
  resolveAudio?: (c: SemuDebugConfiguration) => Promise<SemuDebugConfiguration>;

  provideDebugConfigurations(): vscode.DebugConfiguration[] {
    return [defaultConfiguration()];
  }

  async resolveDebugConfiguration(folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration, token?: vscode.CancellationToken): Promise<vscode.DebugConfiguration | undefined> {
    const pending = this.pending;
    this.pending = {};
    // In an untrusted workspace, refuse what would touch host files, programs or ports (trust.ts);
    // checked before the defaults fill in the shipped guest's paths and the workspace folder.
    if (!vscode.workspace.isTrusted) {
      const used = restrictedIn(config);
      if (used.length) {
        void refuseUntrusted(used);
        return undefined;
      }
    }
    let c = applyDefaults(config as Partial<SemuDebugConfiguration>, readSettings(), pending, folder?.uri.fsPath, { trusted: vscode.workspace.isTrusted });
    if (needsDefaultGuest(c)) {
      const guest = await findDefaultGuest(token);
      if (!guest) return undefined; // cancelled or failed: the message was shown
      c = withDefaultGuest(c, guest);
    }
    return this.resolveAudio ? this.resolveAudio(c) : c;
  }
}

/** The shipped guest at once, else a build under a progress notification; undefined on failure. */
export async function findDefaultGuest(token?: vscode.CancellationToken): Promise<GuestArtifacts | undefined> {
  try {
    const g = shippedGuest();
    if (g) return g;
  } catch (e) {
    showFailure(e as Error);
    return undefined;
  }
  return buildDefaultGuest(token);
}

/** Builds (or reuses) the default guest with a progress notification; undefined on failure. */
export async function buildDefaultGuest(token?: vscode.CancellationToken, rebuild = false): Promise<GuestArtifacts | undefined> {
  const controller = new AbortController();
  const sub = token?.onCancellationRequested(() => controller.abort());
  try {
    return await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'semu: preparing the default guest', cancellable: true },
      (progress, cancel) => {
        cancel.onCancellationRequested(() => controller.abort());
        return buildGuest({
          signal: controller.signal,
          rebuild,
          onProgress: (line) => {
            log.info(line);
            progress.report({ message: line.length > 80 ? line.slice(0, 77) + '…' : line });
          },
        });
      },
    );
  } catch (e) {
    if (controller.signal.aborted) {
      void vscode.window.showInformationMessage('semu: building the default guest was cancelled.');
    } else {
      showFailure(e as Error);
    }
    return undefined;
  } finally {
    sub?.dispose();
  }
}

async function refuseUntrusted(used: string[]): Promise<void> {
  const manage = 'Manage Workspace Trust';
  const pick = await vscode.window.showWarningMessage(
    `semu: this workspace is not trusted, so its launch configuration may not use ${used.join(', ')} (they read or write host files, run host programs or open ports). Trust the workspace, or remove them to boot the default guest.`,
    manage,
  );
  if (pick === manage) void vscode.commands.executeCommand('workbench.trust.manage');
}

function showFailure(e: Error): void {
  log.error(e.message);
  if (e instanceof MissingPackagesError) {
    void offerInstall(e.command);
    return;
  }
  void vscode.window.showErrorMessage(`semu: ${e.message}`, 'Show Log').then((pick) => {
    if (pick) void vscode.commands.executeCommand('semu.showLog');
  });
}

/** Shows the apt-get command; runs it in a terminal only if the person says so. */
async function offerInstall(command: string): Promise<void> {
  const run = 'Run It in a Terminal';
  const copy = 'Copy the Command';
  const pick = await vscode.window.showWarningMessage(
    'semu: building the default guest needs Debian packages that are not installed.',
    { modal: true, detail: `Install them with:\n\n${command}\n\nthen build again.` },
    run,
    copy,
  );
  if (pick === run) {
    const t = vscode.window.createTerminal({ name: 'semu: guest build tools' });
    t.show();
    t.sendText(command, true);
  } else if (pick === copy) {
    await vscode.env.clipboard.writeText(command);
  }
}
