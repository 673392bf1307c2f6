/** The one error format of configuration: every problem of an environment, one `  VAR: message` line each. */
import type { z } from 'zod';

/** One thing wrong with the configuration: the variable(s) it is about, and what is wrong or what to do. */
export interface ConfigProblem {
  variable: string;
  message: string;
}

/** Thrown when the environment cannot be used; `problems` lists them all, the message shows them all. */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super(formatProblems(problems));
    this.problems = problems;
  }
}

/** `Invalid configuration:` followed by one indented `VAR: message` line per problem. */
export function formatProblems(problems: readonly ConfigProblem[]): string {
  return ['Invalid configuration:', ...problems.map((p) => `  ${p.variable}: ${p.message}`)].join('\n');
}

/** Schema issues as problems: the variable is the first path element (the environment is one flat object). */
export function problemsOfIssues(issues: readonly z.core.$ZodIssue[]): ConfigProblem[] {
  return issues.map((issue) => ({
    variable: issue.path.map(String).join('.') || '(environment)',
    message: issue.message,
  }));
}

/** A problem written as `VAR: message` elsewhere (core/api-keys.ts), split back into its parts. */
export function problemOfLine(line: string): ConfigProblem {
  const at = line.indexOf(': ');
  return at < 0
    ? { variable: '(environment)', message: line }
    : { variable: line.slice(0, at), message: line.slice(at + 2) };
}
