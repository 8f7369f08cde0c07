#pragma once
// The text side of expressions and sorts, shared by the lexer, the parsers and the printer.

#include <ashlar/model/expr.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

// A namespace of its own: these names are private to the model library.
namespace ashlar::syntax {

struct Token {
  enum class Kind : std::uint8_t { end, error, ident, atom, string, integer, floating, symbol };
  Kind kind = Kind::end;
  std::size_t pos = 0;    // byte offset in the input
  std::string_view text;  // as written
  std::string value;      // strings and atoms: decoded; errors: the message
};

// The tokens of `input`, ending with an end token, or with an error token at the first
// thing that is not a token (unclosed string, stray character). Symbols are
// ( ) [ ] , . ^ %{ } => == != < <= > >= + - * / && || !
std::vector<Token> lex(std::string_view input);

// [A-Za-z_][A-Za-z0-9_]* with an optional trailing '?' (and '!', for atoms).
bool is_identifier(std::string_view text, bool allow_bang);
// "a \"b\"" -> "\"a \\\"b\\\"\"": double quotes, with \" \\ \n \t \r escaped.
std::string quote_string(std::string_view text);
// ":open", or ":\"two words\"" for names that are not identifiers.
std::string atom_text(std::string_view name);

// 1-based column of byte offset `pos`, counting UTF-8 code points.
std::size_t column_at(std::string_view input, std::size_t pos);
// Invalid, one field error {field, "syntax", "at column N: <what>"}.
Error syntax_error(std::string_view field, std::string_view input, std::size_t pos,
                   const std::string& what);

}  // namespace ashlar::syntax
