#include "output.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>

namespace ashlar::cli {

Result<void> print_line(std::string_view line) {
  errno = 0;
  bool ok = std::fwrite(line.data(), 1, line.size(), stdout) == line.size() && std::fputc('\n', stdout) != EOF &&
            std::fflush(stdout) == 0;
  if (!ok) return fail(Error::unknown(fmt::format("cannot write the output: {}", std::strerror(errno ? errno : EIO))));
  return {};
}

std::string one_line(const Error& error) {
  std::string text = error.describe();
  // describe() starts with the class ("framework: "), which means nothing to a user here.
  std::string prefix = std::string(to_string(error.cls)) + ": ";
  if (text.compare(0, prefix.size(), prefix) == 0) text.erase(0, prefix.size());
  for (char& c : text)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = ' ';
  return text;
}

void run_command(const std::function<Result<void>()>& body) {
  auto result = body();
  if (result) return;
  std::fflush(stdout);  // what was printed before the error comes first in a shared terminal
  std::fprintf(stderr, "ashlar: %s\n", one_line(result.error()).c_str());
  std::fflush(stderr);
  throw CLI::RuntimeError(kExitFailure);
}

std::optional<std::uint64_t> parse_position(std::string_view text) {
  std::uint64_t value = 0;
  if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0) return std::nullopt;
  return value;
}

}  // namespace ashlar::cli
