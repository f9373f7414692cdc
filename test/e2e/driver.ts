// The end-to-end scenario, run by scripts/e2e.sh against a code-server it started with the
// packaged .vsix installed: a person's session, from F5 to Stop, in headless Chromium.
// Prints one line per step and, last, "N passed, N failed"; exits 0 only when all passed.
// Environment (set by e2e.sh): SEMU_E2E_URL, SEMU_E2E_WORKSPACE, SEMU_E2E_OUT, SEMU_E2E_PGID,
// SEMU_E2E_ALSA_DIR, SEMU_E2E_EXTENSIONS, SEMU_E2E_USER_DATA, SEMU_E2E_ROOT, SEMU_E2E_DOC_SHOT.
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Frame, type Page } from 'playwright-core';
import { NOTIFY_FILTERS } from '../../src/host/notify-filter';
import { installedExtension, paletteCommands, titleOf, type InstalledExtension } from './manifest';
import { audioHosts, extensionHost, mappedLibraries, threadNames, workerThreads } from './procs';
import { Abort, until, Workbench } from './workbench';
import { matchGlyphs, vgaFontFrom } from '../helpers/vga-font';

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run scripts/e2e.sh)`);
  return v;
}

const URL = env('SEMU_E2E_URL');
const WORKSPACE = env('SEMU_E2E_WORKSPACE');
const OUT = env('SEMU_E2E_OUT');
const PGID = Number(env('SEMU_E2E_PGID'));
const ALSA_DIR = env('SEMU_E2E_ALSA_DIR');
const EXTENSIONS = env('SEMU_E2E_EXTENSIONS');
const ROOT = env('SEMU_E2E_ROOT');
const USER_DATA = env('SEMU_E2E_USER_DATA');
const GUEST_CACHE = env('SEMU_E2E_GUEST_CACHE');
const SHIPPED = process.env.SEMU_E2E_SHIPPED !== '0';
/** Issue 16: F5 to a ready guest with the shipped guest, no build. */
const BOOT_BUDGET_MS = 10_000;
const READY = /semu-guest: ready/;
const TX_FILTER = NOTIFY_FILTERS.find((f) => f.id === 'virtio-snd-tx')!;

const t0 = Date.now();
const log = (m: string) => process.stdout.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${m}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Result {
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
}
const results: Result[] = [];

/**
 * Runs a step unless one it needs failed, or (`session`) the debug session is already gone, so a
 * crash costs one failure each, not a timeout each. A screenshot after each step, pass or fail.
 */
async function step(wb: Workbench, name: string, needs: readonly string[], fn: () => Promise<void>, session = false): Promise<void> {
  const n = results.length + 1;
  const start = Date.now();
  const failedNeed = needs.find((d) => !results.find((r) => r.name === d)?.ok);
  const blocked = failedNeed ? `"${failedNeed}" failed` : session && (await wb.debugState()) === 'none' ? `the debug session has ended (${await lastTerminalLine(wb)})` : undefined;
  let error: string | undefined;
  if (blocked) error = `not run: ${blocked}`;
  else {
    try {
      await fn();
    } catch (e) {
      error = (e as Error).message.split('\n')[0];
    }
  }
  if (!blocked) {
    await wb.screenshot(join(OUT, `${String(n).padStart(2, '0')}-${name.replace(/[^\w]+/g, '-').replace(/^-|-$/g, '').slice(0, 60)}.png`));
    // A dialog left open would block every later step: close it, and say what it said.
    const dialogs = await wb.dismissDialogs().catch(() => []);
    if (dialogs.length && !error) error = `left a dialog open: ${dialogs.join(' / ')}`;
    else if (dialogs.length) log(`closed: ${dialogs.join(' / ')}`);
  }
  results.push({ name, ok: !error, ms: Date.now() - start, error });
  log(`${error ? 'FAIL' : 'PASS'} ${name} (${Date.now() - start} ms)${error ? `: ${error}` : ''}`);
}

/** Why the session ended, as far as a person could tell: the terminal's last line, the log's last warning. */
async function lastTerminalLine(wb: Workbench): Promise<string> {
  const rows = (await wb.terminalRows().catch(() => '')).split('\n').map((l) => l.trim()).filter(Boolean);
  const channel = findFile(join(USER_DATA, 'logs'), /-semu\.log$/);
  const warnings = channel ? readFileSync(channel, 'utf8').split('\n').filter((l) => /\[(warn|error)\]/.test(l)) : [];
  const last = warnings.length ? `; log: "${warnings[warnings.length - 1]!.replace(/^\S+ /, '')}"` : '';
  return (rows.length ? `terminal: "${rows[rows.length - 1]}"` : 'terminal empty') + last;
}

// ---------- the levels and inspector panels ----------

/** The TX stream's peak meter reading (dBFS), or null when the panel shows no TX stream yet. */
async function txPeak(levels: Frame): Promise<number | null> {
  const card = levels.locator('section.stream', { hasText: /Playback|TX/ }).first();
  if ((await card.count()) === 0) return null;
  const v = await card.locator('.meter.peak').first().getAttribute('aria-valuenow');
  return v === null ? null : Number(v);
}

/** Non-silent bytes in what PortAudio wrote through the file-backed ALSA playback device. */
function playbackBytes(): { size: number; nonZero: number } {
  const f = join(ALSA_DIR, 'out.raw');
  if (!existsSync(f)) return { size: 0, nonZero: 0 };
  const b = readFileSync(f);
  let nonZero = 0;
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) nonZero++;
  return { size: b.length, nonZero };
}

// ---------- the scenario ----------

async function scenario(page: Page): Promise<void> {
  const wb = new Workbench(page, log);
  let ext: InstalledExtension | undefined;
  let hostPid = 0;
  let baselineThreads: string[] = [];

  const WORKBENCH = 'the workbench opens the workspace';
  await step(wb, WORKBENCH, [], async () => {
    await wb.open(URL, WORKSPACE, 'README.txt');
  });

  const COMMANDS = 'the installed extension lists its commands and activates';
  await step(wb, COMMANDS, [WORKBENCH], async () => {
    ext = installedExtension(EXTENSIONS);
    const want = [...paletteCommands(ext).values()];
    if (want.length === 0) throw new Error('the installed manifest contributes no palette commands');
    const listed = await until('the semu commands in the palette', 30_000, async () => {
      const got = await wb.paletteTitles('semu: ');
      return want.every((t) => got.includes(t)) ? got : undefined;
    }, 1000);
    log(`palette: ${listed.join(' | ')}`);
    await wb.runCommand(titleOf(ext, ['semu.showLog']));
    // The extension host's log records each activation, and failures to activate.
    await until('vscode-semu activated (exthost.log)', 20_000, async () => {
      const f = findFile(join(USER_DATA, 'logs'), /exthost\.log$/);
      const text = f ? readFileSync(f, 'utf8') : '';
      if (/Activating extension .?vscode-semu\.vscode-semu.? failed/i.test(text)) throw new Abort(`activation failed: see ${f}`);
      return /_doActivateExtension vscode-semu\.vscode-semu/.test(text);
    }, 500);
    hostPid = extensionHost(PGID)?.pid ?? 0;
    if (!hostPid) throw new Error(`no extension host process in process group ${PGID}`);
    baselineThreads = threadNames(hostPid);
  });

  const WELCOME = 'Run and Debug welcomes with "Boot semu"; the semu view says no machine runs';
  await step(wb, WELCOME, [COMMANDS], async () => {
    await wb.showRunAndDebug();
    const sidebar = page.locator('.part.sidebar');
    const welcome = sidebar.locator('.welcome-view-content', { hasText: /semu RISC-V machine/ }).first();
    await welcome.waitFor({ timeout: 15_000 });
    const button = welcome.locator('.monaco-button, a.monaco-button', { hasText: /^Boot semu$/ }).first();
    await button.waitFor({ timeout: 5000 });
    await wb.expandPane('semu');
    const idle = sidebar.locator('.welcome-view-content', { hasText: /No semu machine is running/ }).first();
    await idle.waitFor({ timeout: 10_000 });
    log(`welcome: "${(await welcome.innerText()).replace(/\s+/g, ' ').slice(0, 120)}"`);
  });

  const BOOT = `F5 boots the ${SHIPPED ? 'shipped ' : ''}guest with nothing built: the console terminal shows "semu-guest: ready"`;
  let bootMs = 0;
  await step(wb, BOOT, [COMMANDS], async () => {
    const f5 = Date.now();
    await wb.startDebugging();
    await wb.waitForTerminal(READY, 120_000);
    const ms = (bootMs = Date.now() - f5);
    log(`F5 → "semu-guest: ready" in ${ms} ms`);
    const workers = workerThreads(hostPid, baselineThreads);
    if (workers.length === 0) throw new Error('the machine runs but no worker thread appeared in the extension host');
    log(`extension host ${hostPid}: new threads ${workers.join(', ')}`);
    if (SHIPPED && readdirSync(GUEST_CACHE).length) throw new Error(`the guest cache is not empty: ${readdirSync(GUEST_CACHE).join(', ')} (something was built)`);
  });

  if (SHIPPED) {
    await step(wb, `F5 reaches "semu-guest: ready" in under ${BOOT_BUDGET_MS / 1000} s`, [BOOT], async () => {
      if (bootMs > BOOT_BUDGET_MS) throw new Error(`F5 took ${bootMs} ms to "semu-guest: ready" (budget ${BOOT_BUDGET_MS} ms; machine load ${loadavg()[0].toFixed(1)})`);
    });
  }

  const VIEW = 'the semu view lists the devices, virtio-snd queues and streams, live';
  await step(wb, VIEW, [BOOT], async () => {
    await wb.showRunAndDebug();
    const pane = await wb.expandPane('semu');
    const rows = pane.locator('.monaco-list-row');
    // The list is virtualized and virtio-snd comes after the other devices: scroll down to it.
    const seen = new Set<string>();
    const text = await until('virtio-snd and txq (2) in the semu view', 15_000, async () => {
      for (const x of await rows.allInnerTexts()) seen.add(x.replace(/\s+/g, ' ').trim());
      const t = [...seen];
      if (t.some((x) => x.startsWith('virtio-snd')) && t.some((x) => x.startsWith('txq (2)'))) return t;
      await pane.locator('.monaco-list').first().hover();
      await page.mouse.wheel(0, 100);
      return undefined;
    });
    log(`semu view: ${text.slice(0, 8).join(' | ')}`);
  }, true);

  const STATUS = 'the status bar shows the guest running, its MIPS and xruns';
  await step(wb, STATUS, [BOOT], async () => {
    const item = await until('"semu: running · N MIPS · N xruns" in the status bar', 15_000, () => wb.statusBarItem(/semu: running · [\d.]+ MIPS/));
    log(`status bar: "${item}"`);
  }, true);

  await step(wb, 'the debug toolbar has buttons for the levels and the virtqueue inspector', [BOOT], async () => {
    const bar = page.locator('.debug-toolbar');
    for (const icon of ['pulse', 'list-tree']) {
      await bar.locator(`.codicon-${icon}`).first().waitFor({ timeout: 10_000 }).catch(() => {
        throw new Error(`no $(${icon}) button on the debug toolbar`);
      });
    }
  }, true);

  const LEVELS = '"pcm play 440 5" plays through PortAudio and moves the TX meter of the levels panel';
  await step(wb, LEVELS, [BOOT], async () => {
    await wb.runCommand(titleOf(ext!, ['semu.openLevels', 'semu.showLevels']));
    const levels = await wb.webview('section.stream');
    const before = await until('the levels panel to list the TX stream', 20_000, async () => {
      const v = await txPeak(levels);
      return v === null ? undefined : { v };
    });
    const cmd = 'pcm play 440 5';
    await wb.typeInTerminal(cmd);
    let max = before.v;
    const readings = new Set<number>();
    // The audio hosts are looked at while the tone plays: on a loaded machine the meter's reading
    // can come after a file-backed device (faster than real time) has already taken the tone.
    const seen = new Map<number, string[]>();
    const lookAtHosts = () => {
      for (const h of audioHosts(PGID)) if (!seen.has(h.pid)) seen.set(h.pid, mappedLibraries(h.pid, /libportaudio/));
    };
    await until(`the TX peak meter to rise above -30 dBFS (was ${before.v})`, 20_000, async () => {
      lookAtHosts();
      const v = await txPeak(levels);
      if (v !== null) {
        readings.add(v);
        max = Math.max(max, v);
      }
      return max > -30 && readings.size >= 2;
    }, 50);
    log(`TX peak: ${before.v} dBFS before, max ${max} dBFS, ${readings.size} distinct readings`);
    // The audio goes through naudiodon in an audio host, whose libportaudio must be the one shipped
    // in the installed extension (RUNPATH $ORIGIN), into the ALSA file device.
    lookAtHosts();
    if (seen.size === 0) throw new Error('no audio-host process while playing');
    for (const [pid, libs] of seen) {
      if (!libs.every((l) => l.startsWith(ext!.dir + '/'))) throw new Error(`audio host ${pid} loaded ${libs.join(', ')}, not the extension's own`);
    }
    // The guest's own report: every frame written, no error from the driver.
    const done = await until(`the guest's "${cmd}" to finish`, 30_000, async () => {
      if ((await wb.debugState()) === 'none') throw new Abort(`the debug session ended (${await lastTerminalLine(wb)})`);
      return wb.terminalAfter(`# ${cmd}`, /pcm: play frames=\d+|pcm: error|exit status \d+/);
    }, 200);
    const m = /frames=(\d+) rate=(\d+)/.exec(done);
    if (!m || Number(m[1]) !== Number(m[2]) * 5) throw new Error(`the guest's playback did not complete: ${done.replace(/\s+/g, ' ').trim().slice(0, 200)}`);
    const played = playbackBytes();
    if (played.nonZero < 1000) throw new Error(`PortAudio wrote ${played.size} bytes (${played.nonZero} non-zero) to the ALSA playback file`);
    log(`guest: ${done.trim().split('\n').find((l) => /frames=/.test(l))}; ALSA playback file ${played.size} bytes`);
  }, true);

  const STOPPED = `ticking "${TX_FILTER.label}" in Breakpoints stops the machine on the next TX kick`;
  await step(wb, STOPPED, [BOOT], async () => {
    await wb.showDebugView();
    await wb.setExceptionFilter(TX_FILTER.label, true);
    await wb.typeInTerminal('pcm play 440 2');
    await until('the machine to stop', 30_000, async () => {
      const st = await wb.debugState();
      if (st === 'none') throw new Abort(`the debug session ended (${await lastTerminalLine(wb)})`);
      return st === 'stopped';
    });
    // The Call Stack's header says why (the StoppedEvent's description).
    const stack = await until('the Call Stack to say why it paused', 10_000, async () => {
      const t = (await (await wb.expandPane('Call Stack')).innerText()).replace(/\s+/g, ' ');
      return /paused on .*virtio-snd.*txq/i.test(t) ? t : undefined;
    });
    log(`Call Stack: ${stack.slice(0, 160)}`);
    // VS Code focuses the top frame by itself, so Variables shows the scopes with no click.
    const scopes = await until('Variables to show the scopes of the stopped hart', 10_000, async () => {
      const s = await wb.variableScopes();
      // The first scope (Registers) opens expanded and can push the others out of the list's view.
      return s.some((x) => /^(Registers|CSRs|Devices)\b/.test(x)) ? s : undefined;
    }).catch(() => {
      throw new Error('Variables stays empty after the stop: VS Code focused no stack frame (frames without a source are not focused on an exception stop)');
    });
    log(`Variables: ${scopes.join(' | ')}`);
  }, true);

  const VARIABLES = 'Variables shows Devices > virtio-snd > queues > txq';
  await step(wb, VARIABLES, [BOOT], async () => {
    await until('the machine to be stopped', 5000, async () => (await wb.debugState()) === 'stopped');
    if ((await wb.variableScopes()).length === 0) {
      log('Variables is empty: selecting the top frame in Call Stack, as a person would');
      await page.locator('.debug-call-stack .monaco-list-row').first().click();
    }
    const tx = await wb.expandVariables([/^Devices/, /^virtio-snd/, /^queues/, /^txq/]);
    log(`Variables, Devices > virtio-snd > queues > txq:\n${tx}`);
    const kids = tx.split('\n').slice(1).join('\n');
    for (const k of ['ready', 'avail.idx', 'used.idx', 'pending']) {
      if (!kids.split('\n').some((l) => l.startsWith(`${k} `))) throw new Error(`txq has no "${k}" child:\n${tx}`);
    }
  }, true);

  await step(wb, 'a queue in Variables has "Show in Virtqueue Inspector" in its context menu', [VARIABLES], async () => {
    // Variables' list is virtualized: walk the focus back up to txq (2), which brings it into view.
    const focused = page.locator('.debug-variables .monaco-list-row.focused').first();
    if (!(await page.evaluate(() => !!document.activeElement?.closest('.debug-variables')))) await focused.click();
    const row = await until('txq (2) focused in Variables', 10_000, async () => {
      if (/^\s*txq \(2\)/.test((await focused.textContent()) ?? '')) return focused;
      await page.keyboard.press('ArrowUp');
      return undefined;
    }, 60);
    await row.click({ button: 'right' });
    const item = page.locator('.context-view .action-label, .monaco-menu .action-label', { hasText: 'Show in Virtqueue Inspector' }).first();
    await item.waitFor({ timeout: 5000 }).catch(() => {
      throw new Error('the context menu of txq (2) has no "Show in Virtqueue Inspector"');
    });
    await page.keyboard.press('Escape');
  }, true);

  const INSPECTOR = 'the virtqueue inspector draws txq of the stopped machine';
  await step(wb, INSPECTOR, [BOOT], async () => {
    await wb.runCommand(titleOf(ext!, ['semu.openInspector', 'semu.showVirtqueues']));
    const insp = await wb.webview('button.queue[data-device="virtio-snd"]');
    await insp.locator('button.queue[data-device="virtio-snd"][data-queue="2"]').click();
    const title = insp.locator('section.queue h3').first();
    await until('the inspector to draw queue 2 (txq)', 15_000, async () => /Queue 2\b.*txq/.test(await title.innerText()));
    const shapes = await insp.locator('.ring-box svg *').count();
    if (shapes < 10) throw new Error(`the ring diagram has ${shapes} elements`);
    const cells = await insp.locator('button.cell[data-desc]').count();
    if (cells === 0) throw new Error('the descriptor table is empty');
    log(`inspector: "${await title.innerText()}", ring diagram ${shapes} elements, ${cells} descriptor cells`);
    await sleep(500); // let both panels paint before the session screenshot
    const shot = join(OUT, 'session.png');
    await wb.screenshot(shot);
    if (process.env.SEMU_E2E_DOC_SHOT === '1') {
      mkdirSync(join(ROOT, 'docs', 'images'), { recursive: true });
      copyFileSync(shot, join(ROOT, 'docs', 'images', 'session.png'));
    }
  }, true);

  const END = 'Continue, then Stop: the session ends and no worker or audio host is left';
  await step(wb, END, [BOOT], async () => {
    if ((await wb.debugState()) === 'none') {
      const left = [...audioHosts(PGID).map((p) => `audio host ${p.pid}`), ...workerThreads(hostPid, baselineThreads)];
      throw new Error(`the debug session had already ended (${await lastTerminalLine(wb)}); left running: ${left.join(', ') || 'nothing'}`);
    }
    await wb.showDebugView();
    await wb.setExceptionFilter(TX_FILTER.label, false);
    if ((await wb.debugState()) === 'stopped') {
      await wb.debugAction('debug-continue');
      await until('the machine to run again', 10_000, async () => (await wb.debugState()) === 'running');
    }
    await wb.debugAction('debug-stop');
    await until('the debug toolbar to go away', 20_000, async () => (await wb.debugState()) === 'none');
    await until('no audio-host process', 15_000, async () => audioHosts(PGID).length === 0, 250).catch(() => {
      throw new Error(`audio hosts still running: ${audioHosts(PGID).map((p) => p.pid).join(', ')}`);
    });
    await until('the emulator worker thread to end', 15_000, async () => workerThreads(hostPid, baselineThreads).length === 0, 250).catch(() => {
      throw new Error(`extension host threads left: ${workerThreads(hostPid, baselineThreads).join(', ')}`);
    });
  });

  await step(wb, 'with audioOut "webview", the semu audio panel plays the guest\'s tone through Web Audio', [COMMANDS], () => webviewAudio(wb, page, () => ext));

  await step(wb, '"semu: Show Screen" boots a machine with a screen; the console\'s text is on the panel\'s canvas', [COMMANDS], () => screenConsole(wb, page, ext!));
}

