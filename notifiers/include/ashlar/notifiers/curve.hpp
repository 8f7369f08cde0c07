#pragma once
// CURVE keys and the allow-list of clients: what secures the publisher's and the replay
// service's sockets (notifiers/PROTOCOL.md, "Security").
//
//   auto clients = ClientAllowList::from_file("/etc/app/clients.json").value();
//   PublishOptions publish{.endpoints = {"tcp://127.0.0.1:5556"}, .replay = "tcp://127.0.0.1:5557",
//                          .curve = {.keys = read_key_pair("/etc/app/server.key").value(),
//                                    .clients = clients}};

#include <ashlar/model/export.hpp>
#include <ashlar/model/result.hpp>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace ashlar {

// A CURVE key pair in ZeroMQ's Z85 text: 40 characters each.
struct ASHLAR_API CurveKeyPair {
  std::string public_key{};
  std::string secret_key{};
};

// A fresh key pair. Framework when libzmq was built without CURVE.
ASHLAR_API Result<CurveKeyPair> generate_key_pair();

// The key pair whose secret key the file at `path` holds (as write_key_pair writes it;
// the public key is derived). Framework "cannot read the key file P: ..." or "the key
// file P does not hold a CURVE key (40 characters of Z85)".
ASHLAR_API Result<CurveKeyPair> read_key_pair(const std::string& path);
// The public key the file at `path` holds (a PATH.pub of write_key_pair); errors as above.
ASHLAR_API Result<std::string> read_public_key(const std::string& path);

// Writes the secret key to `path` (mode 0600) and the public key to `path`.pub, each as
// one line of Z85. Conflict with code already_exists, writing nothing, when either file
// exists; Framework when one cannot be written.
ASHLAR_API Result<void> write_key_pair(const std::string& path, const CurveKeyPair& keys);

// Who a client is: the actor its public key stands for.
struct ASHLAR_API ClientActor {
  std::string id{};
  std::string role{};
  friend bool operator==(const ClientActor&, const ClientActor&) = default;
};

// Client public keys (Z85) and their actors.
using ClientList = std::map<std::string, ClientActor>;

// {"<Z85 public key>": {"id": "...", "role": "..."}, ...} ("role" optional). Framework
// naming the first problem: "the client list is not JSON", "the client list is not
// a JSON object of public keys", "the client list's key "K" is not a CURVE public key (40
// characters of Z85)", "the client list's entry for K has no "id" string".
ASHLAR_API Result<ClientList> parse_client_list(std::string_view json);

// The clients the servers accept. Thread-safe: the sockets' ZAP handler asks it at each
// handshake while the embedder reloads it.
class ASHLAR_API ClientAllowList {
 public:
  // Where its messages go: a stranger's key (once per key) and a changed file that did
  // not parse. Null: one line on stderr, "ashlar: ...". Called on the ZAP handler's
  // thread with the list locked: it must not call the list; what it throws is dropped.
  using LogFn = std::function<void(const std::string& line)>;

  explicit ClientAllowList(ClientList clients, LogFn log = {});
  ~ClientAllowList();
  ClientAllowList(const ClientAllowList&) = delete;
  ClientAllowList& operator=(const ClientAllowList&) = delete;
  // The list in the JSON file at `path`, read now and read again whenever the file's
  // modification time, size or inode differ at a handshake. Framework as
  // parse_client_list followed by " (P)", or "cannot read the client list P: ...".
  static Result<std::shared_ptr<ClientAllowList>> from_file(const std::string& path, LogFn log = {});

  // Reads the file again now (from_file only). On an error the current list stays, and
  // the error is returned (Framework, as from_file; "this client list has no file" for a
  // list made from values).
  Result<void> reload();
  // Replaces the list. The connections already made stay; new ones are checked against it.
  void replace(ClientList clients);

  // The actor of `public_key` (Z85), or nullopt: then, the first time for this key since
  // the list last changed, logs "refused a client whose key is not on the allow-list: K".
  // A changed file is read first; a file that no longer parses is logged once and the
  // current list kept.
  std::optional<ClientActor> admit(const std::string& public_key);
  ClientList clients() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// CURVE on a server's sockets (PublishOptions::curve, ReplayOptions::curve), over tcp://
// and ipc://. ZeroMQ's inproc:// makes no handshake: sockets of the same context connect
// to an inproc endpoint unchecked.
struct ASHLAR_API CurveServerOptions {
  // The server's key pair; empty: plain ZeroMQ, no CURVE.
  CurveKeyPair keys{};
  // Null: any client that knows the server's public key (encrypted, not authenticated).
  std::shared_ptr<ClientAllowList> clients{};
};

}  // namespace ashlar
