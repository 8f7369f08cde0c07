// Walking every page of a store in a child process (store_files::walk_pages). LMDB keeps
// no checksums and trusts every page it reads: a damaged one can make it fail an
// assertion (abort), follow a pointer out of the map (SIGSEGV) or past the end of the
// file (SIGBUS). In a child, any of those ends the child, and the caller reports it.
#include "store_files.hpp"

#include <fmt/format.h>
#include <lmdb.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace ashlar::store_files {
namespace {

// The child's exit codes; anything else (a sanitizer's own exit, a signal) is a crash too.
constexpr int kClean = 0;
constexpr int kProblem = 3;  // it wrote the problem to its stderr (the pipe)
constexpr int kFault = 4;    // a fault handler wrote what it caught

constexpr unsigned kMaxDatabases = 1 << 14;
constexpr std::size_t kMaxReport = 4096;

void say(const char* text) {
  std::size_t n = std::strlen(text);
  while (n > 0) {
    ssize_t w = ::write(STDERR_FILENO, text, n);
    if (w <= 0) return;
    text += w;
    n -= static_cast<std::size_t>(w);
  }
}

extern "C" void on_fault(int sig) {
  say(sig == SIGBUS    ? "\nreading a page raised SIGBUS: a page lies past the end of data.mdb"
      : sig == SIGSEGV ? "\nreading a page raised SIGSEGV: a page points outside the store"
                       : "\nLMDB aborted on a damaged page");
  ::_exit(kFault);
}

void catch_faults() {
  struct sigaction sa {};
  sa.sa_handler = on_fault;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGBUS, SIGSEGV, SIGABRT, SIGFPE, SIGILL}) ::sigaction(sig, &sa, nullptr);
}

// Reads every byte of `v`, so that each overflow page of a long value is touched too.
std::uint8_t touch(const MDB_val& v) {
  volatile std::uint8_t sum = 0;
  const auto* p = static_cast<const std::uint8_t*>(v.mv_data);
  for (std::size_t i = 0; i < v.mv_size; ++i) sum = static_cast<std::uint8_t>(sum + p[i]);
  return sum;
}

// Visits every entry of `dbi` in order; a problem sentence, or empty.
std::string walk_database(MDB_txn* txn, MDB_dbi dbi, const std::string& name) {
  MDB_cursor* c = nullptr;
  int rc = mdb_cursor_open(txn, dbi, &c);
  if (rc != 0) return fmt::format("database {}: {}", name, mdb_strerror(rc));
  MDB_val k{}, v{};
  std::uint64_t seen = 0;
  for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
    touch(k);
    touch(v);
    ++seen;
  }
  mdb_cursor_close(c);
  if (rc != MDB_NOTFOUND) return fmt::format("database {}: {}", name, mdb_strerror(rc));
  MDB_stat st{};
  if (mdb_stat(txn, dbi, &st) == 0 && st.ms_entries != seen)
    return fmt::format("database {} holds {} entries, but its header counts {}", name, seen, st.ms_entries);
  return {};
}

// The names of the named databases: the keys of the main database.
std::string database_names(MDB_txn* txn, std::vector<std::string>& names) {
  MDB_dbi main = 0;
  int rc = mdb_dbi_open(txn, nullptr, 0, &main);
  if (rc != 0) return fmt::format("the main database: {}", mdb_strerror(rc));
  MDB_cursor* c = nullptr;
  rc = mdb_cursor_open(txn, main, &c);
  if (rc != 0) return fmt::format("the main database: {}", mdb_strerror(rc));
  MDB_val k{}, v{};
  for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
    names.emplace_back(static_cast<const char*>(k.mv_data), k.mv_size);
  mdb_cursor_close(c);
  if (rc != MDB_NOTFOUND) return fmt::format("the main database: {}", mdb_strerror(rc));
  return {};
}

std::string walk(const std::string& dir) {
  MDB_env* env = nullptr;
  int rc = mdb_env_create(&env);
  if (rc != 0) return mdb_strerror(rc);
  mdb_env_set_maxdbs(env, kMaxDatabases);
  rc = mdb_env_open(env, dir.c_str(), MDB_RDONLY | MDB_NOTLS, 0644);
  if (rc != 0) return fmt::format("LMDB cannot open it: {}", mdb_strerror(rc));
  MDB_txn* txn = nullptr;
  rc = mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn);
  if (rc != 0) return fmt::format("LMDB cannot read it: {}", mdb_strerror(rc));
  std::string problem = walk_database(txn, 0, "of free pages");  // FREE_DBI
  std::vector<std::string> names;
  if (problem.empty()) problem = database_names(txn, names);
  for (const auto& name : names) {
    if (!problem.empty()) break;
    MDB_dbi dbi = 0;
    rc = mdb_dbi_open(txn, name.c_str(), 0, &dbi);
    if (rc == MDB_INCOMPATIBLE) continue;  // a plain entry of the main database, not a database
    if (rc != 0) problem = fmt::format("database {}: {}", name, mdb_strerror(rc));
    else problem = walk_database(txn, dbi, name);
  }
  return problem;  // the child exits without closing: nothing of it outlives the process
}

[[noreturn]] void run_child(const std::string& dir, int report_fd) {
  ::dup2(report_fd, STDERR_FILENO);  // LMDB prints its assertion failures there
  ::close(report_fd);
  catch_faults();
  std::string problem = walk(dir);
  if (problem.empty()) ::_exit(kClean);
  say(problem.c_str());
  ::_exit(kProblem);
}

// What the child wrote (LMDB's assertion, then the handler's sentence), on one line.
std::string one_line(const std::string& text) {
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out += (out.empty() ? "" : "; ") + text.substr(start, end - start);
    start = end + 1;
  }
  return out;
}

std::string verdict(int status, const std::string& said) {
  std::string text = one_line(said);
  if (WIFEXITED(status) && (WEXITSTATUS(status) == kProblem || WEXITSTATUS(status) == kFault)) return text;
  if (WIFSIGNALED(status))
    return fmt::format("the process reading its pages died of signal {}{}", WTERMSIG(status),
                       text.empty() ? "" : ": " + text);
  return fmt::format("the process reading its pages exited with status {}{}", WEXITSTATUS(status),
                     text.empty() ? "" : ": " + text.substr(0, 200));
}

}  // namespace

Result<void> walk_pages(const std::string& dir) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    return fail(Error::unknown(fmt::format("cannot check the pages of {}: {}", dir, std::strerror(errno)))
                    .with_code(codes::kIoError));
  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    return fail(Error::unknown(fmt::format("cannot check the pages of {}: {}", dir, std::strerror(err)))
                    .with_code(codes::kIoError));
  }
  if (pid == 0) {
    ::close(fds[0]);
    run_child(dir, fds[1]);
  }
  ::close(fds[1]);
  std::string said;
  char buf[512];
  for (;;) {
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (said.size() < kMaxReport) said.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == kClean) return {};
  return fail(Error::unknown(fmt::format("damaged store: {}: {}", dir, verdict(status, said)))
                  .with_code(codes::kStoreDamaged));
}

}  // namespace ashlar::store_files