/**
 * A second session whose playback goes to the webview backend (the setting a remote window gets
 * from "auto"): the "semu audio" panel opens by itself and plays the guest's tone with Web Audio.
 */
async function webviewAudio(wb: Workbench, page: Page, ext: () => InstalledExtension | undefined): Promise<void> {
  const settings = join(USER_DATA, 'User', 'settings.json');
  const saved = readFileSync(settings, 'utf8');
  writeFileSync(settings, JSON.stringify({ ...JSON.parse(saved), 'semu.audioOut': 'webview', 'semu.audioIn': 'null' }, null, 2));
  try {
    await sleep(1000); // the settings file watcher
    await wb.runCommand(titleOf(ext()!, ['semu.boot']));
    await page.locator('.debug-toolbar').waitFor({ state: 'visible', timeout: 30_000 });
    await wb.waitForTerminal(READY, 120_000);
    const seconds = 5;
    const cmd = `pcm play 440 ${seconds}`;
    await wb.typeInTerminal(cmd);
    const audio = await wb.webview('ul.streams li', 30_000);
    const allow = audio.locator('button.allow');
    if (await allow.isVisible().catch(() => false)) {
      log('semu audio: the browser wants a click before playing sound: clicking "Click to allow sound"');
      await allow.click();
    }
    // The tone's seconds played over every row: a guest that falls behind (a loaded machine) has
    // an xrun, and ALSA prepares and starts the stream again, which the panel shows as a new row
    // (CI once saw 0.2 s, then 0.9 s with 9 panel xruns, of a 3 s tone).
    const rows = audio.locator('ul.streams li');
    let seen = 'no stream rows';
    const text = await until('the semu audio panel to play more than 1 s of the tone', 30_000, async () => {
      const all = (await rows.allInnerTexts().catch(() => [] as string[])).map((t) => t.replace(/\s+/g, ' ').trim());
      const played = all.reduce((sum, t) => sum + Number(/([\d.]+) s played/.exec(t)?.[1] ?? 0), 0);
      seen = `${played.toFixed(1)} s played in all: ${all.join(' | ')}`;
      return played > 1 ? seen : undefined;
    }, 200).catch((e: Error) => {
      throw new Error(`${e.message}: ${seen}`);
    });
    log(`semu audio: ${text}`);
    const done = await until(`the guest's "${cmd}" to finish`, 30_000, async () => wb.terminalAfter(`# ${cmd}`, /pcm: play frames=\d+|pcm: error|exit status \d+/), 200);
    const m = /frames=(\d+) rate=(\d+)/.exec(done);
    if (!m || Number(m[1]) !== Number(m[2]) * seconds) throw new Error(`the guest's playback did not complete: ${done.replace(/\s+/g, ' ').trim().slice(0, 200)}`);
    if (audioHosts(PGID).length) throw new Error('an audio-host process runs: the webview backend needs none');
  } finally {
    writeFileSync(settings, saved);
    if ((await wb.debugState()) !== 'none') {
      await wb.debugAction('debug-stop').catch(() => undefined);
      await until('the session to end', 20_000, async () => (await wb.debugState()) === 'none').catch(() => undefined);
    }
  }
}

