/** Scalars shared by the subgraphs. */
import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

function safeInteger(value: unknown): number {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  throw new GraphQLError(`Cents must be a safe integer, got ${JSON.stringify(value)}`, {
    extensions: { code: 'BAD_USER_INPUT' },
  });
}

/** Integer cents up to 2^53 - 1, carried as a JSON number (GraphQL's Int stops at 2^31 - 1). */
export const Cents = new GraphQLScalarType({
  name: 'Cents',
  serialize: safeInteger,
  parseValue: safeInteger,
  parseLiteral(ast) {
    if (ast.kind !== Kind.INT) throw new GraphQLError('Cents must be an integer literal');
    return safeInteger(Number(ast.value));
  },
});
