// The questions a command asks (quick picks, input boxes, messages with buttons) behind one small
// interface, so extension-host tests answer them in place of a user (Services.prompts).
import * as vscode from 'vscode';

export interface PickOptions<T extends vscode.QuickPickItem> {
  title: string;
  placeholder?: string;
  /**
   * What the user types becomes an item of its own (e.g. custom weights): an item to offer, or an
   * error shown under it (that item cannot be accepted).
   */
  typed?(value: string): T | { error: string } | undefined;
}

export interface Prompts {
  pick<T extends vscode.QuickPickItem>(items: readonly T[], options: PickOptions<T>): Promise<T | undefined>;
  input(options: vscode.InputBoxOptions & { title: string }): Promise<string | undefined>;
  /** A notification (or a modal dialog) with buttons; the button's label, or undefined. */
  message(kind: 'info' | 'warning' | 'error', text: string, options: { modal?: boolean }, ...buttons: string[]): Promise<string | undefined>;
}

export const windowPrompts: Prompts = {
  pick: <T extends vscode.QuickPickItem>(items: readonly T[], options: PickOptions<T>) => {
    if (!options.typed) return Promise.resolve(vscode.window.showQuickPick(items, { title: options.title, ...(options.placeholder ? { placeHolder: options.placeholder } : {}) }));
    return pickWithTyped(items, options);
  },
  input: (options) => Promise.resolve(vscode.window.showInputBox(options)),
  message: (kind, text, options, ...buttons) => {
    const show = kind === 'info' ? vscode.window.showInformationMessage : kind === 'warning' ? vscode.window.showWarningMessage : vscode.window.showErrorMessage;
    return Promise.resolve(show(text, options, ...buttons));
  },
};

/** A quick pick whose typed value is offered as the first item (or explains why it cannot be). */
function pickWithTyped<T extends vscode.QuickPickItem>(items: readonly T[], options: PickOptions<T>): Promise<T | undefined> {
  return new Promise((resolve) => {
    const qp = vscode.window.createQuickPick<T | (vscode.QuickPickItem & { error: string })>();
    qp.title = options.title;
    if (options.placeholder) qp.placeholder = options.placeholder;
    qp.items = items;
    qp.onDidChangeValue((value) => {
      const t = value.trim() ? options.typed!(value) : undefined;
      const own = t === undefined ? [] : 'error' in t ? [{ label: value, description: 'not valid weights', detail: `$(error) ${t.error}`, alwaysShow: true, error: t.error }] : [{ ...t, alwaysShow: true }];
      qp.items = [...own, ...items];
    });
    qp.onDidAccept(() => {
      const chosen = qp.selectedItems[0];
      if (!chosen || 'error' in chosen) return; // an invalid typed value stays open with its error
      resolve(chosen as T);
      qp.hide();
    });
    qp.onDidHide(() => {
      resolve(undefined);
      qp.dispose();
    });
    qp.show();
  });
}
