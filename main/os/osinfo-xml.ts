// Reads one osinfo-db XML file into plain objects, refusing what no osinfo-db file contains: a
// file over the size cap, a DOCTYPE (entity definitions are how an XML bomb expands), nesting
// deeper than the format uses. Parsing is fast-xml-parser's; this module only bounds its input.
import { XMLParser } from 'fast-xml-parser';
import { KjuError } from '../../common/errors.js';

/** The largest osinfo-db file in the 2025 release is under 200 KiB; 4 MiB leaves room and refuses a bomb before it is read. */
export const MAX_OSINFO_FILE_BYTES = 4 * 1024 * 1024;

/** Elements that can repeat in osinfo-db and so are always arrays here. */
const REPEATING = new Set([
  'os',
  'short-id',
  'name',
  'media',
  'iso',
  'volume-id',
  'publisher-id',
  'system-id',
  'application-id',
  'resources',
  'variant',
  'url',
  'script',
  'install-script',
  'firmware',
  'derives-from',
  'tree',
  'image',
]);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  textNodeName: '#text',
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: true,
  // numeric character references (&#xB9C8; in translated names); fast-xml-parser decodes them only with this
  htmlEntities: true,
  maxNestedTags: 32,
  isArray: (name) => REPEATING.has(name),
});

/** Parses `text` (already size-checked by the caller through `readCapped`); `where` names the file in errors. */
export function parseOsinfoXml(text: string, where: string): Record<string, unknown> {
  if (/<!DOCTYPE|<!ENTITY/i.test(text))
    throw new KjuError('invalid-config', `${where}: refused: it declares a DOCTYPE or entities, which osinfo-db files never do`, {
      hint: 'reinstall osinfo-db (apt-get install --reinstall osinfo-db)',
    });
  try {
    return parser.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new KjuError('invalid-config', `${where}: not readable XML: ${(err as Error).message.split('\n')[0]}`, { hint: 'reinstall osinfo-db (apt-get install --reinstall osinfo-db)', cause: err });
  }
}

/** The text of an element that may carry attributes (fast-xml-parser gives {'#text', '@lang'} then) */
export function textOf(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim();
  if (typeof v === 'number') return String(v);
  if (v && typeof v === 'object' && '#text' in v) return textOf((v as Record<string, unknown>)['#text']);
  return undefined;
}

/** The untranslated value of a repeating element (no xml:lang attribute). */
export function untranslated(list: unknown): string | undefined {
  if (!Array.isArray(list)) return textOf(list);
  const plain = list.find((v) => typeof v === 'string' || (v && typeof v === 'object' && !('@xml:lang' in v)));
  return textOf(plain ?? list[0]);
}
