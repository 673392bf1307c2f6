/**
 * The failure converter of every client, worker and workflow bundle while payload encryption is on: the SDK's own,
 * with `encodeCommonAttributes`, so a failure's message and stack trace move into a payload that the payload codec
 * encrypts (the history then shows only "Encoded failure"). CommonJS on purpose: the SDK `require()`s this file by
 * path (DataConverter.failureConverterPath) in every process, tests included, and webpack puts it into the workflow
 * bundle, where it must import nothing but the SDK.
 */
const { DefaultFailureConverter } = require('@temporalio/common');

exports.failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
