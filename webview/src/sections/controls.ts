// Buttons from @vscode-elements (keyboard-reachable, themed), tagged with a data-action so that
// tests can press exactly what a user presses.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import { h } from '../dom.js';

export function button(label: string, action: string, onClick: () => void, secondary = false): HTMLElement {
  const b = h('vscode-button', { 'data-action': action, secondary, 'aria-label': label }, label);
  b.addEventListener('click', onClick);
  return b;
}
