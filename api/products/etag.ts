/** Product entity tags (`"v<version>"`) and the conditional-write preconditions `If-Match` / `If-None-Match` ask for. */
import type { ProductWriteCondition } from '../../db/queries/catalog.js';

/** A strong entity tag of a product, `"v<version>"`. */
export const productEtag = (version: number) => `"v${version}"`;

/** One entity tag (strong or weak) as RFC 9110 spells it. */
const ENTITY_TAG = String.raw`(?:W\/)?"[\x21\x23-\x7e\x80-\xff]*"`;
/** A valid `If-Match` value: `*` or a comma-separated list of entity tags. */
export const IF_MATCH = new RegExp(
  String.raw`^[ \t]*(?:\*|${ENTITY_TAG}(?:[ \t]*,[ \t]*${ENTITY_TAG})*)[ \t]*$`,
);

/**
 * The versions an `If-Match` value names: `*` for any; otherwise the versions of its strong `"v<n>"` tags (weak
 * tags never match under the strong comparison `If-Match` requires, and other tags are not ours).
 */
export function versionsOfIfMatch(value: string): '*' | number[] {
  if (value.trim() === '*') return '*';
  const versions: number[] = [];
  for (const [, weak, opaque] of value.matchAll(/(W\/)?"([^"]*)"/g)) {
    const version = weak ? undefined : /^v([1-9][0-9]{0,9})$/.exec(opaque ?? '')?.[1];
    if (version !== undefined && Number(version) <= 2_147_483_647) versions.push(Number(version));
  }
  return versions;
}

/** The write condition a request's `If-Match` / `If-None-Match` headers ask for. */
export function writeConditionOf(
  ifMatch: string | undefined,
  ifNoneMatch: string | undefined,
): ProductWriteCondition {
  if (ifMatch !== undefined && ifNoneMatch !== undefined) return { kind: 'never' };
  if (ifNoneMatch !== undefined) return { kind: 'absent' };
  if (ifMatch === undefined) return { kind: 'create' };
  const versions = versionsOfIfMatch(ifMatch);
  return versions === '*' ? { kind: 'exists' } : { kind: 'version', versions };
}
