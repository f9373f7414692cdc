// The webview side of VS Code: acquireVsCodeApi() may be called once per page. Outside VS Code
// (a browser opened on the bundle by hand) a stand-in keeps the panel working without a host.
import type { FromPanel } from '../../src/shared/protocol';

export interface VsCodeApi<S> {
  postMessage(msg: FromPanel): void;
  getState(): S | undefined;
  setState(state: S): void;
}

declare const acquireVsCodeApi: undefined | (<S>() => VsCodeApi<S>);

export function vscodeApi<S>(): VsCodeApi<S> {
  if (typeof acquireVsCodeApi === 'function') return acquireVsCodeApi<S>();
  let state: S | undefined;
  return {
    postMessage: () => undefined,
    getState: () => state,
    setState: (s) => {
      state = s;
    },
  };
}
