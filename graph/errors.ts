/**
 * Errors in GraphQL's own format with stable `extensions.code` values: a REST problem keeps its meaning as the
 * problem slug in upper snake case (`not-found` → `NOT_FOUND`, `validation` → `VALIDATION`), plus the REST problem
 * type URI; anything unexpected is masked as `INTERNAL_SERVER_ERROR` (and logged by the server that masked it).
 */
import { GraphQLError } from 'graphql';
import type { ZodError } from 'zod';
import { PROBLEM_BASE, ProblemError, type ProblemSlug } from '../api/problems/problem.js';

/** The `extensions.code` of a REST problem. */
export function problemCode(slug: ProblemSlug): string {
  return slug.toUpperCase().replaceAll('-', '_');
}

/** A problem as a GraphQL error: the same detail, code and failing fields as its problem+json body. */
export function graphQLErrorOf(problem: ProblemError): GraphQLError {
  return new GraphQLError(problem.detail, {
    originalError: problem,
    extensions: {
      code: problemCode(problem.slug),
      problemType: `${PROBLEM_BASE}${problem.slug}`,
      status: problem.status,
      ...(problem.extra.errors ? { errors: problem.extra.errors } : {}),
      ...(problem.extra.orderStatus ? { orderStatus: problem.extra.orderStatus } : {}),
      ...(problem.extra.orderId ? { orderId: problem.extra.orderId } : {}),
    },
  });
}

/** A zod failure of an argument as the `validation` problem REST would answer (same paths and messages). */
export function validationError(error: ZodError, prefix: string): GraphQLError {
  const errors = error.issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  return graphQLErrorOf(new ProblemError('validation', `Invalid ${prefix}`, { errors }));
}

/** What a resolver's error becomes on the wire; undefined when it must be masked. */
export function exposedError(error: unknown): GraphQLError | undefined {
  if (error instanceof ProblemError) return graphQLErrorOf(error);
  if (error instanceof GraphQLError) {
    if (error.originalError instanceof ProblemError) return graphQLErrorOf(error.originalError);
    // Errors of the GraphQL layer itself (parse, validation, coercion of arguments) carry no original error.
    if (!error.originalError) return error;
    if (error.originalError instanceof GraphQLError) return exposedError(error.originalError);
  }
  return undefined;
}
