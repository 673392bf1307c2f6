/** The AsyncAPI document as Markdown tables, for docs/EVENTS.md (between its `events:catalog` markers). */

interface Message {
  payload: {
    schema: { properties?: { data?: { properties?: Record<string, unknown>; required?: string[] } } };
  };
}
interface Channel {
  address: string;
  messages: Record<string, { $ref: string }>;
}
interface Operation {
  action: 'send' | 'receive';
  channel: { $ref: string };
}

export const CATALOG_BEGIN =
  '<!-- events:catalog:begin (generated from /asyncapi.json: npm run events:docs) -->';
export const CATALOG_END = '<!-- events:catalog:end -->';

/** One row per event: subject, CloudEvents type, who sends and receives it, the fields of its `data`. */
export function eventCatalogMarkdown(document: Record<string, unknown>): string {
  const channels = document.channels as Record<string, Channel>;
  const operations = document.operations as Record<string, Operation>;
  const messages = (document.components as { messages: Record<string, Message> }).messages;
  const rows = Object.entries(channels).map(([key, channel]) => {
    const [service = '', name = ''] = key.split('.');
    const receivers = Object.entries(operations)
      .filter(([, op]) => op.action === 'receive' && op.channel.$ref === `#/channels/${key}`)
      .map(([id]) => id.split('.')[0]);
    const data = messages[name]?.payload.schema.properties?.data;
    const fields = Object.keys(data?.properties ?? {})
      .map((field) => (data?.required?.includes(field) ? `\`${field}\`` : `\`${field}?\``))
      .join(', ');
    return `| ${name} | \`${channel.address}\` | \`order-saga.${service}.${name}.v1\` | ${service} | ${receivers.join(', ') || '—'} | ${fields} |`;
  });
  return [
    CATALOG_BEGIN,
    '| event | subject | CloudEvents type | published by | consumed by | data |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    CATALOG_END,
  ].join('\n');
}

/** `markdown` with its catalog section replaced (or appended when it has none). */
export function withEventCatalog(markdown: string, catalog: string): string {
  const begin = markdown.indexOf(CATALOG_BEGIN);
  const end = markdown.indexOf(CATALOG_END);
  if (begin < 0 || end < begin) return `${markdown.trimEnd()}\n\n${catalog}\n`;
  return `${markdown.slice(0, begin)}${catalog}${markdown.slice(end + CATALOG_END.length)}`;
}
