// Colours for canvas drawing, read from VS Code's theme variables (--vscode-*), and a hook that
// fires when the theme changes (VS Code swaps the body's class and the variables).

export interface ChartColors {
  foreground: string;
  muted: string;
  grid: string;
  background: string;
  series: string[];
  red: string;
  yellow: string;
  green: string;
  font: string;
}

export function chartColors(): ChartColors {
  const css = getComputedStyle(document.documentElement);
  const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  const fg = v('--vscode-charts-foreground', v('--vscode-foreground', '#cccccc'));
  return {
    foreground: fg,
    muted: v('--vscode-descriptionForeground', fg),
    grid: v('--vscode-charts-lines', 'rgba(128,128,128,0.35)'),
    background: v('--vscode-sideBar-background', v('--vscode-editor-background', 'transparent')),
    series: ['--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-purple', '--vscode-charts-green', '--vscode-charts-yellow', '--vscode-charts-red'].map((n, i) =>
      v(n, ['#3794ff', '#d18616', '#b180d7', '#89d185', '#cca700', '#f14c4c'][i]!),
    ),
    red: v('--vscode-charts-red', '#f14c4c'),
    yellow: v('--vscode-charts-yellow', '#cca700'),
    green: v('--vscode-charts-green', '#89d185'),
    font: `${v('--vscode-font-size', '12px').replace(/px$/, '') || 12}px ${v('--vscode-font-family', 'sans-serif')}`,
  };
}

export function onThemeChange(callback: () => void): void {
  new MutationObserver(callback).observe(document.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-kind', 'data-vscode-theme-id'] });
}
