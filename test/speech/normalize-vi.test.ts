import t from 'tap';
import { normalizeVietnamese } from '../../speech/normalize-vi.js';
import { readFraction, readInteger } from '../../speech/vi-number.js';

t.test('integers read the Vietnamese way', async (t) => {
  const cases: [string, string][] = [
    ['0', 'không'],
    ['5', 'năm'],
    ['10', 'mười'],
    ['11', 'mười một'],
    ['14', 'mười bốn'],
    ['15', 'mười lăm'],
    ['20', 'hai mươi'],
    ['21', 'hai mươi mốt'],
    ['24', 'hai mươi tư'],
    ['25', 'hai mươi lăm'],
    ['55', 'năm mươi lăm'],
    ['99', 'chín mươi chín'],
    ['100', 'một trăm'],
    ['101', 'một trăm linh một'],
    ['105', 'một trăm linh năm'],
    ['110', 'một trăm mười'],
    ['115', 'một trăm mười lăm'],
    ['121', 'một trăm hai mươi mốt'],
    ['1000', 'một nghìn'],
    ['1005', 'một nghìn không trăm linh năm'],
    ['1050', 'một nghìn không trăm năm mươi'],
    ['2025', 'hai nghìn không trăm hai mươi lăm'],
    ['10000', 'mười nghìn'],
    ['15000', 'mười lăm nghìn'],
    ['100000', 'một trăm nghìn'],
    ['1000005', 'một triệu không trăm linh năm'],
    ['2500000', 'hai triệu năm trăm nghìn'],
    ['1000000000', 'một tỷ'],
    ['3200000000', 'ba tỷ hai trăm triệu'],
    ['1000000000000', 'một nghìn tỷ'],
    ['007', 'bảy'],
  ];
  for (const [n, words] of cases) t.equal(readInteger(n), words, n);
  t.equal(readInteger('105', { zeroTens: 'lẻ' }), 'một trăm lẻ năm', 'southern "lẻ"');
  t.throws(() => readInteger('12a'), /not a string of digits/);
  t.throws(() => readInteger('1'.repeat(19)), /more than 18 digits/);
});

t.test('fractions after the decimal separator', async (t) => {
  t.equal(readFraction('5'), 'năm');
  t.equal(readFraction('25'), 'hai mươi lăm');
  t.equal(readFraction('05'), 'không năm');
  t.equal(readFraction('12345'), 'một hai ba bốn năm');
});

