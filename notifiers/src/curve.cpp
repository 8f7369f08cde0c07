#include <ashlar/notifiers/curve.hpp>

#include "curve_sockets.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <zmq.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

namespace ashlar {
namespace {

using nlohmann::json;

Result<std::string> read_text(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(Error::framework(fmt::format("cannot read {} {}: {}", what, path, std::strerror(errno))));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Result<std::string> read_key(const std::string& path) {
  ASHLAR_TRY(text, read_text(path, "the key file"));
  std::string key = *text;
  while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back()))) key.pop_back();
  if (!curve::is_key(key))
    return fail(Error::framework(fmt::format("the key file {} does not hold a CURVE key (40 characters of Z85)", path)));
  return key;
}

// Creates `path` with `mode`, failing when it exists, and writes `line`.
Result<void> write_new(const std::string& path, const std::string& line, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return fail(Error::framework(fmt::format("cannot write the key file {}: {}", path, std::strerror(errno))));
  bool ok = ::fchmod(fd, mode) == 0 && ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
            ::fsync(fd) == 0;
  int saved = errno;
  ::close(fd);
  if (!ok) return fail(Error::framework(fmt::format("cannot write the key file {}: {}", path, std::strerror(saved))));
  return {};
}

// What identifies a version of the list's file: a change to any of them is a new list.
struct Stamp {
  ino_t inode = 0;
  off_t size = -1;
  timespec modified{};
  bool operator==(const Stamp& o) const {
    return inode == o.inode && size == o.size && modified.tv_sec == o.modified.tv_sec &&
           modified.tv_nsec == o.modified.tv_nsec;
  }
};

Stamp stamp_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return {st.st_ino, st.st_size, st.st_mtim};
}

}  // namespace

namespace curve {

bool is_key(std::string_view text) {
  if (text.size() != 40) return false;
  std::string copy(text);
  std::uint8_t raw[32];
  return zmq_z85_decode(raw, copy.c_str()) != nullptr;
}

Result<std::string> public_of(const std::string& secret_key) {
  char public_key[41] = {};
  if (!is_key(secret_key) || zmq_curve_public(public_key, secret_key.c_str()) != 0)
    return fail(Error::framework("the secret key is not a CURVE key (40 characters of Z85)"));
  return std::string(public_key);
}

}  // namespace curve

Result<CurveKeyPair> generate_key_pair() {
  char public_key[41] = {}, secret_key[41] = {};
  if (!zmq_has("curve") || zmq_curve_keypair(public_key, secret_key) != 0)
    return fail(Error::framework("this libzmq was built without CURVE"));
  return CurveKeyPair{public_key, secret_key};
}

Result<CurveKeyPair> read_key_pair(const std::string& path) {
  ASHLAR_TRY(secret, read_key(path));
  ASHLAR_TRY(public_key, curve::public_of(*secret));
  return CurveKeyPair{std::move(*public_key), std::move(*secret)};
}

Result<std::string> read_public_key(const std::string& path) { return read_key(path); }

Result<void> write_key_pair(const std::string& path, const CurveKeyPair& keys) {
  std::string pub = path + ".pub";
  for (const auto& p : {path, pub}) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) == 0)
      return fail(Error::conflict("", fmt::format("{} already exists; a key is never overwritten", p))
                      .with_code(codes::kAlreadyExists));
  }
  ASHLAR_TRY_VOID(write_new(path, keys.secret_key + "\n", 0600));
  auto written = write_new(pub, keys.public_key + "\n", 0644);
  if (!written) ::unlink(path.c_str());  // no secret without its public half
  return written;
}

