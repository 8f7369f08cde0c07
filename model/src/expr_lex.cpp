// Splits expression text into tokens; the first thing that is not a token ends the list
// with an error token, so the parser reports whichever problem comes first.

#include "expr_syntax.hpp"

#include <fmt/format.h>

#include <optional>

namespace ashlar::syntax {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_head(char c) { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_tail(char c) { return is_head(c) || is_digit(c); }

class Lexer {
 public:
  explicit Lexer(std::string_view input) : in_(input) {}

  std::vector<Token> run() {
    std::vector<Token> out;
    while (true) {
      skip_space();
      Token t = next();
      bool last = t.kind == Token::Kind::end || t.kind == Token::Kind::error;
      out.push_back(std::move(t));
      if (last) return out;
    }
  }

 private:
  char at(std::size_t i) const { return i < in_.size() ? in_[i] : '\0'; }

  void skip_space() {
    while (pos_ < in_.size() && (in_[pos_] == ' ' || in_[pos_] == '\t' || in_[pos_] == '\n' ||
                                 in_[pos_] == '\r'))
      ++pos_;
  }

  Token make(Token::Kind kind, std::size_t start, std::string value = {}) {
    return Token{kind, start, in_.substr(start, pos_ - start), std::move(value)};
  }

  Token error(std::size_t start, std::string message) {
    return Token{Token::Kind::error, start, in_.substr(start, pos_ - start), std::move(message)};
  }

  Token next() {
    std::size_t start = pos_;
    if (pos_ >= in_.size()) return make(Token::Kind::end, start);
    char c = in_[pos_];
    if (is_head(c)) {
      lex_name(false);
      return make(Token::Kind::ident, start);
    }
    if (is_digit(c)) return lex_number();
    if (c == '"') {
      auto text = lex_quoted();
      if (!text) return failure_;
      return make(Token::Kind::string, start, std::move(*text));
    }
    if (c == ':') return lex_atom();
    return lex_symbol();
  }

  void lex_name(bool allow_bang) {
    while (is_tail(at(pos_))) ++pos_;
    if (at(pos_) == '?' || (allow_bang && at(pos_) == '!')) ++pos_;
  }

  Token lex_number() {
    std::size_t start = pos_;
    auto digits = [&] {
      while (is_digit(at(pos_)) || (at(pos_) == '_' && is_digit(at(pos_ + 1)))) ++pos_;
    };
    digits();
    bool floating = false;
    if (at(pos_) == '.' && is_digit(at(pos_ + 1))) {
      ++pos_, floating = true;
      digits();
    }
    char e = at(pos_);
    if ((e == 'e' || e == 'E') &&
        (is_digit(at(pos_ + 1)) ||
         ((at(pos_ + 1) == '+' || at(pos_ + 1) == '-') && is_digit(at(pos_ + 2))))) {
      pos_ += 2, floating = true;
      digits();
    }
    return make(floating ? Token::Kind::floating : Token::Kind::integer, start);
  }

  // From the opening quote at pos_ to past the closing one: the decoded contents, or
  // nullopt with failure_ set.
  std::optional<std::string> lex_quoted() {
    std::size_t open = pos_++;
    std::string value;
    while (pos_ < in_.size() && in_[pos_] != '"') {
      if (in_[pos_] != '\\') {
        value += in_[pos_++];
        continue;
      }
      char esc = at(pos_ + 1);
      const char* decoded = esc == '"' ? "\"" : esc == '\\' ? "\\" : esc == 'n' ? "\n"
                          : esc == 't' ? "\t" : esc == 'r' ? "\r" : nullptr;
      if (!decoded && esc) {
        failure_ = error(pos_, fmt::format("unknown escape \"\\{}\" in a string", esc));
        return std::nullopt;
      }
      if (!decoded) break;  // a backslash at the very end
      value += decoded;
      pos_ += 2;
    }
    if (pos_ >= in_.size() || in_[pos_] != '"') {
      // The opening quote is what the reader must find and close.
      failure_ = error(open, "unclosed string: expected a closing \", found end of input");
      return std::nullopt;
    }
    ++pos_;
    return value;
  }

  Token lex_atom() {
    std::size_t start = pos_++;
    if (is_head(at(pos_))) {
      lex_name(true);
      return make(Token::Kind::atom, start, std::string(in_.substr(start + 1, pos_ - start - 1)));
    }
    if (at(pos_) == '"') {
      auto text = lex_quoted();
      if (!text) return failure_;
      return make(Token::Kind::atom, start, std::move(*text));
    }
    return error(start,
                 pos_ < in_.size()
                     ? fmt::format("expected an atom name after \":\", found \"{}\"", in_[pos_])
                     : "expected an atom name after \":\", found end of input");
  }

  Token lex_symbol() {
    static constexpr std::string_view kTwo[] = {"==", "!=", "<=", ">=", "&&", "||", "=>", "%{", "<>"};
    static constexpr std::string_view kOne = "()[],.^}<>+-*/!";
    std::size_t start = pos_;
    for (auto two : kTwo)
      if (in_.substr(pos_, 2) == two) {
        pos_ += 2;
        return make(Token::Kind::symbol, start);
      }
    char c = in_[pos_];
    if (kOne.find(c) != std::string_view::npos) {
      ++pos_;
      return make(Token::Kind::symbol, start);
    }
    if (c == '=') return error(start, "unexpected \"=\" (compare with \"==\")");
    if (c == '&' || c == '|')
      return error(start, fmt::format("unexpected \"{0}\" (did you mean \"{0}{0}\"?)", c));
    std::size_t len = 1;  // the whole UTF-8 sequence, so the message shows the character
    while (start + len < in_.size() &&
           (static_cast<unsigned char>(in_[start + len]) & 0xC0) == 0x80)
      ++len;
    return error(start, fmt::format("unexpected character \"{}\"", in_.substr(start, len)));
  }

  std::string_view in_;
  std::size_t pos_ = 0;
  Token failure_;
};

}  // namespace

std::vector<Token> lex(std::string_view input) { return Lexer(input).run(); }

std::size_t column_at(std::string_view input, std::size_t pos) {
  std::size_t column = 1;
  for (std::size_t i = 0; i < pos && i < input.size(); ++i)
    column += (static_cast<unsigned char>(input[i]) & 0xC0) != 0x80;
  return column;
}

Error syntax_error(std::string_view field, std::string_view input, std::size_t pos,
                   const std::string& what) {
  return Error::invalid({}, {},
                        {FieldError{std::string(field), "syntax",
                                    fmt::format("at column {}: {}", column_at(input, pos), what)}});
}

}  // namespace ashlar::syntax
