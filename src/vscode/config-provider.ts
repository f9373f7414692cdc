// The DebugConfigurationProvider of "semu": F5 without a launch.json boots the default guest;
// a configuration without "kernel" gets the default guest too, built on first use under a
// cancellable progress notification (guest/build.sh, minutes the first time, cached after).

import * as vscode from 'vscode';
import { buildGuest, type GuestArtifacts } from '../host/default-guest';
import { logger } from '../log';
import { applyDefaults, defaultConfiguration, needsDefaultGuest, withDefaultGuest, type PendingOverrides, type SemuDebugConfiguration } from './config-defaults';
import { readSettings } from './settings';

const log = logger('config');

export class SemuConfigurationProvider implements vscode.DebugConfigurationProvider {
  /** Overrides for the next launch only (recordTx / playRx commands). */
  pending: PendingOverrides = {};

  provideDebugConfigurations(): vscode.DebugConfiguration[] {
    return [defaultConfiguration()];
  }

  async resolveDebugConfiguration(folder: vscode.WorkspaceFolder | undefined, config: vscode.DebugConfiguration, token?: vscode.CancellationToken): Promise<vscode.DebugConfiguration | undefined> {
    const pending = this.pending;
    this.pending = {};
    let c = applyDefaults(config as Partial<SemuDebugConfiguration>, readSettings(), pending, folder?.uri.fsPath, vscode.workspace.isTrusted);
    if (needsDefaultGuest(c)) {
      const guest = await buildDefaultGuest(token);
      if (!guest) return undefined; // cancelled or failed: the message was shown
      c = withDefaultGuest(c, guest);
    }
    return c;
  }
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
      log.error((e as Error).message);
      void vscode.window.showErrorMessage(`semu: ${(e as Error).message}`, 'Show Log').then((pick) => {
        if (pick) void vscode.commands.executeCommand('semu.showLog');
      });
    }
    return undefined;
  } finally {
    sub?.dispose();
  }
}
