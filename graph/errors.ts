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

/**
 * A problem as a GraphQL error: the same detail, code and failing fields as its problem+json body; at the path and
 * locations of `located` (the error graphql-js made of the resolver's throw), so it stays a field's error.
 */
export function graphQLErrorOf(problem: ProblemError, located?: GraphQLError): GraphQLError {
  return new GraphQLError(problem.detail, {
    originalError: problem,
    ...(located?.nodes ? { nodes: located.nodes } : {}),
    ...(located?.path ? { path: located.path } : {}),
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

/**
 * Whether a value is a GraphQL error, by name: graphql-js ships a CommonJS and an ES module build, and libraries
 * loading the other one throw errors that are not `instanceof` this module's class.
 */
export function isGraphQLError(error: unknown): error is GraphQLError {
  return error instanceof Error && error.name === 'GraphQLError';
}

/** What a resolver's error becomes on the wire; undefined when it must be masked. */
export function exposedError(error: unknown): GraphQLError | undefined {
  if (error instanceof ProblemError) return graphQLErrorOf(error);
  if (isGraphQLError(error)) {
    const cause = error.originalError;
    if (cause instanceof ProblemError) return graphQLErrorOf(cause, error);
    // Errors of the GraphQL layer itself (parse, validation, coercion of arguments) carry no original error.
    if (!cause) return error;
    // A resolver threw a GraphQL error (validationError): keep it, at the field's path.
    if (isGraphQLError(cause)) {
      const inner =
        cause.originalError instanceof ProblemError ? graphQLErrorOf(cause.originalError, error) : cause;
      return new GraphQLError(inner.message, {
        ...(error.nodes ? { nodes: error.nodes } : {}),
        ...(error.path ? { path: error.path } : {}),
        extensions: inner.extensions,
      });
    }
  }
  return undefined;
}