// ---------- the Screen panel ----------

/** The Screen panel's canvas: its scanout size, the panel's banner, and RGBA pixels of a rectangle. */
async function screenCanvas(wb: Workbench, x: number, y: number, w: number, h: number): Promise<{ width: number; height: number; banner: string; empty: string; rgba: number[] }> {
  const frame = await wb.webview('canvas.screen', 5000);
  return frame.evaluate(
    ({ x, y, w, h }) => {
      const c = document.querySelector('canvas.screen') as HTMLCanvasElement;
      const text = (sel: string) => (document.querySelector(sel) as HTMLElement | null)?.innerText.replace(/\s+/g, ' ').trim() ?? '';
      // The panel's own 2D context (getContext returns the one it made).
      return { width: c.width, height: c.height, banner: text('.banner'), empty: text('.empty'), rgba: [...c.getContext('2d')!.getImageData(x, y, w, h).data] };
    },
    { x, y, w, h },
  );
}

/**
 * With no machine running, "semu: Show Screen" opens the panel and offers to boot one with a
 * screen; the guest's `fbtest text` writes a marker on its console (tty1, drawn by fbcon), and the
 * marker must be on the panel's canvas glyph for glyph in the kernel's VGA font. Ends the session.
 */
async function screenConsole(wb: Workbench, page: Page, ext: InstalledExtension): Promise<void> {
  const tree = process.env.SEMU_E2E_LINUX_SRC;
  if (!tree) throw new Error('no kernel tree for the console font (set SEMU_LINUX_SRC, or build the guest once: guest/build.sh)');
  const font = vgaFontFrom(tree);
  if ((await wb.debugState()) !== 'none') throw new Error(`a debug session from the step before still runs (${await lastTerminalLine(wb)})`);
  // The earlier panels and editors closed: the Screen panel gets the editor area (and the screenshot shows it legibly).
  await wb.runCommand('View: Close All Editor Groups');
  const t = Date.now();
  await wb.runCommand(titleOf(ext, ['semu.showScreen']));
  const offer = page.locator('.notification-toast', { hasText: /no machine is running/ }).locator('.monaco-button', { hasText: 'Boot semu with a screen' }).first();
  await offer.waitFor({ timeout: 10_000 }).catch(() => {
    throw new Error('"semu: Show Screen" with no machine offered no "Boot semu with a screen"');
  });
  await offer.click();
  try {
    await page.locator('.debug-toolbar').waitFor({ state: 'visible', timeout: 30_000 });
    await wb.waitForTerminal(READY, 120_000);
    const ready = Date.now();
    const marker = `semu e2e ${Date.now().toString(36)}`;
    const cmd = `fbtest text "${marker}"`;
    await wb.typeInTerminal(cmd);
    const done = await until(`the guest's "${cmd}" to finish`, 20_000, async () => wb.terminalAfter(`# ${cmd}`, /fbtest: \S+|exit status \d+/), 200);
    if (!/fbtest: text/.test(done)) throw new Error(`the guest's "${cmd}" said: ${done.replace(/\s+/g, ' ').trim().slice(0, 200)}`);
    const w = marker.length * 8;
    let seen = 'no Screen panel with a canvas';
    const shown = await until("the marker on the Screen panel's canvas", 30_000, async () => {
      const c = await screenCanvas(wb, 0, 0, w, 16);
      const m = matchGlyphs(c.rgba, w, font, marker);
      seen = `canvas ${c.width}×${c.height}, banner "${c.banner}"${c.empty ? `, "${c.empty}"` : ''}, ${m.bad} of ${w * 16} pixels differ from the text (foreground ${m.fg || 'none'})`;
      return m.bad === 0 && c.banner.startsWith('● Live') ? c : undefined;
    }, 250).catch((e: Error) => {
      throw new Error(`${e.message}: ${seen}`);
    });
    log(`Screen panel: "${marker}" on the canvas glyph for glyph (${shown.width}×${shown.height}, banner "${shown.banner}"); boot ${ready - t} ms, text ${Date.now() - ready} ms`);
    await wb.screenshot(join(OUT, 'screen.png'));
    const stop = Date.now();
    await wb.debugAction('debug-stop');
    await until('the debug toolbar to go away', 20_000, async () => (await wb.debugState()) === 'none');
    log(`Stop → no session in ${Date.now() - stop} ms`);
    // The panel follows the machine's end.
    let banner = '';
    await until('the Screen panel to say "No session" after Stop', 10_000, async () => (banner = (await screenCanvas(wb, 0, 0, 1, 1)).banner) === 'No session').catch((e: Error) => {
      throw new Error(`${e.message}: banner "${banner}"`);
    });
  } finally {
    if ((await wb.debugState()) !== 'none') {
      await wb.debugAction('debug-stop').catch(() => undefined);
      await until('the session to end', 20_000, async () => (await wb.debugState()) === 'none').catch(() => undefined);
    }
  }
}

