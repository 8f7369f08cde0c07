#include <ashlar/model/value.hpp>

#include <fmt/format.h>
#include <pthread.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <charconv>
#include <chrono>
#include <stdexcept>

namespace ashlar {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Howard Hinnant's days_from_civil / civil_from_days.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
  std::int64_t y;
  unsigned m, d;
};
Civil civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// Reads exactly `n` digits at text[pos]; advances pos.
std::optional<int> digits(std::string_view text, std::size_t& pos, std::size_t n) {
  if (pos + n > text.size()) return std::nullopt;
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    char c = text[pos + i];
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  pos += n;
  return v;
}

bool expect(std::string_view text, std::size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

int days_in_month(std::int64_t y, unsigned m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

std::optional<std::int64_t> parse_date_part(std::string_view text, std::size_t& pos) {
  auto y = digits(text, pos, 4);
  if (!y || !expect(text, pos, '-')) return std::nullopt;
  auto m = digits(text, pos, 2);
  if (!m || !expect(text, pos, '-')) return std::nullopt;
  auto d = digits(text, pos, 2);
  if (!d || *m < 1 || *m > 12 || *d < 1 || *d > days_in_month(*y, *m)) return std::nullopt;
  return days_from_civil(*y, static_cast<unsigned>(*m), static_cast<unsigned>(*d));
}

}  // namespace

namespace {

// Random bytes for uuids, drawn from libsodium a page at a time per thread: one system
// call per 256 uuids instead of one each. A forked child must not hand out the bytes its
// parent still holds, so a fork moves every buffer to a new generation.
std::atomic<unsigned> g_fork_generation{0};
void after_fork_in_child() { g_fork_generation.fetch_add(1, std::memory_order_relaxed); }

struct RandomBuffer {
  std::array<std::uint8_t, 4096> bytes;
  std::size_t used = sizeof(bytes);
  unsigned generation = 0;
};
thread_local RandomBuffer t_random;

// Random bytes from the calling thread's buffer, refilled a page at a time.
void random_bytes(std::uint8_t* out, std::size_t n) {
  static const bool initialized = [] {
    if (sodium_init() < 0) return false;
    pthread_atfork(nullptr, nullptr, after_fork_in_child);
    return true;
  }();
  if (!initialized) throw std::runtime_error("libsodium failed to initialize");
  RandomBuffer& random = t_random;
  unsigned generation = g_fork_generation.load(std::memory_order_relaxed);
  if (random.used + n > random.bytes.size() || random.generation != generation) {
    randombytes_buf(random.bytes.data(), random.bytes.size());
    random.used = 0;
    random.generation = generation;
  }
  std::memcpy(out, random.bytes.data() + random.used, n);
  random.used += n;
}

// The last version 7 uuid's millisecond and counter on this thread.
struct V7Clock {
  std::uint64_t millis = 0;
  std::uint16_t counter = 0;  // 12 bits
};
thread_local V7Clock t_v7;

}  // namespace

Uuid Uuid::v4() {
  Uuid u;
  random_bytes(u.bytes.data(), u.bytes.size());
  u.bytes[6] = static_cast<std::uint8_t>((u.bytes[6] & 0x0F) | 0x40);
  u.bytes[8] = static_cast<std::uint8_t>((u.bytes[8] & 0x3F) | 0x80);
  return u;
}

Uuid Uuid::v7() {
  Uuid u;
  random_bytes(u.bytes.data(), u.bytes.size());
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch());
  auto millis = static_cast<std::uint64_t>(now.count());
  V7Clock& clock = t_v7;
  if (millis > clock.millis) {
    clock.millis = millis;
    clock.counter = static_cast<std::uint16_t>(u.bytes[6] & 0x07) << 8 | u.bytes[7];  // room to count up
  } else if (++clock.counter > 0x0FFF) {  // the same millisecond (or the clock went back)
    ++clock.millis;  // RFC 9562 6.2: borrow the next millisecond rather than repeat
    clock.counter = 0;
  }
  for (int i = 0; i < 6; ++i) u.bytes[i] = static_cast<std::uint8_t>(clock.millis >> (40 - 8 * i));
  u.bytes[6] = static_cast<std::uint8_t>(0x70 | (clock.counter >> 8));
  u.bytes[7] = static_cast<std::uint8_t>(clock.counter & 0xFF);
  u.bytes[8] = static_cast<std::uint8_t>((u.bytes[8] & 0x3F) | 0x80);
  return u;
}

std::optional<Uuid> Uuid::parse(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  Uuid u;
  std::size_t out = 0;
  for (std::size_t i = 0; i < 36;) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return std::nullopt;
      ++i;
      continue;
    }
    int hi = hex_digit(text[i]), lo = hex_digit(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    u.bytes[out++] = static_cast<std::uint8_t>(hi * 16 + lo);
    i += 2;
  }
  return u;
}

