#include "curve_sockets.hpp"

#include "zmq_util.hpp"

#include <fmt/format.h>
#include <zmq_addon.hpp>

#include <atomic>
#include <map>
#include <thread>
#include <vector>

namespace ashlar::curve {
namespace {

constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";

// A ZMTP metadata property: name length (1 byte), name, value length (4 bytes, big
// endian), value.
void append_property(std::string& out, std::string_view name, std::string_view value) {
  out.push_back(static_cast<char>(name.size()));
  out.append(name);
  auto n = static_cast<std::uint32_t>(value.size());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((n >> shift) & 0xff));
  out.append(value);
}

std::string z85(std::string_view raw) {
  char text[41] = {};
  if (raw.size() != 32 || !zmq_z85_encode(text, reinterpret_cast<const std::uint8_t*>(raw.data()), 32)) return {};
  return text;
}

}  // namespace

// The one ZAP handler of a context, which owns it: a REP socket at
// inproc://zeromq.zap.01 and a thread answering it. Each CURVE server socket of the context has a ZAP domain of its own,
// registered here with its allow-list (null: any key); a request for a domain not
// registered is refused.
class ZapHandler {
 public:
  static Result<std::shared_ptr<ZapHandler>> of(const std::shared_ptr<ZmqContext>& context);
  explicit ZapHandler(zmq::context_t& context) : socket_(context, zmq::socket_type::rep) {}
  ~ZapHandler();

  std::string add(std::shared_ptr<ClientAllowList> clients);
  void remove(const std::string& domain);

 private:
  void run();
  std::vector<zmq::message_t> answer(const std::vector<zmq::message_t>& request);

  zmq::socket_t socket_;  // the thread's, once it runs
  zmq_util::EventFd stop_;
  std::thread thread_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<ClientAllowList>> domains_;
  std::uint64_t next_domain_ = 1;
};

Result<std::shared_ptr<ZapHandler>> ZapHandler::of(const std::shared_ptr<ZmqContext>& context) {
  auto& impl = context->impl();
  std::lock_guard lock(impl.zap_mutex);
  if (impl.zap) return impl.zap;
  auto handler = std::make_shared<ZapHandler>(impl.context);
  if (handler->stop_.fd() < 0) return fail(Error::unknown("cannot create an eventfd for the ZAP handler"));
  handler->socket_.set(zmq::sockopt::linger, 0);
  ASHLAR_TRY(bound, zmq_util::bind(handler->socket_, kZapEndpoint, "ZAP handler"));
  ZapHandler* raw = handler.get();
  handler->thread_ = std::thread([raw] { raw->run(); });
  impl.zap = handler;
  return handler;
}

ZapHandler::~ZapHandler() {
  stop_.signal();
  if (thread_.joinable()) thread_.join();
}

std::string ZapHandler::add(std::shared_ptr<ClientAllowList> clients) {
  std::lock_guard lock(mutex_);
  std::string domain = fmt::format("ashlar-{}", next_domain_++);
  domains_.emplace(domain, std::move(clients));
  return domain;
}

void ZapHandler::remove(const std::string& domain) {
  std::lock_guard lock(mutex_);
  domains_.erase(domain);
}

void ZapHandler::run() {
  zmq::pollitem_t items[] = {{socket_.handle(), 0, ZMQ_POLLIN, 0}, {nullptr, stop_.fd(), ZMQ_POLLIN, 0}};
  for (;;) {
    try {
      zmq::poll(items, 2, std::chrono::milliseconds(-1));
      if (items[1].revents & ZMQ_POLLIN) return;
      if (!(items[0].revents & ZMQ_POLLIN)) continue;
      std::vector<zmq::message_t> request;
      if (!zmq::recv_multipart(socket_, std::back_inserter(request), zmq::recv_flags::dontwait)) continue;
      auto reply = answer(request);
      zmq::send_multipart(socket_, reply, zmq::send_flags::dontwait);
    } catch (const std::exception&) {
      // EINTR, or a reply that could not be built: the client's handshake fails and it retries.
    }
  }
}