function findFile(dir: string, re: RegExp): string | undefined {
  if (!existsSync(dir)) return undefined;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      const f = findFile(p, re);
      if (f) return f;
    } else if (re.test(name)) return p;
  }
  return undefined;
}

async function main(): Promise<number> {
  mkdirSync(OUT, { recursive: true });
  const profile = mkdtempSync(join(tmpdir(), 'semu-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.SEMU_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1600, height: 1000 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(30_000);
    page.on('console', (m) => {
      if (m.type() === 'error') writeFileSync(join(OUT, 'console-errors.log'), m.text() + '\n', { flag: 'a' });
    });
    await scenario(page);
  } finally {
    await context.close().catch(() => undefined);
    rmSync(profile, { recursive: true, force: true });
  }
  const failed = results.filter((r) => !r.ok).length;
  writeFileSync(join(OUT, 'results.json'), JSON.stringify(results, null, 2));
  process.stdout.write(`${results.length - failed} passed, ${failed} failed\n`);
  return failed ? 1 : 0;
}

main().then(
  (rc) => process.exit(rc),
  (e) => {
    const failed = results.filter((r) => !r.ok).length + 1;
    process.stdout.write(`FAIL driver: ${(e as Error).stack ?? e}\n${results.length + 1 - failed} passed, ${failed} failed\n`);
    process.exit(1);
  },
);
