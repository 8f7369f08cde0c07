#pragma once
// What every command shares about output and failure: lines flushed one at a time, and
// errors as one line on stderr with a non-zero exit code.

#include <ashlar/model/result.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace ashlar::cli {

// Exit codes, part of the contract scripts rely on.
constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;  // the store could not be read, or the output not written
constexpr int kExitUsage = 2;    // bad arguments

// Writes `line` and a newline to stdout and flushes, so a consumer of a pipe sees each
// line as soon as it is printed. Unknown when stdout cannot be written (disk full, ...).
Result<void> print_line(std::string_view line);

// The error as one line without the class prefix: control characters (a newline in a
// Cap'n Proto message, say) become spaces.
std::string one_line(const Error& error);

// Runs a command's body. On error prints "ashlar: <message>" on stderr and throws
// CLI::RuntimeError(kExitFailure), which the app turns into the exit code.
void run_command(const std::function<Result<void>()>& body);

// Parses a log position for --from: decimal digits only, at least 1. CLI11's own
// integer parsing would take "-1" as 2^64-1 and "010" as octal.
std::optional<std::uint64_t> parse_position(std::string_view text);

}  // namespace ashlar::cli