t.test('normalisation table: numbers, dates, times, units, ranges, abbreviations', async (t) => {
  const cases: [string, string][] = [
    // wind force and storm numbers
    ['Bão số 3 gió mạnh cấp 12, giật cấp 14.', 'Bão số ba gió mạnh cấp mười hai, giật cấp mười bốn.'],
    ['gió cấp 8-9, giật cấp 10', 'gió cấp tám đến chín, giật cấp mười'],
    // decimals: comma is the decimal separator, dot groups thousands
    ['18,5 độ Vĩ Bắc; 107,2 độ Kinh Đông', 'mười tám phẩy năm độ Vĩ Bắc; một trăm linh bảy phẩy hai độ Kinh Đông'],
    ['1.500 hộ dân', 'một nghìn năm trăm hộ dân'],
    ['2.500.000 đồng', 'hai triệu năm trăm nghìn đồng'],
    ['1.234,5', 'một nghìn hai trăm ba mươi tư phẩy năm'],
    ['2,05 m', 'hai phẩy không năm mét'],
    ['3.5', 'ba chấm năm'],
    // dates
    ['ngày 12/10/2025', 'ngày mười hai tháng mười năm hai nghìn không trăm hai mươi lăm'],
    ['Sáng 5/4/2024 mưa to', 'Sáng ngày mùng năm tháng tư năm hai nghìn không trăm hai mươi tư mưa to'],
    ['12-10-2025', 'ngày mười hai tháng mười năm hai nghìn không trăm hai mươi lăm'],
    ['01.01.2026', 'ngày mùng một tháng một năm hai nghìn không trăm hai mươi sáu'],
    ['tháng 4/2025', 'tháng tư năm hai nghìn không trăm hai mươi lăm'],
    ['trong 10/2025', 'trong tháng mười năm hai nghìn không trăm hai mươi lăm'],
    ['đêm 12/10', 'đêm ngày mười hai tháng mười'],
    ['ngày 12-14/10', 'ngày mười hai đến mười bốn tháng mười'],
    ['từ 30/9-2/10', 'từ ngày ba mươi tháng chín đến ngày mùng hai tháng mười'],
    ['25-27°C', 'hai mươi lăm đến hai mươi bảy độ C'],
    ['5.000ha', 'năm nghìn héc ta'],
    ['Thứ 2, ngày 5/4', 'Thứ hai, ngày mùng năm tháng tư'],
    ['02 người', 'hai người'],
    ['32/13/2025', 'ba mươi hai / mười ba / hai nghìn không trăm hai mươi lăm'],
    // times
    ['lúc 14h30', 'lúc mười bốn giờ ba mươi phút'],
    ['lúc 14h30 phút', 'lúc mười bốn giờ ba mươi phút'],
    ['lúc 7h00', 'lúc bảy giờ'],
    ['từ 22h', 'từ hai mươi hai giờ'],
    ['14:30', 'mười bốn giờ ba mươi phút'],
    ['08:05:09', 'tám giờ năm phút chín giây'],
    ['từ 14h-16h', 'từ mười bốn giờ đến mười sáu giờ'],
    ['từ 14-16h', 'từ mười bốn đến mười sáu giờ'],
    ['trong 24h tới', 'trong hai mươi tư giờ tới'],
    // units
    ['15-20 km/h', 'mười lăm đến hai mươi ki lô mét trên giờ'],
    ['cách 250 km', 'cách hai trăm năm mươi ki lô mét'],
    ['mưa 200-300 mm, có nơi trên 400mm', 'mưa hai trăm đến ba trăm mi li mét, có nơi trên bốn trăm mi li mét'],
    ['sóng cao 2-4m', 'sóng cao hai đến bốn mét'],
    ['ngập 50 cm', 'ngập năm mươi xen ti mét'],
    ['nhiệt độ -5°C', 'nhiệt độ âm năm độ C'],
    ['độ ẩm 85%', 'độ ẩm tám mươi lăm phần trăm'],
    ['lưu lượng 1.200 m3/s', 'lưu lượng một nghìn hai trăm mét khối trên giây'],
    ['áp suất 990 hPa', 'áp suất chín trăm chín mươi héc tô pát xcan'],
    ['5ha lúa', 'năm héc ta lúa'],
    // abbreviations
    ['BCH PCTT&TKCN tỉnh', 'ban chỉ huy phòng chống thiên tai và tìm kiếm cứu nạn tỉnh'],
    ['UBND TP. Đà Nẵng', 'ủy ban nhân dân thành phố Đà Nẵng'],
    ['Sở NN&PTNT', 'Sở nông nghiệp và phát triển nông thôn'],
    ['Quyết định 18/2021/QĐ-TTg', 'Quyết định mười tám năm hai nghìn không trăm hai mươi mốt quyết định của thủ tướng chính phủ'],
    ['QL1A', 'quốc lộ một A'],
    ['ATNĐ mạnh lên', 'áp thấp nhiệt đới mạnh lên'],
    ['UBNDX', 'UBNDX'],
    // others
    ['thứ 4', 'thứ tư'],
    ['thứ 1', 'thứ nhất'],
    ['gọi 0912345678', 'gọi không chín một hai ba bốn năm sáu bảy tám'],
    ['gọi 112 để được cứu nạn', 'gọi một một hai để được cứu nạn'],
    ['đường dây nóng: 1900.1234', 'đường dây nóng: một chín không không một hai ba bốn'],
    ['SĐT 0236 3822 123.', 'số điện thoại không hai ba sáu ba tám hai hai một hai ba.'],
    ['Gọi số 114, cấp 12', 'Gọi số một một bốn, cấp mười hai'],
    ['H5N1', 'H năm N một'],
    ['~30 người', 'khoảng ba mươi người'],
    ['  nhiều   khoảng\ntrắng ', 'nhiều khoảng trắng'],
    ['GIÓ MẠNH CẤP 12, NGÀY 12/10/2025', 'GIÓ MẠNH CẤP mười hai, NGÀY mười hai tháng mười năm hai nghìn không trăm hai mươi lăm'],
    ['cấp 12'.normalize('NFD'), 'cấp mười hai'],
  ];
  for (const [input, expected] of cases) t.equal(normalizeVietnamese(input), expected, input);
});

t.test('a whole bulletin comes out with no digits left', async (t) => {
  const bulletin =
    'TIN BÃO KHẨN CẤP. Hồi 14h00 ngày 27/11/2025, vị trí tâm bão ở vào khoảng 15,8 độ Vĩ Bắc; 110,3 độ Kinh Đông. ' +
    'Sức gió mạnh nhất vùng gần tâm bão mạnh cấp 12 (118-133 km/h), giật cấp 15. Trong 24h tới, bão di chuyển theo hướng Tây, tốc độ 15-20 km/h. ' +
    'Mưa 150-300 mm, có nơi trên 400 mm. BCH PCTT&TKCN tỉnh yêu cầu 1.200 hộ dân sơ tán trước 18:00.';
  const out = normalizeVietnamese(bulletin);
  t.notMatch(out, /\d/, 'no digit is left for the voice to spell');
  t.ok(out.includes('cấp mười hai (một trăm mười tám đến một trăm ba mươi ba ki lô mét trên giờ), giật cấp mười lăm'), out);
  t.match(out, /hồi mười bốn giờ ngày hai mươi bảy tháng mười một năm hai nghìn không trăm hai mươi lăm/i);
  t.match(out, /trước mười tám giờ\./);
});
