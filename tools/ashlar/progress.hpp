#pragma once
// A progress bar on stderr for long commands (rebuild, verify): drawn only when stderr
// is a terminal, so scripts and logs get nothing but the result.

#include <chrono>
#include <cstdint>
#include <string>

namespace ashlar::cli {

class Progress {
 public:
  // `what` names the work ("rebuild"); `start` is where it resumes, `total` the head.
  Progress(std::string what, std::uint64_t start, std::uint64_t total);
  ~Progress();  // clears the bar

  // Redraws at most ten times a second: percentage, events/s and the time left.
  void update(std::uint64_t position, std::uint64_t total);
  bool shown() const { return enabled_; }

 private:
  std::string what_;
  std::uint64_t start_;
  std::uint64_t total_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point began_, last_;
};

// "1.2M", "340k", "12": short counts for the bar.
std::string short_count(double n);

}  // namespace ashlar::cli
