// `npm run test:electron` (test/electron/run.sh bundles this and suite.ts): the packaged .vsix in
// a desktop VS Code downloaded by @vscode/test-electron, with suite.ts run in its extension host.
// Where VS Code cannot be downloaded (no network: ENOTFOUND), it says so and exits 1.
// Environment: SEMU_VSCODE_VERSION (default stable), SEMU_E2E_VSIX, SEMU_E2E_GUEST (as in
// scripts/e2e.sh), SEMU_TOOLS_CACHE (VS Code downloads go to <cache>/vscode-test).
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { downloadAndUnzipVSCode, resolveCliArgsFromVSCodeExecutablePath, runTests } from '@vscode/test-electron';

const root = resolve(__dirname, '..', '..');
const NETWORK = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|getaddrinfo|socket hang up/;

function say(msg: string): void {
  process.stdout.write(`test:electron: ${msg}\n`);
}

async function downloadVSCode(): Promise<string> {
  const cache = join(process.env.SEMU_TOOLS_CACHE ?? join(homedir(), '.cache', 'vscode-semu', 'tools'), 'vscode-test');
  const version = process.env.SEMU_VSCODE_VERSION ?? 'stable';
  try {
    return await downloadAndUnzipVSCode({ version, cachePath: cache, timeout: 30_000 });
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    if (NETWORK.test(msg) || NETWORK.test(String((e as NodeJS.ErrnoException).code))) {
      say(`cannot download VS Code ${version}: ${msg.split('\n')[0]}`);
      say('this machine cannot reach update.code.visualstudio.com, so the Electron e2e cannot run here.');
      say('The same scenarios run offline in code-server (the VS Code web build): npm run test:e2e');
    } else {
      say(`downloading VS Code ${version} failed: ${msg}`);
    }
    process.exit(1);
  }
}

function guestJson(): { kernel: string; initrd: string; systemMap: string } {
  const line = process.env.SEMU_E2E_GUEST || execFileSync('bash', [join(root, 'guest', 'build.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!;
  return JSON.parse(line);
}

async function main(): Promise<number> {
  const exe = await downloadVSCode();
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    say('VS Code (Electron) needs a display: set DISPLAY, or install xvfb (apt-get install xvfb) so run.sh uses xvfb-run.');
    return 1;
  }
  const run = mkdtempSync(join(tmpdir(), 'semu-electron-'));
  try {
    const vsix = process.env.SEMU_E2E_VSIX || join(run, 'vscode-semu.vsix');
    if (!process.env.SEMU_E2E_VSIX) execFileSync(process.execPath, [join(root, 'scripts', 'package.mjs'), '--out', vsix], { stdio: 'inherit' });
    const g = guestJson();
    const [workspace, data, extensions, alsa, harness] = ['workspace', 'data', 'ext', 'alsa', 'harness'].map((d) => join(run, d));
    for (const d of [join(workspace!, '.vscode'), join(data!, 'User'), extensions!, alsa!]) mkdirSync(d, { recursive: true });
    const config = { type: 'semu', request: 'launch', name: 'Boot semu', kernel: g.kernel, initrd: g.initrd, symbols: g.systemMap, audioOut: 'portaudio', audioIn: 'portaudio' };
    writeFileSync(join(workspace!, '.vscode', 'launch.json'), JSON.stringify({ version: '0.2.0', configurations: [config] }, null, 2));
    cpSync(join(root, 'test', 'e2e', 'settings.json'), join(data!, 'User', 'settings.json'));
    cpSync(join(root, 'test', 'electron', 'harness'), harness!, { recursive: true });
    // PortAudio through a test-owned, file-backed ALSA config: no sound card needed.
    writeFileSync(join(alsa!, 'asound.conf'), readFileSync(join(root, 'test', 'fixtures', 'alsa', 'file-pcms.conf'), 'utf8').replaceAll('@DIR@', alsa!));
    writeFileSync(join(alsa!, 'in.raw'), Buffer.alloc(48000 * 4 * 60));
    process.env.ALSA_CONFIG_PATH = join(alsa!, 'asound.conf');

    const profile = ['--user-data-dir', data!, '--extensions-dir', extensions!];
    const [cli, ...cliArgs] = resolveCliArgsFromVSCodeExecutablePath(exe);
    const inst = spawnSync(cli!, [...cliArgs.filter((a) => !/^--(user-data|extensions)-dir/.test(a)), ...profile, '--install-extension', vsix], { encoding: 'utf8', shell: process.platform === 'win32' });
    if (inst.status !== 0) {
      say(`installing the .vsix failed:\n${inst.stdout}${inst.stderr}`);
      return 1;
    }
    return await runTests({
      vscodeExecutablePath: exe,
      extensionDevelopmentPath: harness!,
      extensionTestsPath: join(root, 'out', 'electron', 'suite.js'),
      launchArgs: [workspace!, ...profile, '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes'],
      extensionTestsEnv: { ALSA_CONFIG_PATH: process.env.ALSA_CONFIG_PATH, SEMU_SUITE_EXTENSIONS_DIR: extensions },
    });
  } finally {
    rmSync(run, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    say(`failed: ${(e as Error).stack ?? e}`);
    process.exit(1);
  },
);
