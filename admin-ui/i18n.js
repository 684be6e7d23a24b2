// @ts-check
// Every sentence the admin app shows, in one table: Vietnamese first, English second.
// A missing English text falls back to Vietnamese, a missing key shows the key (so it is noticed).
// `{name}` placeholders are filled from the params of t().

/** @typedef {'vi' | 'en'} Lang */

export const LANGS = /** @type {const} */ (['vi', 'en']);

export const MESSAGES = {
  app_name: { vi: 'Loa — Truyền thanh', en: 'Loa — Public address' },
  app_tagline: { vi: 'Quản trị hệ thống truyền thanh ứng dụng CNTT-VT', en: 'IP loudspeaker network administration' },
  lang_switch: { vi: 'English', en: 'Tiếng Việt' },
  lang_switch_label: { vi: 'Chuyển sang tiếng Anh', en: 'Switch to Vietnamese' },
  loading: { vi: 'Đang tải…', en: 'Loading…' },
  refresh: { vi: 'Làm mới', en: 'Refresh' },
  cancel: { vi: 'Huỷ', en: 'Cancel' },
  close: { vi: 'Đóng', en: 'Close' },
  delete: { vi: 'Xoá', en: 'Delete' },
  save: { vi: 'Lưu', en: 'Save' },
  create: { vi: 'Tạo', en: 'Create' },
  optional: { vi: '(không bắt buộc)', en: '(optional)' },
  none: { vi: '—', en: '—' },
  network_error: {
    vi: 'Không kết nối được tới máy chủ. Kiểm tra mạng rồi thử lại.',
    en: 'Cannot reach the server. Check the network and try again.',
  },
  session_expired: { vi: 'Phiên làm việc đã hết hạn, vui lòng đăng nhập lại.', en: 'Your session has expired; please log in again.' },

  // Login
  login_title: { vi: 'Đăng nhập', en: 'Log in' },
  login_username: { vi: 'Tên đăng nhập', en: 'Username' },
  login_password: { vi: 'Mật khẩu', en: 'Password' },
  login_submit: { vi: 'Đăng nhập', en: 'Log in' },
  login_busy: { vi: 'Đang đăng nhập…', en: 'Logging in…' },
  logout: { vi: 'Đăng xuất', en: 'Log out' },
  signed_in_as: { vi: 'Người dùng: {name}', en: 'Signed in as {name}' },

  // Navigation (timetables and the as-run log join here when their routes exist)
  nav_label: { vi: 'Mục chính', en: 'Main sections' },
  nav_zones: { vi: 'Vùng phát', en: 'Zones' },
  nav_endpoints: { vi: 'Thiết bị', en: 'Endpoints' },
  nav_media: { vi: 'Thư viện âm thanh', en: 'Media library' },
  nav_play: { vi: 'Phát ngay', en: 'Play now' },
  nav_users: { vi: 'Người dùng', en: 'Users' },
  page_not_found: { vi: 'Không có trang này.', en: 'There is no such page.' },

  // Zone kinds (free text on the server; known ones are translated, others shown as they are)
  kind_province: { vi: 'Tỉnh', en: 'Province' },
  kind_district: { vi: 'Huyện', en: 'District' },
  kind_commune: { vi: 'Xã', en: 'Commune' },
  kind_ward: { vi: 'Phường', en: 'Ward' },
  kind_village: { vi: 'Thôn', en: 'Village' },
  kind_cluster: { vi: 'Cụm loa', en: 'Cluster' },
  kind_zone: { vi: 'Vùng', en: 'Zone' },

  // Zone tree
  zones_title: { vi: 'Cây vùng phát', en: 'Zone tree' },
  zones_empty: { vi: 'Chưa có vùng nào bạn được xem.', en: 'There are no zones you may see.' },
  zones_expand_all: { vi: 'Mở tất cả', en: 'Expand all' },
  zones_collapse_all: { vi: 'Thu gọn', en: 'Collapse all' },
  zones_expand: { vi: 'Mở {name}', en: 'Expand {name}' },
  zones_collapse: { vi: 'Thu gọn {name}', en: 'Collapse {name}' },
  zones_online_count: { vi: '{online}/{total} trực tuyến', en: '{online}/{total} online' },
  zones_online_title: {
    vi: '{online} trên {total} thiết bị trong vùng này và các vùng con đang trực tuyến',
    en: '{online} of {total} endpoints in this zone and below are online',
  },
  zones_show_endpoints: { vi: 'Xem thiết bị', en: 'View endpoints' },
  zones_legend: { vi: 'Chú thích:', en: 'Legend:' },
  zones_updated: { vi: 'Cập nhật lúc {time}', en: 'Updated at {time}' },

  // Status badges
  status_online: { vi: 'Trực tuyến', en: 'Online' },
  status_offline: { vi: 'Mất kết nối', en: 'Offline' },
  status_partly: { vi: 'Một phần', en: 'Partly online' },
  status_disabled: { vi: 'Đã tắt', en: 'Disabled' },
  status_on_air: { vi: 'Đang phát', en: 'On air' },
  status_on_air_title: { vi: 'Đang phát: {title} ({priority})', en: 'On air: {title} ({priority})' },

  // Endpoints
  endpoints_title: { vi: 'Thiết bị thu phát', en: 'Endpoints' },
  endpoints_zone_filter: { vi: 'Vùng', en: 'Zone' },
  endpoints_all_zones: { vi: 'Tất cả các vùng', en: 'All zones' },
  endpoints_empty: { vi: 'Chưa có thiết bị nào trong vùng này.', en: 'There are no endpoints in this zone.' },
  endpoints_count: { vi: '{online}/{total} thiết bị trực tuyến', en: '{online}/{total} endpoints online' },
  col_name: { vi: 'Tên', en: 'Name' },
  col_zone: { vi: 'Vùng', en: 'Zone' },
  col_kind: { vi: 'Loại', en: 'Kind' },
  col_status: { vi: 'Trạng thái', en: 'Status' },
  col_last_seen: { vi: 'Lần cuối thấy', en: 'Last seen' },
  col_quality: { vi: 'Chất lượng', en: 'Quality' },
  col_actions: { vi: 'Thao tác', en: 'Actions' },
  never_seen: { vi: 'Chưa kết nối lần nào', en: 'Never connected' },
  stat_loss: { vi: 'Mất gói {value}', en: 'Loss {value}' },
  stat_jitter: { vi: 'Jitter {value}', en: 'Jitter {value}' },
  stat_delay: { vi: 'Trễ đệm {value}', en: 'Buffer {value}' },
  endpoint_new: { vi: 'Thêm thiết bị', en: 'Add an endpoint' },
  endpoint_name: { vi: 'Tên thiết bị', en: 'Endpoint name' },
  endpoint_zone: { vi: 'Thuộc vùng', en: 'Zone' },
  endpoint_kind: { vi: 'Kiểu kết nối', en: 'Connection kind' },
  endpoint_kind_rtp: { vi: 'Bộ thu Loa (RTP)', en: 'Loa speaker agent (RTP)' },
  endpoint_kind_sip: { vi: 'Loa SIP', en: 'SIP loudspeaker' },
  endpoint_kind_webrtc: { vi: 'Trình duyệt (WebRTC)', en: 'Browser (WebRTC)' },
  endpoint_kind_http: { vi: 'Máy nghe HTTP (Icecast)', en: 'HTTP player (Icecast)' },
  endpoint_created: { vi: 'Đã tạo thiết bị “{name}”', en: 'Endpoint “{name}” created' },
  endpoint_new_token: { vi: 'Mã bí mật mới của “{name}”', en: 'New secret of “{name}”' },
  endpoint_token_once: {
    vi: 'Mã bí mật (token) chỉ hiện MỘT LẦN này. Hãy chép lại ngay; nếu mất, phải tạo mã mới.',
    en: 'The secret (token) is shown ONCE, now. Copy it; if it is lost, a new one must be made.',
  },
  endpoint_token: { vi: 'Mã bí mật', en: 'Token' },
  endpoint_id: { vi: 'Mã thiết bị', en: 'Endpoint id' },
  endpoint_command: { vi: 'Lệnh chạy trên máy thu (cạnh bộ khuếch đại)', en: 'Command to run on the receiver box (next to the amplifier)' },
  endpoint_regenerate: { vi: 'Cấp mã mới', en: 'New token' },
  endpoint_regenerate_confirm: {
    vi: 'Cấp mã bí mật mới cho “{name}”? Máy thu đang dùng mã cũ sẽ bị ngắt cho đến khi nhập mã mới.',
    en: 'Issue a new secret for “{name}”? The box using the old one is cut off until it gets the new one.',
  },
  endpoint_delete_confirm: { vi: 'Xoá thiết bị “{name}”?', en: 'Delete endpoint “{name}”?' },
  copy: { vi: 'Chép', en: 'Copy' },
  copied: { vi: 'Đã chép', en: 'Copied' },
  copy_failed: { vi: 'Không chép được: hãy bôi đen rồi chép tay.', en: 'Could not copy: select the text and copy it by hand.' },

  // Media
  media_title: { vi: 'Thư viện âm thanh', en: 'Media library' },
  media_upload: { vi: 'Tải tệp lên', en: 'Upload a file' },
  media_file: { vi: 'Tệp âm thanh (mp3, wav, ogg, m4a, flac)', en: 'Audio file (mp3, wav, ogg, m4a, flac)' },
  media_zone: { vi: 'Vùng sở hữu', en: 'Owning zone' },
  media_item_title: { vi: 'Tiêu đề', en: 'Title' },
  media_upload_submit: { vi: 'Tải lên', en: 'Upload' },
  media_uploading: { vi: 'Đang tải lên… {percent}%', en: 'Uploading… {percent}%' },
  media_checking: { vi: 'Máy chủ đang kiểm tra tệp…', en: 'The server is checking the file…' },
  media_uploaded: { vi: 'Đã tải lên “{title}” ({duration}).', en: 'Uploaded “{title}” ({duration}).' },
  media_pick_file: { vi: 'Hãy chọn một tệp.', en: 'Choose a file.' },
  media_empty: { vi: 'Thư viện chưa có tệp nào.', en: 'The library is empty.' },
  col_title: { vi: 'Tiêu đề', en: 'Title' },
  col_duration: { vi: 'Thời lượng', en: 'Duration' },
  col_format: { vi: 'Định dạng', en: 'Format' },
  col_size: { vi: 'Dung lượng', en: 'Size' },
  col_added: { vi: 'Ngày thêm', en: 'Added' },
  media_play: { vi: 'Nghe thử', en: 'Listen' },
  media_stop_preview: { vi: 'Dừng nghe', en: 'Stop' },
  media_delete_confirm: { vi: 'Xoá “{title}” khỏi thư viện?', en: 'Delete “{title}” from the library?' },

  // Play now
  play_title: { vi: 'Phát ngay', en: 'Play now' },
  play_zones: { vi: '1. Chọn vùng phát', en: '1. Choose the zones' },
  play_zones_hint: {
    vi: 'Chọn một vùng là phát tới cả các vùng con của nó.',
    en: 'Choosing a zone also plays in all the zones below it.',
  },
  play_zones_chosen: { vi: 'Đã chọn {count} vùng', en: '{count} zones chosen' },
  play_source: { vi: '2. Chọn nội dung', en: '2. Choose what to play' },
  source_media: { vi: 'Tệp trong thư viện', en: 'A library file' },
  source_tone: { vi: 'Âm thử (tone)', en: 'Test tone' },
  source_siren: { vi: 'Còi báo động', en: 'Siren' },
  play_media_pick: { vi: 'Tệp âm thanh', en: 'Audio file' },
  play_media_none: { vi: 'Thư viện chưa có tệp nào.', en: 'The library is empty.' },
  play_tone_freq: { vi: 'Tần số (Hz)', en: 'Frequency (Hz)' },
  play_length_s: { vi: 'Độ dài (giây)', en: 'Length (seconds)' },
  play_siren_shape: { vi: 'Kiểu còi', en: 'Siren shape' },
  siren_wail: { vi: 'Hú dài (wail)', en: 'Wail' },
  siren_yelp: { vi: 'Hú nhanh (yelp)', en: 'Yelp' },
  siren_hilo: { vi: 'Hai âm (hi-lo)', en: 'Hi-lo' },
  play_priority: { vi: '3. Mức ưu tiên', en: '3. Priority' },
  priority_background: { vi: 'Nền', en: 'Background' },
  priority_normal: { vi: 'Thông thường', en: 'Normal' },
  priority_priority: { vi: 'Ưu tiên', en: 'Priority' },
  priority_live: { vi: 'Trực tiếp', en: 'Live' },
  priority_emergency: { vi: 'Khẩn cấp', en: 'Emergency' },
  priority_number: { vi: 'Mức {value}', en: 'Level {value}' },
  play_max_duration: { vi: 'Thời lượng tối đa (phút)', en: 'Maximum duration (minutes)' },
  play_item_title: { vi: 'Tên chương trình', en: 'Programme title' },
  play_start: { vi: 'Bắt đầu phát', en: 'Start' },
  play_started: { vi: 'Đã bắt đầu phát “{title}”.', en: 'Started “{title}”.' },
  play_waiting: { vi: 'Đã xếp “{title}”: đang chờ chương trình ưu tiên cao hơn kết thúc.', en: '“{title}” is waiting for a higher-priority programme to end.' },
  play_pick_zone: { vi: 'Hãy chọn ít nhất một vùng.', en: 'Choose at least one zone.' },
  play_pick_media: { vi: 'Hãy chọn một tệp âm thanh.', en: 'Choose an audio file.' },
  play_tone_title: { vi: 'Âm thử {freq} Hz', en: 'Test tone {freq} Hz' },
  play_siren_title: { vi: 'Còi báo động', en: 'Siren' },
  play_unavailable: {
    vi: 'Máy chủ này chưa có chức năng phát trực tiếp.',
    en: 'This server does not offer playback yet.',
  },
  play_active: { vi: 'Chương trình đang chạy', en: 'Active programmes' },
  play_active_empty: { vi: 'Không có chương trình nào đang chạy.', en: 'No programme is running.' },
  play_stop: { vi: 'Dừng', en: 'Stop' },
  play_stop_confirm: { vi: 'Dừng “{title}”?', en: 'Stop “{title}”?' },
  col_priority: { vi: 'Ưu tiên', en: 'Priority' },
  col_zones: { vi: 'Vùng', en: 'Zones' },
  col_started: { vi: 'Bắt đầu', en: 'Started' },
  col_since: { vi: 'Từ lúc', en: 'Since' },
  col_position: { vi: 'Đã phát', en: 'Played' },
  col_programme: { vi: 'Chương trình', en: 'Programme' },
  onair_title: { vi: 'Đang phát trên các vùng', en: 'On air now' },
  onair_empty: { vi: 'Không có vùng nào có thiết bị.', en: 'No zone has endpoints.' },
  onair_silent: { vi: 'Im lặng', en: 'Silent' },

  // Users
  users_title: { vi: 'Người dùng', en: 'Users' },
  users_new: { vi: 'Thêm người dùng', en: 'Add a user' },
  user_username: { vi: 'Tên đăng nhập', en: 'Username' },
  user_display_name: { vi: 'Họ và tên', en: 'Full name' },
  user_password: { vi: 'Mật khẩu (ít nhất 8 ký tự)', en: 'Password (at least 8 characters)' },
  user_role: { vi: 'Vai trò', en: 'Role' },
  user_zone: { vi: 'Tại vùng', en: 'In zone' },
  user_everywhere: { vi: 'Toàn hệ thống', en: 'Everywhere' },
  user_created: { vi: 'Đã tạo người dùng “{name}”.', en: 'User “{name}” created.' },
  user_add_role: { vi: 'Thêm vai trò', en: 'Add role' },
  user_remove_role: { vi: 'Bỏ vai trò {role} tại {zone}', en: 'Remove {role} in {zone}' },
  user_delete_confirm: { vi: 'Xoá người dùng “{name}”?', en: 'Delete user “{name}”?' },
  user_disabled: { vi: 'Đã khoá', en: 'Disabled' },
  col_username: { vi: 'Tên đăng nhập', en: 'Username' },
  col_roles: { vi: 'Vai trò', en: 'Roles' },
  role_admin: { vi: 'Quản trị', en: 'Administrator' },
  role_operator: { vi: 'Vận hành', en: 'Operator' },
  role_authority: { vi: 'Chỉ huy (phòng chống thiên tai)', en: 'Authority (disaster committee)' },
  role_viewer: { vi: 'Chỉ xem', en: 'Viewer' },
};

