/** Readiness by polling: a URL that answers 200 (an API's /readyz, Prometheus's /-/ready). */

export interface WaitForUrlOptions {
  timeoutMs: number;
  /** Which statuses count as ready; default 200. */
  accept?: (status: number) => boolean;
  /** A reason to give up at once (the process serving it exited), or undefined to go on. */
  failIf?: () => string | undefined;
  intervalMs?: number;
}

/** Polls `url` until it is ready; throws with the last status seen when the time is up. */
export async function waitForUrl(url: string, options: WaitForUrlOptions): Promise<void> {
  const { timeoutMs, accept = (status) => status === 200, failIf, intervalMs = 250 } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await fetch(url, { signal: AbortSignal.timeout(5_000) }).then(
      (response) => response.status,
      () => 0,
    );
    if (status !== 0 && accept(status)) return;
    const reason = failIf?.();
    if (reason) throw new Error(reason);
    if (Date.now() > deadline) {
      throw new Error(
        `${url} not ready after ${timeoutMs} ms (${status ? `last status ${status}` : 'no answer'})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Waits until the API at `baseUrl` answers 200 on /readyz. */
export function waitReady(baseUrl: string, timeoutMs = 60_000): Promise<void> {
  return waitForUrl(`${baseUrl}/readyz`, { timeoutMs });
}
