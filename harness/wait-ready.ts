/** Waits until an API answers 200 on /readyz (a harness starting the API as a process). */
export async function waitReady(baseUrl: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(`${baseUrl}/readyz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`API at ${baseUrl} did not become ready`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
