// "semu console": the guest's UART as a VS Code terminal. Output comes from the debug session
// (the adapter runs inline in this process); keys go straight to the machine's console input.
// One terminal is reused across sessions; closing it does not stop the machine (the Debug
// toolbar does), and reopening happens on the next session.

import * as vscode from 'vscode';

export const TERMINAL_NAME = 'semu console';

export class ConsoleTerminal implements vscode.Disposable {
  private terminal: vscode.Terminal | null = null;
  private readonly writeEmitter = new vscode.EventEmitter<string>();
  private input: ((text: string) => void) | null = null;
  private opened = false;
  private backlog = '';
  private readonly subs: vscode.Disposable[] = [];

  constructor() {
    this.subs.push(
      vscode.window.onDidCloseTerminal((t) => {
        if (t === this.terminal) {
          this.terminal = null;
          this.opened = false;
        }
      }),
    );
  }

  /** Shows the terminal for a new session (creating it if needed) without taking focus. */
  open(sessionName: string): void {
    if (!this.terminal) {
      const pty: vscode.Pseudoterminal = {
        onDidWrite: this.writeEmitter.event,
        open: () => {
          this.opened = true;
          if (this.backlog) {
            this.writeEmitter.fire(this.backlog);
            this.backlog = '';
          }
        },
        close: () => {
          this.opened = false;
        },
        handleInput: (data) => this.input?.(data),
      };
      this.terminal = vscode.window.createTerminal({ name: TERMINAL_NAME, pty });
    } else {
      this.write(`\r\n\x1b[2m--- ${sessionName} ---\x1b[0m\r\n`);
    }
    this.terminal.show(true);
  }

  /** Guest output. Text written before VS Code opened the terminal is kept and replayed. */
  write(text: string): void {
    if (this.opened) this.writeEmitter.fire(text);
    else if (this.backlog.length < 1 << 20) this.backlog += text;
  }

  /** Where typed keys go (null: the machine is gone, keys are dropped). */
  setInput(sink: ((text: string) => void) | null): void {
    this.input = sink;
  }

  ended(message: string): void {
    this.setInput(null);
    this.write(`\r\n\x1b[2m[${message}]\x1b[0m\r\n`);
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.terminal?.dispose();
    this.writeEmitter.dispose();
  }
}
