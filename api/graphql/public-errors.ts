/**
 * What of an error a client may see: a rejected variable without its value (graphql-js prints the whole input, a
 * payment token with it), a failed subgraph call without the call (its URL, its body) and as
 * `SUBGRAPH_UNAVAILABLE`, naming the subgraph only.
 */
import { GraphQLError } from 'graphql';

/** Extensions the HTTP executor adds to a failed subgraph call: its request (body, variables) and response. */
const INTERNAL_EXTENSIONS = new Set(['request', 'response', 'http']);

/** Codes of a subgraph call that failed as a call (refused, garbage, or the subgraph refusing the gateway). */
const CALL_FAILURE_CODES = new Set([
  'SUBREQUEST_HTTP_ERROR',
  'RESPONSE_VALIDATION_FAILED',
  'UNAUTHENTICATED',
]);

/** graphql-js quotes the whole rejected variable (a payment token, say): `Variable "$x" got invalid value …`. */
const REJECTED_VARIABLE = /^(Variable "\$[^"]+") got invalid value [\s\S]*?(?: at "([^"]*)")?; ([^;]*)$/;

/**
 * An error as a client may see it: a rejected variable without its value, a failed call without the call (its
 * URL, its body) and as `SUBGRAPH_UNAVAILABLE`, naming the subgraph only.
 */
export function publicError(error: GraphQLError): GraphQLError {
  const extensions = { ...(error.extensions ?? {}) } as Record<string, unknown>;
  let message = error.message;
  const rejected = REJECTED_VARIABLE.exec(message);
  if (rejected)
    message = `${rejected[1]} got an invalid value${rejected[2] ? ` at "${rejected[2]}"` : ''}; ${rejected[3]}`;
  else if (message.startsWith('Variable "$') && message.includes(' got invalid value ')) {
    message = `${message.slice(0, message.indexOf(' got invalid value '))} got an invalid value`;
  }
  const subgraph = typeof extensions.serviceName === 'string' ? extensions.serviceName : undefined;
  if (subgraph && CALL_FAILURE_CODES.has(String(extensions.code))) {
    message = `The ${subgraph} subgraph is unavailable`;
    extensions.code = 'SUBGRAPH_UNAVAILABLE';
  }
  const internal = Object.keys(extensions).filter((key) => INTERNAL_EXTENSIONS.has(key));
  if (message === error.message && internal.length === 0 && extensions.code === error.extensions?.code)
    return error;
  for (const key of internal) delete extensions[key];
  return new GraphQLError(message, {
    ...(error.nodes ? { nodes: error.nodes } : {}),
    ...(error.path ? { path: error.path } : {}),
    extensions,
  });
}