/** @typedef {keyof typeof MESSAGES} MessageKey */

const STORAGE_KEY = 'loa.lang';

/** @type {Lang} */
let current = readStoredLang();

function readStoredLang() {
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    return stored === 'en' ? 'en' : 'vi';
  } catch {
    return 'vi';
  }
}

/** @returns {Lang} */
export function getLang() {
  return current;
}

/** @param {Lang} lang */
export function setLang(lang) {
  current = lang === 'en' ? 'en' : 'vi';
  try {
    localStorage.setItem(STORAGE_KEY, current);
  } catch {
    // Private mode: the choice lasts for this page only.
  }
  document.documentElement.lang = current;
}

/** The locale tag for Intl formatting. */
export function locale() {
  return current === 'vi' ? 'vi-VN' : 'en-GB';
}

/**
 * @param {string} key
 * @param {Record<string, string | number>} [params]
 */
export function t(key, params = {}) {
  const entry = /** @type {Record<string, {vi: string, en?: string}>} */ (MESSAGES)[key];
  if (!entry) return key;
  const template = entry[current] ?? entry.vi;
  return template.replace(/\{(\w+)\}/g, (m, name) => (params[name] === undefined ? m : String(params[name])));
}

/** A message when the key exists, else the fallback text (for free-text values such as zone kinds). */
export function tOr(key, fallback) {
  return key in MESSAGES ? t(key) : fallback;
}
