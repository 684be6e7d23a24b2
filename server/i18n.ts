// Every sentence a user may read, in one table: Vietnamese first, English second.
// `{name}` placeholders are filled from the params of translate().
import type { Lang } from './config.js';

export const MESSAGES = {
  validation: { vi: 'Dữ liệu không hợp lệ ở “{field}”: {detail}.', en: 'Invalid value at “{field}”: {detail}.' },
  bad_json: { vi: 'Nội dung yêu cầu không phải JSON hợp lệ.', en: 'The request body is not valid JSON.' },
  empty_body: { vi: 'Yêu cầu cần có nội dung JSON.', en: 'The request needs a JSON body.' },
  bad_request: { vi: 'Yêu cầu không hợp lệ: {detail}.', en: 'Bad request: {detail}.' },
  unauthorized: { vi: 'Cần đăng nhập: thiếu mã truy cập hoặc mã đã hết hạn.', en: 'Authentication required: the access token is missing, invalid or expired.' },
  login_failed: { vi: 'Tên đăng nhập hoặc mật khẩu không đúng.', en: 'Wrong username or password.' },
  forbidden: { vi: 'Bạn không có quyền thực hiện thao tác này tại vùng này.', en: 'You are not allowed to do this in this zone.' },
  forbidden_global: { vi: 'Chỉ quản trị viên toàn hệ thống mới được làm việc này.', en: 'Only a system-wide administrator may do this.' },
  not_found: { vi: 'Không tìm thấy {what} “{id}”.', en: 'No {what} “{id}” was found.' },
  route_not_found: { vi: 'Không có đường dẫn {method} {url}.', en: 'There is no route {method} {url}.' },
  conflict_username: { vi: 'Tên đăng nhập “{username}” đã được dùng.', en: 'The username “{username}” is already taken.' },
  conflict_role: { vi: 'Người dùng đã có vai trò này tại vùng này.', en: 'The user already has this role in this zone.' },
  zone_not_empty: {
    vi: 'Vùng “{name}” còn {children} vùng con, {endpoints} thiết bị và {media} tệp âm thanh; thêm ?cascade=true để xoá tất cả.',
    en: 'Zone “{name}” still has {children} child zones, {endpoints} endpoints and {media} media files; add ?cascade=true to delete them all.',
  },
  zone_cycle: { vi: 'Không thể chuyển một vùng vào chính nó hoặc vào vùng con của nó.', en: 'A zone cannot be moved into itself or one of its descendants.' },
  bad_time_zone: { vi: '“{value}” không phải múi giờ IANA (ví dụ Asia/Ho_Chi_Minh).', en: '“{value}” is not an IANA time zone (e.g. Asia/Ho_Chi_Minh).' },
  bad_codec: { vi: 'Bộ mã “{value}” không được hỗ trợ; dùng một trong: {allowed}.', en: 'Codec “{value}” is not supported; use one of: {allowed}.' },
  self_delete: { vi: 'Không thể tự xoá tài khoản của chính mình.', en: 'You cannot delete your own account.' },
  too_large: { vi: 'Tệp hoặc nội dung quá lớn: tối đa {limit}.', en: 'The file or body is too large: at most {limit}.' },
  unsupported_media_type: { vi: 'Kiểu nội dung “{type}” không được chấp nhận ở đây.', en: 'Content type “{type}” is not accepted here.' },
  upload_no_file: { vi: 'Thiếu tệp trong trường “file” của biểu mẫu multipart.', en: 'The multipart form has no file in field “file”.' },
  upload_no_zone: { vi: 'Thiếu trường “zoneId” (vùng sở hữu tệp).', en: 'The field “zoneId” (the zone owning the file) is missing.' },
  media_not_audio: {
    vi: 'Tệp “{filename}” không phải âm thanh giải mã được ({detail}). Hỗ trợ: mp3, wav, ogg/opus, m4a/aac, flac.',
    en: 'File “{filename}” is not decodable audio ({detail}). Supported: mp3, wav, ogg/opus, m4a/aac, flac.',
  },
  media_truncated: {
    vi: 'Tệp “{filename}” bị cắt cụt: chỉ giải mã được {decoded} trên {declared}.',
    en: 'File “{filename}” is truncated: only {decoded} of {declared} could be decoded.',
  },
  media_exists: { vi: 'Tệp này đã có trong thư viện của vùng với mã {id}.', en: 'This file is already in the zone’s library as {id}.' },
  media_file_missing: { vi: 'Tệp âm thanh của “{id}” không còn trên đĩa.', en: 'The audio file of “{id}” is missing from disk.' },
  forbidden_priority: {
    vi: 'Vai trò của bạn không được phát ở mức ưu tiên {priority}: từ mức {limit} (khẩn cấp) cần vai trò cơ quan chức năng hoặc quản trị.',
    en: 'Your role may not broadcast at priority {priority}: {limit} (emergency) and above need the authority or admin role.',
  },
  playback_failed: { vi: 'Không thể phát chương trình: {detail}.', en: 'The programme could not be played: {detail}.' },
  sdp_no_multicast: {
    vi: 'Vùng “{name}” chưa có nhóm multicast (đặt bằng PUT /api/v1/zones/{zone}/broadcast). Máy thu unicast được khai báo là thiết bị RTP có địa chỉ và cổng cố định; lấy SDP của thiết bị đó tại GET /api/v1/endpoints/{id}/sdp.',
    en: 'Zone “{name}” has no multicast group (set one with PUT /api/v1/zones/{zone}/broadcast). Unicast receivers are configured as RTP endpoints with a fixed address and port; get such an endpoint’s SDP at GET /api/v1/endpoints/{id}/sdp.',
  },
  sdp_codec_mismatch: {
    vi: 'Nhóm multicast của vùng “{name}” phát bằng {codec}, không phải {asked}; hãy dùng codec={codec}.',
    en: 'The multicast group of zone “{name}” carries {codec}, not {asked}; ask for codec={codec}.',
  },
  sdp_not_fixed: {
    vi: 'Thiết bị “{name}” không phải thiết bị RTP có địa chỉ và cổng cố định, nên không có SDP riêng (thiết bị dùng phần mềm Loa tự nhận luồng qua kênh điều khiển).',
    en: 'Endpoint “{name}” is not an RTP endpoint with a fixed address and port, so it has no SDP of its own (Loa agents get their stream through the control channel).',
  },
  bad_multicast_group: {
    vi: '“{value}” không phải địa chỉ multicast IPv4 (224.0.0.0–239.255.255.255; dùng 239.x.x.x cho mạng nội bộ).',
    en: '“{value}” is not an IPv4 multicast address (224.0.0.0–239.255.255.255; use 239.x.x.x on a private network).',
  },
  // Timetables and the as-run log.
  timetable_invalid: { vi: 'Lịch phát không hợp lệ: {detail}', en: 'The timetable entry is invalid: {detail}' },
  timetable_not_found: { vi: 'Không tìm thấy mục lịch phát “{id}”.', en: 'No timetable entry “{id}” was found.' },
  timetable_version: {
    vi: 'Mục lịch phát đã được người khác sửa (phiên bản hiện tại {version}); hãy tải lại rồi sửa tiếp.',
    en: 'Someone else changed this timetable entry (current version {version}); reload it and edit again.',
  },
  timetable_emergency: {
    vi: 'Chỉ người có quyền phát khẩn cấp mới được đặt mức ưu tiên khẩn cấp.',
    en: 'Only users allowed to broadcast emergencies may use the emergency priority.',
  },
  bad_time_range: { vi: 'Khoảng thời gian không hợp lệ: {detail}.', en: 'Invalid time range: {detail}.' },
  bad_cursor: { vi: 'Con trỏ phân trang không hợp lệ.', en: 'The paging cursor is not valid.' },
  // Column headers of the as-run CSV export, in scheduler/csv.ts AS_RUN_CSV_HEADER order.
  as_run_csv_header: {
    vi: 'thời gian,vùng,chương trình,loại,sự kiện,lý do,mục lịch,lượt phát,chương trình phát tay,vị trí trong tệp (ms),người phát',
    en: 'time,zone,programme,kind,event,reason,entry,airing,manual programme,media position (ms),by',
  },
  internal: { vi: 'Lỗi máy chủ; chi tiết đã được ghi vào nhật ký.', en: 'Server error; the details were logged.' },
  not_ready: { vi: 'Cơ sở dữ liệu chưa sẵn sàng.', en: 'The database is not ready.' },
  database_unavailable: {
    vi: 'Cơ sở dữ liệu tạm thời không truy cập được; hãy thử lại sau ít phút. Các chương trình đang phát vẫn tiếp tục.',
    en: 'The database is temporarily unreachable; try again in a few minutes. Programmes on air go on.',
  },
  journal_degraded: {
    vi: 'Không ghi được nhật ký phát sóng xuống đĩa ({reason}); {held} dòng đang được giữ trong bộ nhớ và sẽ được ghi khi đĩa có chỗ trống.',
    en: 'The as-run journal cannot be written to disk ({reason}); {held} rows are held in memory and will be written when there is space again.',
  },
  engine_down: { vi: 'Bộ phát âm thanh đã dừng: tạm thời không phát được tới loa nào. Loa đang tự khởi động lại bộ phát; nếu tình trạng này kéo dài, hãy khởi động lại máy chủ Loa.', en: 'The media engine has stopped: nothing reaches the loudspeakers for now. Loa is restarting it by itself; if this lasts, restart the Loa server.' },
  // Nouns used by not_found.
  what_zone: { vi: 'vùng', en: 'zone' },
  what_endpoint: { vi: 'thiết bị', en: 'endpoint' },
  what_media: { vi: 'tệp âm thanh', en: 'media' },
  what_user: { vi: 'người dùng', en: 'user' },
  what_token: { vi: 'mã truy cập', en: 'token' },
  what_role: { vi: 'vai trò', en: 'role assignment' },
  what_programme: { vi: 'chương trình', en: 'programme' },
} as const satisfies Record<string, Record<Lang, string>>;

export type MessageKey = keyof typeof MESSAGES;
export type MessageParams = Record<string, string | number>;

export function translate(lang: Lang, key: MessageKey, params: MessageParams = {}): string {
  const template: string = MESSAGES[key][lang];
  return template.replace(/\{(\w+)\}/g, (m, name: string) => {
    const v = params[name];
    if (v === undefined) return m;
    // A param may itself name a message (e.g. what_zone) so that nouns are translated too.
    return typeof v === 'string' && v in MESSAGES ? MESSAGES[v as MessageKey][lang] : String(v);
  });
}

/** Picks vi or en from an Accept-Language header (quality-ordered), else the fallback. */
export function pickLang(header: string | undefined, fallback: Lang): Lang {
  if (!header) return fallback;
  const ranked = header
    .split(',')
    .map((part, i) => {
      const [tag, ...rest] = part.trim().toLowerCase().split(';');
      const q = rest.find((r) => r.trim().startsWith('q='));
      return { tag: tag.trim(), q: q ? Number(q.trim().slice(2)) || 0 : 1, i };
    })
    .filter((x) => x.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const { tag } of ranked) {
    const base = tag.split('-')[0];
    if (base === 'vi' || base === 'en') return base;
  }
  return fallback;
}
