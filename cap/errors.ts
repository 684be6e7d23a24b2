// One refusal reason: where in the document (an XPath-like path a sender can find), a stable
// English code (the key of a message `cap_<code>` in i18n/messages.js), an English sentence for
// logs, and the values the translated message needs.
export type CapErrorCode =
  | 'too_large'
  | 'empty_document'
  | 'dtd_forbidden'
  | 'bad_encoding'
  | 'malformed'
  | 'too_deep'
  | 'not_cap'
  | 'wrong_version'
  | 'missing'
  | 'duplicate'
  | 'unknown_element'
  | 'empty'
  | 'bad_value'
  | 'bad_datetime'
  | 'bad_identifier'
  | 'bad_polygon'
  | 'bad_circle'
  | 'bad_references'
  | 'bad_number'
  | 'restriction_required'
  | 'addresses_required'
  | 'unsigned'
  | 'signature_unsupported'
  | 'signature_digest_mismatch'
  | 'bad_signature'
  | 'untrusted_key';

export interface CapError {
  path: string;
  code: CapErrorCode;
  reason: string;
  params: Record<string, string | number>;
}

export function capError(path: string, code: CapErrorCode, reason: string, params: Record<string, string | number> = {}): CapError {
  return { path, code, reason, params: { path, ...params } };
}
