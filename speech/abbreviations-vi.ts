/**
 * Abbreviations common in Vietnamese disaster bulletins and official notices,
 * spelled out before synthesis (a voice would spell them letter by letter).
 * Matched case-sensitively as whole tokens; longer entries first, so
 * "PCTT&TKCN" wins over "PCTT".
 */
export const VI_ABBREVIATIONS: ReadonlyArray<readonly [string, string]> = [
  ['PCTT&TKCN', 'phòng chống thiên tai và tìm kiếm cứu nạn'],
  ['PCTT và TKCN', 'phòng chống thiên tai và tìm kiếm cứu nạn'],
  ['NN&PTNT', 'nông nghiệp và phát triển nông thôn'],
  ['TN&MT', 'tài nguyên và môi trường'],
  ['QĐ-TTg', 'quyết định của thủ tướng chính phủ'],
  ['NĐ-CP', 'nghị định của chính phủ'],
  ['UBND', 'ủy ban nhân dân'],
  ['HĐND', 'hội đồng nhân dân'],
  ['BCH', 'ban chỉ huy'],
  ['PCTT', 'phòng chống thiên tai'],
  ['TKCN', 'tìm kiếm cứu nạn'],
  ['KTTV', 'khí tượng thủy văn'],
  ['ATNĐ', 'áp thấp nhiệt đới'],
  ['CHQS', 'chỉ huy quân sự'],
  ['BĐBP', 'bộ đội biên phòng'],
  ['PCCC', 'phòng cháy chữa cháy'],
  ['GTVT', 'giao thông vận tải'],
  ['TNMT', 'tài nguyên môi trường'],
  ['THPT', 'trung học phổ thông'],
  ['SĐT', 'số điện thoại'],
  ['TTg', 'thủ tướng chính phủ'],
  ['TP.', 'thành phố'],
  ['Tp.', 'thành phố'],
  ['TP', 'thành phố'],
  ['TX.', 'thị xã'],
  ['TT.', 'thị trấn'],
  ['QL', 'quốc lộ'],
  ['TW', 'trung ương'],
  ['VN', 'Việt Nam'],
  ['v.v.', 'vân vân'],
];

/**
 * Units after a number, spelled out ("25 mm" → "25 mi li mét"). Longer
 * entries first so "km/h" wins over "km" and "m".
 */
export const VI_UNITS: ReadonlyArray<readonly [string, string]> = [
  ['km/giờ', 'ki lô mét trên giờ'],
  ['km/h', 'ki lô mét trên giờ'],
  ['m3/s', 'mét khối trên giây'],
  ['m³/s', 'mét khối trên giây'],
  ['mm/h', 'mi li mét trên giờ'],
  ['m/s', 'mét trên giây'],
  ['km2', 'ki lô mét vuông'],
  ['km²', 'ki lô mét vuông'],
  ['hPa', 'héc tô pát xcan'],
  ['°C', 'độ C'],
  ['ºC', 'độ C'],
  ['km', 'ki lô mét'],
  ['mm', 'mi li mét'],
  ['cm', 'xen ti mét'],
  ['m3', 'mét khối'],
  ['m³', 'mét khối'],
  ['kg', 'ki lô gam'],
  ['ha', 'héc ta'],
  ['mb', 'mi li ba'],
  ['m', 'mét'],
  ['°', 'độ'],
  ['%', 'phần trăm'],
];
