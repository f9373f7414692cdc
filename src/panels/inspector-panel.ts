// The "semu: Virtqueues" inspector, one at a time. Its own job beyond the hub's: a click on a
// descriptor in the webview opens that guest-physical buffer in VS Code's memory view
// (see memory.ts).
import { openGuestMemory } from './memory';
import { PanelBase, PanelSlot, type PanelSpec } from './panel';

export const INSPECTOR_SPEC: PanelSpec = { kind: 'inspector', viewType: 'semu.virtqueues', title: 'semu: Virtqueues' };

export const inspectorPanel = new PanelSlot(INSPECTOR_SPEC, (panel, spec, uri) => {
  const p = new PanelBase(panel, spec, uri);
  p.onMessage((msg) => {
    if (msg.type === 'openMemory') void openGuestMemory(msg.address, msg.length);
  });
  return p;
});
