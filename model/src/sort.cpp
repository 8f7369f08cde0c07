// Ash's sort-input form: "-opened_at,priority".

#include <ashlar/model/sort.hpp>

#include "expr_syntax.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace ashlar {

std::vector<std::string> SortKey::path() const {
  std::vector<std::string> out;
  for (std::size_t pos = 0; pos <= field.size();) {
    auto dot = std::min(field.find('.', pos), field.size());
    out.push_back(field.substr(pos, dot - pos));
    pos = dot + 1;
  }
  return out;
}
namespace {

using syntax::is_identifier;
using syntax::syntax_error;

bool is_space(char c) { return c == ' ' || c == '\t'; }
bool is_name_char(char c) {
  return c == '_' || c == '?' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}

class SortParser {
 public:
  explicit SortParser(std::string_view input) : in_(input) {}

  Result<std::vector<SortKey>> parse() {
    std::vector<SortKey> keys;
    skip_space();
    if (pos_ == in_.size()) return keys;
    while (true) {
      if (keys.size() == kMaxSortKeys) {
        Error e = error(fmt::format("too complex: more than the limit of {} keys", kMaxSortKeys));
        e.fields[0].code = codes::kTooComplex;
        return std::move(e).with_code(codes::kTooComplex);
      }
      auto key = parse_key();
      if (!key) return key.error();
      keys.push_back(std::move(*key));
      skip_space();
      if (pos_ == in_.size()) return keys;
      if (in_[pos_] != ',')
        return error(fmt::format("expected \",\" or the end of input, found {}", found()));
      ++pos_;
      skip_space();
    }
  }

 private:
  void skip_space() {
    while (pos_ < in_.size() && is_space(in_[pos_])) ++pos_;
  }

  std::string found() const {
    if (pos_ >= in_.size()) return "end of input";
    std::size_t end = pos_ + 1;
    while (end < in_.size() && (static_cast<unsigned char>(in_[end]) & 0xC0) == 0x80) ++end;
    return fmt::format("\"{}\"", in_.substr(pos_, end - pos_));
  }

  Error error(const std::string& what) const { return syntax_error("sort", in_, pos_, what); }

  // A prefix (++ -- + -) and a dotted field name.
  Result<SortKey> parse_key() {
    SortKey key;
    std::string_view rest = in_.substr(pos_);
    if (rest.starts_with("++")) {
      key = {{}, false, true}, pos_ += 2;
    } else if (rest.starts_with("--")) {
      key = {{}, true, false}, pos_ += 2;
    } else if (rest.starts_with("+")) {
      key = {{}, false, false}, pos_ += 1;
    } else if (rest.starts_with("-")) {
      key = {{}, true, true}, pos_ += 1;
    }
    while (true) {
      std::size_t start = pos_;
      while (pos_ < in_.size() && is_name_char(in_[pos_])) ++pos_;
      std::string_view segment = in_.substr(start, pos_ - start);
      if (!is_identifier(segment, false)) {
        pos_ = start;
        if (segment.empty()) return error(fmt::format("expected a field name, found {}", found()));
        return error(fmt::format("\"{}\" is not a field name", segment));
      }
      key.field += segment;
      if (pos_ >= in_.size() || in_[pos_] != '.') return key;
      key.field += '.';
      ++pos_;
    }
  }

  std::string_view in_;
  std::size_t pos_ = 0;
};

}  // namespace

Result<std::vector<SortKey>> parse_sort(std::string_view text) {
  if (text.size() > kMaxSortText)
    return Error::invalid({}, {},
                          {FieldError{"sort", codes::kTooComplex,
                                      fmt::format("too long: {} bytes, more than the limit of {}",
                                                  text.size(), kMaxSortText)}})
        .with_code(codes::kTooComplex);
  return SortParser(text).parse();
}

std::string to_string(const std::vector<SortKey>& keys) {
  std::string out;
  for (const auto& key : keys) {
    if (!out.empty()) out += ',';
    bool default_nils = key.nils_first == key.descending;
    if (key.descending) out += default_nils ? "-" : "--";
    else if (!default_nils) out += "++";
    out += key.field;
  }
  return out;
}

}  // namespace ashlar
