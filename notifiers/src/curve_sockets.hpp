#pragma once
// CURVE on the notifiers' sockets: the server side (keys, and the context's ZAP handler,
// RFC 27, which checks each client's key against its server's allow-list) and the client
// side (the server's public key and the client's pair).

#include <ashlar/model/result.hpp>
#include <ashlar/notifiers/curve.hpp>
#include <ashlar/notifiers/zmq_context.hpp>

#include <zmq.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace ashlar::curve {

// 40 characters that decode as Z85.
bool is_key(std::string_view text);
// The public key of a secret key (Z85). Framework when it is not a key.
Result<std::string> public_of(const std::string& secret_key);

// The ZeroMQ message property the ZAP handler sets to the client's actor's role (beside
// "User-Id", which holds its id).
inline constexpr const char* kRoleProperty = "Role";

// A server socket's entry in its context's ZAP handler: while it lives, handshakes on the
// socket are checked against its allow-list. Declare it before the socket it secures, so
// the socket closes first.
class ServerGate {
 public:
  ~ServerGate();
  ServerGate(const ServerGate&) = delete;
  ServerGate& operator=(const ServerGate&) = delete;

 private:
  friend Result<std::unique_ptr<ServerGate>> secure_server(zmq::socket_t&, const std::shared_ptr<ZmqContext>&,
                                                           const CurveServerOptions&, std::string_view);
  ServerGate() = default;
  std::shared_ptr<class ZapHandler> handler_;
  std::string domain_;
};

// Makes `socket` (not yet bound) a CURVE server with options.keys, its clients checked by
// the context's ZAP handler (started with the first such socket of the context, and
// stopped with the context). Null
// when options.keys is empty: the socket stays plain. Framework, naming the `role`, when
// a key is not 40 characters of Z85, the public key is not the secret key's, libzmq has
// no CURVE, or the handler cannot bind inproc://zeromq.zap.01 (another ZAP handler has
// it in this context).
Result<std::unique_ptr<ServerGate>> secure_server(zmq::socket_t& socket, const std::shared_ptr<ZmqContext>& context,
                                                  const CurveServerOptions& options, std::string_view role);

// Makes `socket` (not yet connected) a CURVE client of the server whose public key is
// `server_key`, as `client` (a fresh pair when empty). Framework when a key is malformed.
Result<void> secure_client(zmq::socket_t& socket, const std::string& server_key, const CurveKeyPair& client);

}  // namespace ashlar::curve
