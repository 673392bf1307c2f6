/** 405 with `Allow` for a known path asked with a method it does not have (Hono alone would answer 404). */
interface RouteMatcher {
  pattern: RegExp;
  method: string;
}

/** Finds the methods an app serves for a path, from its own route table (built once, on first use). */
export function allowedMethodsOf(app: { routes: ReadonlyArray<{ method: string; path: string }> }) {
  let matchers: RouteMatcher[] | undefined;
  return (path: string): string[] => {
    matchers ??= app.routes
      .filter((route) => route.method !== 'ALL')
      .map((route) => ({ pattern: toPattern(route.path), method: route.method.toUpperCase() }));
    const methods = new Set(matchers.filter((m) => m.pattern.test(path)).map((m) => m.method));
    // Hono answers HEAD with the GET handler.
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  };
}

function toPattern(path: string): RegExp {
  const source = path
    .split('/')
    .map((part) =>
      part === '*' ? '.*' : part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('/');
  return new RegExp(`^${source}$`);
}
