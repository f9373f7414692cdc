// The "semu: TX/RX Levels" panel: nothing beyond PanelBase — the hub feeds it, one at a time.
import { PanelBase, PanelSlot, type PanelSpec } from './panel';

export const LEVELS_SPEC: PanelSpec = { kind: 'levels', viewType: 'semu.levels', title: 'semu: TX/RX Levels' };

export const levelsPanel = new PanelSlot(LEVELS_SPEC, (panel, spec, uri) => new PanelBase(panel, spec, uri));