// Request: version, request id, domain, address, routing id, mechanism, credentials.
// Reply: version, request id, status code, status text, user id, metadata.
std::vector<zmq::message_t> ZapHandler::answer(const std::vector<zmq::message_t>& request) {
  auto reply = [&](std::string_view status, std::string_view text, std::string_view user, std::string_view meta) {
    std::vector<zmq::message_t> out;
    out.emplace_back(std::string_view("1.0"));
    out.emplace_back(request.size() > 1 ? zmq_util::view(request[1]) : std::string_view());
    for (auto part : {status, text, user, meta}) out.emplace_back(part);
    return out;
  };
  if (request.size() < 6 || zmq_util::view(request[0]) != "1.0") return reply("400", "malformed request", "", "");
  std::string domain(zmq_util::view(request[2]));
  std::shared_ptr<ClientAllowList> clients;
  {
    std::lock_guard lock(mutex_);
    auto found = domains_.find(domain);
    if (found == domains_.end()) return reply("400", "unknown domain", "", "");
    clients = found->second;
  }
  if (zmq_util::view(request[5]) != "CURVE" || request.size() != 7) return reply("400", "CURVE only", "", "");
  if (!clients) return reply("200", "OK", "", "");  // any client that knows the server's key
  std::string key = z85(zmq_util::view(request[6]));
  auto actor = clients->admit(key);
  if (!actor) return reply("400", "key not allowed", "", "");
  std::string metadata;
  append_property(metadata, kRoleProperty, actor->role);
  return reply("200", "OK", actor->id, metadata);
}

ServerGate::~ServerGate() {
  if (handler_) handler_->remove(domain_);
}

Result<std::unique_ptr<ServerGate>> secure_server(zmq::socket_t& socket, const std::shared_ptr<ZmqContext>& context,
                                                  const CurveServerOptions& options, std::string_view role) {
  const CurveKeyPair& keys = options.keys;
  if (keys.public_key.empty() && keys.secret_key.empty()) return std::unique_ptr<ServerGate>();
  if (!is_key(keys.public_key) || !is_key(keys.secret_key))
    return fail(Error::framework(fmt::format("the {}'s CURVE keys are not 40 characters of Z85 each", role)));
  ASHLAR_TRY(derived, public_of(keys.secret_key));
  if (*derived != keys.public_key)
    return fail(Error::framework(fmt::format("the {}'s CURVE public key is not its secret key's", role)));
  if (!zmq_has("curve")) return fail(Error::framework("this libzmq was built without CURVE"));
  ASHLAR_TRY(handler, ZapHandler::of(context));
  std::unique_ptr<ServerGate> gate(new ServerGate());
  gate->handler_ = std::move(*handler);
  gate->domain_ = gate->handler_->add(options.clients);
  socket.set(zmq::sockopt::zap_domain, gate->domain_);
  socket.set(zmq::sockopt::curve_server, true);
  socket.set(zmq::sockopt::curve_secretkey, keys.secret_key);
  return gate;
}

Result<void> secure_client(zmq::socket_t& socket, const std::string& server_key, const CurveKeyPair& client) {
  if (!is_key(server_key))
    return fail(Error::framework("the server's public key is not a CURVE key (40 characters of Z85)"));
  CurveKeyPair keys = client;
  if (keys.public_key.empty() && keys.secret_key.empty()) {
    ASHLAR_TRY(fresh, generate_key_pair());
    keys = std::move(*fresh);
  }
  if (!is_key(keys.public_key) || !is_key(keys.secret_key))
    return fail(Error::framework("the client's CURVE keys are not 40 characters of Z85 each"));
  ASHLAR_TRY(derived, public_of(keys.secret_key));
  if (*derived != keys.public_key) return fail(Error::framework("the client's CURVE public key is not its secret key's"));
  socket.set(zmq::sockopt::curve_serverkey, server_key);
  socket.set(zmq::sockopt::curve_publickey, keys.public_key);
  socket.set(zmq::sockopt::curve_secretkey, keys.secret_key);
  return {};
}

}  // namespace ashlar::curve
