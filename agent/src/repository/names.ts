// Model names and versions are validated before they are used anywhere, so that no name taken
// from a request or a folder can point outside the model repository.

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const VERSION = /^[1-9][0-9]{0,8}$|^0$/;

export function isValidModelName(name: string): boolean {
  return MODEL_NAME.test(name) && !name.includes('..');
}

export function isValidVersion(version: string): boolean {
  return VERSION.test(version);
}

export const MODEL_NAME_RULE =
  'model names are 1-128 characters of letters, digits, "_", "-" and ".", starting with a letter or digit';
export const VERSION_RULE = 'versions are non-negative integers without leading zeros (folder names like "1", "2")';