Result<ClientList> parse_client_list(std::string_view text) {
  json parsed = json::parse(text, nullptr, false);
  if (parsed.is_discarded()) return fail(Error::framework("the client list is not JSON"));
  if (!parsed.is_object()) return fail(Error::framework("the client list is not a JSON object of public keys"));
  ClientList out;
  for (const auto& [key, entry] : parsed.items()) {
    if (!curve::is_key(key))
      return fail(Error::framework(
          fmt::format("the client list's key \"{}\" is not a CURVE public key (40 characters of Z85)", key)));
    if (!entry.is_object() || !entry.contains("id") || !entry["id"].is_string())
      return fail(Error::framework(fmt::format("the client list's entry for {} has no \"id\" string", key)));
    ClientActor actor{entry["id"].get<std::string>(), {}};
    if (entry.contains("role")) {
      if (!entry["role"].is_string())
        return fail(Error::framework(fmt::format("the client list's entry for {} has a \"role\" that is not a string", key)));
      actor.role = entry["role"].get<std::string>();
    }
    out.emplace(key, std::move(actor));
  }
  return out;
}

struct ClientAllowList::State {
  mutable std::mutex mutex;
  ClientList clients;
  LogFn log;
  std::string path;              // empty: made from values
  Stamp stamp;                   // the file's, when last read
  std::set<std::string> logged;  // strangers already logged since the list changed
  bool failure_logged = false;   // this version of the file does not parse, and was logged

  void write_log(const std::string& line) const {
    if (log) {
      try {
        log(line);
      } catch (...) {
        // A logger that throws loses its line; the handshake's answer does not change.
      }
    } else {
      std::fprintf(stderr, "ashlar: %s\n", line.c_str());
    }
  }
  Result<ClientList> read() const {
    ASHLAR_TRY(text, read_text(path, "the client list"));
    auto parsed = parse_client_list(*text);
    if (!parsed) return fail(Error::framework(fmt::format("{} ({})", parsed.error().message, path)));
    return parsed;
  }
  // Called with the mutex held.
  void install(ClientList list) {
    clients = std::move(list);
    logged.clear();
  }
};

ClientAllowList::ClientAllowList(ClientList clients, LogFn log) : state_(std::make_unique<State>()) {
  state_->clients = std::move(clients);
  state_->log = std::move(log);
}

ClientAllowList::~ClientAllowList() = default;

Result<std::shared_ptr<ClientAllowList>> ClientAllowList::from_file(const std::string& path, LogFn log) {
  auto list = std::make_shared<ClientAllowList>(ClientList{}, std::move(log));
  list->state_->path = path;
  ASHLAR_TRY_VOID(list->reload());
  return list;
}

Result<void> ClientAllowList::reload() {
  State& s = *state_;
  if (s.path.empty()) return fail(Error::framework("this client list has no file"));
  Stamp stamp = stamp_of(s.path);
  ASHLAR_TRY(list, s.read());
  std::lock_guard lock(s.mutex);
  s.install(std::move(*list));
  s.stamp = stamp;
  s.failure_logged = false;
  return {};
}

void ClientAllowList::replace(ClientList clients) {
  std::lock_guard lock(state_->mutex);
  state_->install(std::move(clients));
}

std::optional<ClientActor> ClientAllowList::admit(const std::string& public_key) {
  State& s = *state_;
  std::lock_guard lock(s.mutex);
  if (!s.path.empty()) {
    Stamp now = stamp_of(s.path);
    if (!(now == s.stamp)) {
      s.stamp = now;
      auto list = s.read();
      if (list) {
        s.install(std::move(*list));
        s.failure_logged = false;
      } else if (!s.failure_logged) {
        s.failure_logged = true;
        s.write_log(fmt::format("kept the previous client list: {}", list.error().message));
      }
    }
  }
  auto found = s.clients.find(public_key);
  if (found != s.clients.end()) return found->second;
  if (s.logged.insert(public_key).second)
    s.write_log(fmt::format("refused a client whose key is not on the allow-list: {}", public_key));
  return std::nullopt;
}

ClientList ClientAllowList::clients() const {
  std::lock_guard lock(state_->mutex);
  return state_->clients;
}

}  // namespace ashlar
