// CAP 1.2 ingest, as the alerts resource uses it:
//   parseCap(bytes, { maxBytes, versions, trust })   → { ok, alert } | { ok: false, errors }
//   mapAlertToZones(alert, zones, { valueNames })    → { zoneIds, unmatched }
//   findAudioResource(info.resource) + loadResourceAudio(resource, limits) → audio bytes | error
//   capMessageKey / referenceNames                   → Update and Cancel find their targets
//   fetchXml(feedUrl, limits) + readCapFeed(bytes)   → one poll of a CAP, Atom or RSS feed
// Every refusal carries a code translated (i18n/messages.js, server/i18n.ts) as cap_<code> (cap_resource_<code>
// for audio resources).
export * from './parse.js';
export { mapAlertToZones, mapAreasToZones, DEFAULT_GEOCODE_VALUE_NAMES, type ZoneGeography, type AreaMatch, type AreaMatchOptions, type UnmatchedAreaPart, type UnmatchedReason } from './areas.js';
export { fetchAudio, fetchXml, findAudioResource, loadResourceAudio, decodeDerefUri, DEFAULT_RESOURCE_LIMITS, type AudioResult, type ResourceError, type ResourceErrorCode, type ResourceLimits } from './fetch-resource.js';
export { verifyCapSignature, trustStoreFromPem, type TrustStore, type SignatureResult, type SignatureErrorCode } from './signature.js';
export { capMessageKey, referenceNames } from './references.js';
export { readCapFeed, type CapFeedEntry, type CapFeedResult } from './feed.js';
export type { CapErrorCode } from './errors.js';
