// The VS Code workbench as a person uses it, through Playwright: the command palette, the
// terminal, the Run and Debug views (Breakpoints, Variables, toolbar) and webview panels.
// Selectors are VS Code's own DOM classes (1.139); each helper waits for what a person would see.
import type { Frame, Locator, Page } from 'playwright-core';

export type Log = (msg: string) => void;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Thrown from an `until` probe to stop waiting at once (other probe errors mean "not yet"). */
export class Abort extends Error {}

export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | null | false>, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch((e: unknown) => {
      if (e instanceof Abort) throw e;
      return undefined;
    });
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export class Workbench {
  constructor(
    readonly page: Page,
    private readonly log: Log,
  ) {}

  async open(url: string, folder: string, landmark: string): Promise<void> {
    await this.page.goto(`${url}/?folder=${encodeURIComponent(folder)}`);
    await this.page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
    // The Explorer listing a workspace file: workbench and remote file system are both up.
    await this.page.locator('.explorer-folders-view .monaco-list-row', { hasText: landmark }).waitFor({ timeout: 60_000 });
  }

  /**
   * Takes keyboard focus out of terminals, webviews and trees: a click on the empty middle of the
   * activity bar, where nothing reacts to it (the editor area may be covered by a webview's iframe).
   */
  async focusWorkbench(): Promise<void> {
    const bar = this.page.locator('.part.activitybar');
    const box = await bar.boundingBox();
    if (box) await bar.click({ position: { x: box.width / 2, y: box.height * 0.55 }, timeout: 2000 }).catch(() => undefined);
  }

  /**
   * Runs a command by its palette title. The palette list is computed when it opens; while the
   * extension host is still registering contributions the entry can be missing: close, retry.
   */
  async runCommand(title: string, attempts = 15): Promise<void> {
    await this.focusWorkbench();
    const input = this.page.locator('.quick-input-widget input');
    const row = this.page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
    for (let i = 1; ; i++) {
      await this.page.keyboard.press('F1');
      await input.waitFor({ state: 'visible' });
      await input.fill(`>${title}`);
      try {
        await row.waitFor({ timeout: 2000 });
        break;
      } catch (e) {
        await this.page.keyboard.press('Escape');
        if (i >= attempts) throw new Error(`"${title}" is not in the command palette`);
        this.log(`palette: "${title}" not listed yet (attempt ${i})`);
      }
    }
    await row.click();
    await input.waitFor({ state: 'hidden', timeout: 5000 }).catch(() => undefined);
    // A command that throws shows a modal dialog ("Command '…' resulted in an error"): report it.
    await sleep(300);
    const errors = await this.dismissDialogs();
    if (errors.length) throw new Error(`"${title}": ${errors.join(' / ')}`);
  }

  /** Closes modal dialogs and error notifications, returning their text. */
  async dismissDialogs(): Promise<string[]> {
    const texts: string[] = [];
    const dialog = this.page.locator('.monaco-dialog-box');
    for (let i = 0; i < 5 && (await dialog.isVisible()); i++) {
      const msg = dialog.locator('.dialog-message-text, .dialog-message-detail');
      texts.push(((await msg.count()) ? (await msg.allInnerTexts()).join(': ') : await dialog.innerText()).replace(/\s+/g, ' ').trim());
      await this.page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden', timeout: 2000 }).catch(() => undefined);
    }
    const toasts = this.page.locator('.notification-toast', { has: this.page.locator('.codicon-error') });
    for (const t of await toasts.all()) {
      texts.push((await t.innerText().catch(() => '')).replace(/\s+/g, ' ').trim());
      await t.locator('.codicon-notifications-clear, .codicon-close').first().click({ timeout: 1000 }).catch(() => undefined);
    }
    return texts.filter(Boolean);
  }

  /** Palette entries matching `filter` (e.g. "semu:"), as a person would see them listed. */
  async paletteTitles(filter: string): Promise<string[]> {
    await this.focusWorkbench();
    await this.page.keyboard.press('F1');
    const input = this.page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill(`>${filter}`);
    await sleep(500);
    const labels = await this.page.locator('.quick-input-list .monaco-list-row .label-name').allInnerTexts();
    await this.page.keyboard.press('Escape');
    return labels.map((l) => l.replace(/\s+/g, ' ').trim());
  }

  // ---------- terminal ----------

  /** The visible rows of the active terminal (the DOM renderer: gpuAcceleration is off). */
  async terminalRows(): Promise<string> {
    const rows = this.page.locator('.terminal-wrapper.active .xterm-rows, .terminal-wrapper .xterm-rows').first();
    return (await rows.innerText({ timeout: 1000 })).replace(/\u00a0/g, ' ');
  }

  /** Waits for `re` in the terminal, polling fast enough to catch text that scrolls past. */
  async waitForTerminal(re: RegExp, timeoutMs: number): Promise<string> {
    let seen = '';
    return until(`${re} in the terminal`, timeoutMs, async () => {
      const now = await this.terminalRows();
      if (!seen.endsWith(now)) seen += '\n' + now;
      return re.test(now) || re.test(seen) ? now : undefined;
    }, 150);
  }

  /** What the terminal shows after the last `marker`, once it matches `re` (else undefined). */
  async terminalAfter(marker: string, re: RegExp): Promise<string | undefined> {
    const now = await this.terminalRows();
    const at = now.lastIndexOf(marker);
    const after = at >= 0 ? now.slice(at + marker.length) : '';
    return re.test(after) ? after : undefined;
  }

  async typeInTerminal(line: string): Promise<void> {
    await this.page.locator('.terminal-wrapper .xterm').first().click();
    await this.page.keyboard.type(line, { delay: 15 });
    await this.page.keyboard.press('Enter');
  }

  // ---------- Run and Debug ----------

  async showDebugView(): Promise<void> {
    if (!(await this.page.locator('.debug-variables').isVisible())) {
      await this.focusWorkbench();
      await this.page.keyboard.press('Control+Shift+D');
    }
    await this.page.locator('.debug-variables').waitFor({ state: 'visible', timeout: 10_000 });
    // Watch is empty here: fold it so that Variables gets its room.
    const watch = this.page.locator('.pane-header', { hasText: /^\s*Watch/i }).first();
    if ((await watch.getAttribute('aria-expanded').catch(() => null)) === 'true') await watch.click();
  }

  /**
   * 'stopped' / 'running' from the debug toolbar's Continue / Pause button, 'busy' while it
   * re-renders between the two, 'none' when there is no toolbar (no session) for half a second.
   */
  async debugState(): Promise<'stopped' | 'running' | 'busy' | 'none'> {
    const bar = this.page.locator('.debug-toolbar');
    for (let i = 0; i < 5 && !(await bar.isVisible()); i++) {
      if (i === 4) return 'none';
      await sleep(120);
    }
    if (await bar.locator('.codicon-debug-continue').isVisible()) return 'stopped';
    if (await bar.locator('.codicon-debug-pause').isVisible()) return 'running';
    return 'busy';
  }

  async debugAction(icon: 'debug-continue' | 'debug-pause' | 'debug-stop' | 'debug-disconnect'): Promise<void> {
    await this.page.locator(`.debug-toolbar .codicon-${icon}`).first().click();
  }

  /**
   * F5 until a session starts: right after start-up the keybinding can arrive before the debugger
   * is registered. With no launch.json VS Code may first ask which debugger: `pick` answers.
   */
  async startDebugging(attempts = 3, pick = /semu/): Promise<void> {
    const bar = this.page.locator('.debug-toolbar');
    const picker = this.page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: pick }).first();
    for (let i = 1; ; i++) {
      await this.focusWorkbench();
      await this.page.keyboard.press('F5');
      try {
        await Promise.race([bar.waitFor({ state: 'visible', timeout: 15_000 }), picker.waitFor({ state: 'visible', timeout: 15_000 })]);
        if (!(await bar.isVisible()) && (await picker.isVisible())) {
          this.log(`F5 asked for a debugger: "${(await picker.innerText()).replace(/\s+/g, ' ')}"`);
          await picker.click();
          await bar.waitFor({ state: 'visible', timeout: 15_000 });
        }
        return;
      } catch (e) {
        if (i >= attempts) throw new Error('F5 started no debug session');
        this.log(`F5: no debug session yet (attempt ${i})`);
      }
    }
  }

  /** The Run and Debug side bar, whether or not a session runs. */
  async showRunAndDebug(): Promise<void> {
    const view = this.page.locator('.debug-viewlet, .part.sidebar .composite.title', { hasText: /Run and Debug|RUN AND DEBUG/i }).first();
    if (!(await view.isVisible().catch(() => false))) {
      await this.focusWorkbench();
      await this.page.keyboard.press('Control+Shift+D');
    }
    await this.page.locator('.part.sidebar').waitFor({ state: 'visible', timeout: 10_000 });
  }

  /** The status bar entry whose text matches, or undefined. */
  async statusBarItem(re: RegExp): Promise<string | undefined> {
    const texts = await this.page.locator('.part.statusbar .statusbar-item').allInnerTexts();
    return texts.map((t) => t.replace(/\s+/g, ' ').trim()).find((t) => re.test(t));
  }

  /** The rows of the Variables view's top level (the scopes) as shown now. */
  async variableScopes(): Promise<string[]> {
    const rows = this.page.locator('.debug-variables .monaco-list-row[aria-level="1"]');
    return (await rows.allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
  }

  /** A pane of the Run and Debug view (e.g. "Breakpoints"), expanded. */
  async expandPane(title: string): Promise<Locator> {
    const header = this.page.locator('.pane-header', { hasText: new RegExp(`^\\s*${title}`, 'i') }).first();
    await header.waitFor({ timeout: 10_000 });
    if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
    return header.locator('xpath=..');
  }

  /** Ticks or clears an exception-breakpoint filter in the Breakpoints view, by its label. */
  async setExceptionFilter(label: string, enabled: boolean): Promise<void> {
    const pane = await this.expandPane('Breakpoints');
    const row = pane.locator('.monaco-list-row', { hasText: label }).first();
    await row.waitFor({ timeout: 15_000 });
    const box = row.locator('.monaco-custom-toggle, input[type=checkbox]').first();
    const checked = async () => {
      const aria = await box.getAttribute('aria-checked');
      if (aria !== null) return aria === 'true';
      return box.isChecked();
    };
    // The list re-renders as the session updates its breakpoints, and a click on a row being
    // replaced is lost: click again (only while still in the other state) until it takes.
    for (let tries = 0; tries < 3 && (await checked()) !== enabled; tries++) {
      await row.hover(); // a hover card left over another row would take the click
      await box.click();
      await until(`"${label}" ${enabled ? 'ticked' : 'cleared'}`, 1500, async () => (await checked()) === enabled).catch(() => {});
    }
    await until(`"${label}" ${enabled ? 'ticked' : 'cleared'}`, 5000, async () => (await checked()) === enabled);
  }

  /**
   * Expands a path in the Variables view (scope, then children), with the keyboard so that rows
   * scrolled out of the virtualized list are reached. Returns the text of the last element and
   * of (up to `showRows` of) its children.
   */
  async expandVariables(path: readonly RegExp[], showRows = 16): Promise<string> {
    await this.showDebugView();
    const tree = this.page.locator('.debug-variables .monaco-list').first();
    const rows = tree.locator('.monaco-list-row');
    // The focused row and the row after it (by list index: rows are not in DOM order).
    const focus = () =>
      rows.evaluateAll((els) => {
        const info = (e: Element | undefined) =>
          e && { index: Number(e.getAttribute('data-index')), level: Number(e.getAttribute('aria-level')), expanded: e.getAttribute('aria-expanded'), text: (e.textContent ?? '').replace(/\s+/g, ' ').trim() };
        const f = els.find((e) => e.classList.contains('focused'));
        const next = f && els.find((e) => Number(e.getAttribute('data-index')) === Number(f.getAttribute('data-index')) + 1);
        return f ? { ...info(f)!, next: info(next) } : null;
      });
    // Collapse everything (the Variables title bar's action), so the scopes are all on screen.
    const pane = await this.expandPane('Variables');
    await pane.hover();
    await pane.locator('.pane-header .codicon-collapse-all').first().click({ timeout: 2000 }).catch(() => undefined);
    const top = rows.filter({ hasText: path[0]! }).first();
    await top.waitFor({ timeout: 15_000 });
    await top.click();
    for (let i = 0; i < path.length; i++) {
      const want = path[i]!;
      const at = await until(`"${want.source}" in Variables`, 10_000, async () => {
        const f = await focus();
        if (f && want.test(f.text)) return f;
        await this.page.keyboard.press('ArrowDown');
        return undefined;
      }, 60);
      if (at.expanded === 'false') await this.page.keyboard.press('ArrowRight');
      // Children are fetched from the adapter: wait until the row after this one is a child, or
      // moving down would skip to the next sibling.
      await until(`"${want.source}" expanded with its children`, 10_000, async () => {
        const f = await focus();
        if (!f || f.expanded !== 'true') return false;
        if (f.next) return f.next.level === f.level + 1;
        await tree.hover();
        await this.page.mouse.wheel(0, 120); // the next row is below the fold: bring it in
        return false;
      });
      if (i + 1 < path.length) await this.page.keyboard.press('ArrowDown');
    }
    // Walk into the children (moving the focus scrolls them into view) and read them.
    const parent = (await focus())!;
    const lines = [parent.text];
    for (let i = 0; i < showRows; i++) {
      await this.page.keyboard.press('ArrowDown');
      const f = await until('the focus to move', 5000, async () => {
        const g = await focus();
        return g && g.index !== parent.index + i ? g : undefined;
      }, 30);
      if (f.level <= parent.level) break; // past the last child
      lines.push(f.text);
    }
    return lines.join('\n');
  }

  // ---------- webviews ----------

  /**
   * The content frame of a webview panel, found by a selector only its page has. A webview is
   * an iframe.webview (VS Code's host page) holding iframe#active-frame (the extension's HTML).
   */
  async webview(selector: string, timeoutMs = 30_000): Promise<Frame> {
    return until(`a webview with ${selector}`, timeoutMs, async () => {
      for (const f of this.page.frames()) {
        if (f === this.page.mainFrame() || f.isDetached()) continue;
        // A frame still loading can hold a query until it is done: give each a short look.
        const n = await Promise.race([f.locator(selector).count(), sleep(1000).then(() => 0)]).catch(() => 0);
        if (n > 0) return f;
      }
      return undefined;
    }, 250);
  }

  async screenshot(file: string): Promise<void> {
    await this.page.screenshot({ path: file }).catch(() => undefined);
  }
}
