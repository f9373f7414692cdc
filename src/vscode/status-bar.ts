// The status bar item: the guest's state, MIPS and xruns (device-model.ts makes the text);
// clicking it shows the TX/RX levels panel. Shown while a semu session exists.
import * as vscode from 'vscode';
import type { LevelsEventBody } from '../shared/protocol';
import { MipsMeter, statusText, type GuestState } from './device-model';

export class SemuStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('semu.status', vscode.StatusBarAlignment.Left, 50);
  private readonly meter = new MipsMeter();
  private state: GuestState = 'none';
  private streams: LevelsEventBody['streams'] | null = null;
  private shown = '';

  constructor() {
    this.item.name = 'semu';
    this.item.command = 'semu.showLevels';
    this.item.tooltip = 'semu: guest state, instructions per second, xruns (guest + host). Click for the TX/RX levels.';
  }

  started(): void {
    this.state = 'booting';
    this.meter.reset();
    this.streams = null;
    this.render();
    this.item.show();
  }

  setState(state: GuestState): void {
    this.state = state;
    if (state !== 'running') this.meter.reset();
    this.render();
  }

  levels(body: LevelsEventBody): void {
    if (this.state === 'booting' || (this.state === 'paused' && body.running)) this.state = 'running';
    this.meter.sample(body);
    this.streams = body.streams;
    this.render();
  }

  ended(): void {
    this.state = 'none';
    this.item.hide();
  }

  private render(): void {
    const text = statusText(this.state, this.meter.mips, this.streams);
    if (text === this.shown) return; // 20 Hz levels: touch the item only when its text changes
    this.shown = text;
    this.item.text = text;
  }

  dispose(): void {
    this.item.dispose();
  }
}
