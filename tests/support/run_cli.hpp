#pragma once
// Running the `ashlar` binary (ASHLAR_CLI) as users do: stdout and stderr captured,
// the exit code checked to be a normal exit.

#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace ashlar::test {

struct CliRun {
  int code = -1;
  std::string out, err;
  std::vector<std::string> out_lines, err_lines;
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Runs the binary with stdout and stderr redirected to files (no pipes to drain).
inline CliRun run_ashlar(const std::vector<std::string>& args) {
  TempDir io;
  std::string out_path = io.sub("out"), err_path = io.sub("err");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> argv_s = {ASHLAR_CLI};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, ASHLAR_CLI, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  REQUIRE(rc == 0);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CliRun run;
  REQUIRE(WIFEXITED(status));  // a signal (a crash) is never an answer
  run.code = WEXITSTATUS(status);
  run.out = read_file(out_path);
  run.err = read_file(err_path);
  run.out_lines = split_lines(run.out);
  run.err_lines = split_lines(run.err);
  return run;
}

}  // namespace ashlar::test
