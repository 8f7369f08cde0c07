#include "progress.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <unistd.h>

namespace ashlar::cli {

std::string short_count(double n) {
  if (n >= 1e6) return fmt::format("{:.1f}M", n / 1e6);
  if (n >= 1e4) return fmt::format("{:.0f}k", n / 1e3);
  return fmt::format("{:.0f}", n);
}

Progress::Progress(std::string what, std::uint64_t start, std::uint64_t total)
    : what_(std::move(what)), start_(start), total_(total), enabled_(::isatty(STDERR_FILENO) == 1),
      began_(std::chrono::steady_clock::now()), last_(began_) {}

Progress::~Progress() {
  if (drawn_) std::fprintf(stderr, "\r\033[K");
}

void Progress::update(std::uint64_t position, std::uint64_t total) {
  if (!enabled_) return;
  total_ = total;
  auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_ < std::chrono::milliseconds(100) && position < total_) return;
  last_ = now;
  double seconds = std::chrono::duration<double>(now - began_).count();
  double rate = seconds > 0 ? static_cast<double>(position - std::min(position, start_)) / seconds : 0;
  double fraction = total_ ? static_cast<double>(position) / static_cast<double>(total_) : 1.0;
  constexpr int kWidth = 30;
  int filled = static_cast<int>(fraction * kWidth);
  std::string eta = rate > 0 ? fmt::format("{:.0f}s", static_cast<double>(total_ - std::min(position, total_)) / rate)
                             : "?";
  std::fprintf(stderr, "\r\033[K%s [%s%s] %3.0f%% %s/%s events  %s events/s  ETA %s", what_.c_str(),
               std::string(filled, '=').c_str(), std::string(kWidth - filled, ' ').c_str(), fraction * 100,
               short_count(static_cast<double>(position)).c_str(), short_count(static_cast<double>(total_)).c_str(),
               short_count(rate).c_str(), eta.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace ashlar::cli