std::string Uuid::str() const {
  static const char* kHex = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (std::size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
    s += kHex[bytes[i] >> 4];
    s += kHex[bytes[i] & 0xF];
  }
  return s;
}

DateTime DateTime::now() {
  using namespace std::chrono;
  return DateTime{duration_cast<microseconds>(system_clock::now().time_since_epoch()).count()};
}

std::optional<DateTime> DateTime::parse(std::string_view text) {
  std::size_t pos = 0;
  auto days = parse_date_part(text, pos);
  if (!days || pos >= text.size() || (text[pos] != 'T' && text[pos] != ' ')) return std::nullopt;
  ++pos;
  auto h = digits(text, pos, 2);
  if (!h || !expect(text, pos, ':')) return std::nullopt;
  auto mi = digits(text, pos, 2);
  if (!mi || !expect(text, pos, ':')) return std::nullopt;
  auto s = digits(text, pos, 2);
  if (!s || *h > 23 || *mi > 59 || *s > 59) return std::nullopt;
  std::int64_t micros = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int n = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (n < 6) micros = micros * 10 + (text[pos] - '0');
      ++n, ++pos;
    }
    if (n == 0) return std::nullopt;
    for (; n < 6; ++n) micros *= 10;
  }
  std::int64_t offset = 0;
  if (pos < text.size() && text[pos] == 'Z') {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int sign = text[pos++] == '-' ? -1 : 1;
    auto oh = digits(text, pos, 2);
    if (!oh || !expect(text, pos, ':')) return std::nullopt;
    auto om = digits(text, pos, 2);
    if (!om) return std::nullopt;
    offset = sign * (*oh * 3600 + *om * 60);
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  std::int64_t secs = *days * 86400 + *h * 3600 + *mi * 60 + *s - offset;
  return DateTime{secs * 1000000 + micros};
}

std::string DateTime::str() const {
  std::int64_t secs = floor_div(micros, 1000000);
  std::int64_t frac = micros - secs * 1000000;
  std::int64_t days = floor_div(secs, 86400);
  std::int64_t rem = secs - days * 86400;
  Civil c = civil_from_days(days);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", c.y, c.m, c.d, rem / 3600,
                     (rem % 3600) / 60, rem % 60, frac);
}

std::optional<Date> Date::parse(std::string_view text) {
  std::size_t pos = 0;
  auto days = parse_date_part(text, pos);
  if (!days || pos != text.size()) return std::nullopt;
  return Date{static_cast<std::int32_t>(*days)};
}

std::string Date::str() const {
  Civil c = civil_from_days(days);
  return fmt::format("{:04}-{:02}-{:02}", c.y, c.m, c.d);
}

const char* to_string(ValueKind kind) {
  switch (kind) {
    case ValueKind::null: return "nil";
    case ValueKind::boolean: return "boolean";
    case ValueKind::integer: return "integer";
    case ValueKind::floating: return "float";
    case ValueKind::string: return "string";
    case ValueKind::uuid: return "uuid";
    case ValueKind::datetime: return "utc_datetime";
    case ValueKind::date: return "date";
    case ValueKind::atom: return "atom";
    case ValueKind::binary: return "binary";
    case ValueKind::map: return "map";
    case ValueKind::array: return "array";
    case ValueKind::forbidden: return "forbidden";
  }
  return "?";
}

Value::Value(Map v) {
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  Map unique;
  for (auto& kv : v) {
    if (!unique.empty() && unique.back().first == kv.first)
      unique.back().second = std::move(kv.second);
    else
      unique.push_back(std::move(kv));
  }
  v_ = std::move(unique);
}

std::string Value::str() const {
  switch (kind()) {
    case ValueKind::null: return "nil";
    case ValueKind::boolean: return *as_bool() ? "true" : "false";
    case ValueKind::integer: return std::to_string(*as_int());
    case ValueKind::floating: return fmt::format("{}", *as_float());
    case ValueKind::string: return fmt::format("\"{}\"", *as_string());
    case ValueKind::uuid: return as_uuid()->str();
    case ValueKind::datetime: return as_datetime()->str();
    case ValueKind::date: return as_date()->str();
    case ValueKind::atom: return ":" + as_atom()->name;
    case ValueKind::binary: return fmt::format("<<{} bytes>>", as_binary()->bytes.size());
    case ValueKind::map: {
      std::string s = "{";
      for (const auto& [k, v] : *as_map()) s += (s.size() > 1 ? ", " : "") + k + ": " + v.str();
      return s + "}";
    }
    case ValueKind::array: {
      std::string s = "[";
      for (const auto& v : *as_array()) s += (s.size() > 1 ? ", " : "") + v.str();
      return s + "]";
    }
    case ValueKind::forbidden: return "#forbidden";
  }
  return "?";
}

const Value* find_field(const Fields& fields, std::string_view name) {
  for (const auto& [k, v] : fields)
    if (k == name) return &v;
  return nullptr;
}

}  // namespace ashlar
