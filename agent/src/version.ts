// Injected by the esbuild bundle (scripts/build.mjs) from package.json; "dev" when run from source.
declare const INFERSCOPE_VERSION: string | undefined;
export const AGENT_VERSION: string = typeof INFERSCOPE_VERSION === 'string' ? INFERSCOPE_VERSION : '0.0.0-dev';
