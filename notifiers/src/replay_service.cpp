#include <ashlar/notifiers/replay_service.hpp>

#include <ashlar/eventlog/redact.hpp>

#include "access_memo.hpp"
#include "curve_sockets.hpp"
#include "protocol.hpp"
#include "zmq_util.hpp"

#include <fmt/format.h>
#include <zmq_addon.hpp>

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>

namespace ashlar {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxReplyBytes = std::size_t{4} << 20;
// A replay of one tenant's events looks at most this many of other tenants' per reply,
// so a request for a tenant with few events answers promptly in a busy store.
constexpr std::size_t kMaxSkipped = 100000;
// On a per-client stream each event skipped took a decision (for the engine, a read as
// of its position): fewer per reply, so one client's reply does not hold up the others.
constexpr std::size_t kMaxSkippedDecided = 1000;

// An event's bytes in a reply: the stored ones, or a re-encoding shared with the
// service's memory of it.
struct WireEvent {
  std::string stored;
  std::shared_ptr<const std::string> shared{};
  std::string_view bytes() const { return shared ? std::string_view(*shared) : std::string_view(stored); }
};

// A reply: a JSON header, then the events' bytes, one frame each.
struct Reply {
  json header;
  std::vector<WireEvent> events;
};

Reply error_reply(const json& id, std::string code, std::string message) {
  return {{{"ok", false}, {"id", id}, {"code", std::move(code)}, {"error", std::move(message)}}, {}};
}

// Why a request gets an error reply: its own mistake (invalid_input), or the store's
// failure to read (the error's code: decode_error for an event that does not decode).
struct BadRequest {
  std::string message;
  std::string code = codes::kInvalidInput;
};

// The error's sentence without its class ("unknown: "), which the code replaces.
BadRequest failure(const Error& error) {
  std::string text = error.describe();
  std::string cls = std::string(to_string(error.cls)) + ": ";
  if (text.rfind(cls, 0) == 0) text.erase(0, cls.size());
  return BadRequest{std::move(text), error.code};
}

// The value of a Result, or the BadRequest carrying its error.
template <typename T>
T ok_or_throw(Result<T> result) {
  if (!result) throw failure(result.error());
  return std::move(*result);
}

void ok_or_throw(Result<void> result) {
  if (!result) throw failure(result.error());
}

std::uint64_t number_field(const json& request, const char* name, std::uint64_t fallback) {
  if (!request.contains(name)) return fallback;
  const json& v = request[name];
  if (!v.is_number_unsigned()) throw BadRequest{fmt::format("\"{}\" must be a non-negative integer", name)};
  return v.get<std::uint64_t>();
}

std::string string_field(const json& request, const char* name) {
  if (!request.contains(name)) return {};
  if (!request[name].is_string()) throw BadRequest{fmt::format("\"{}\" must be a string", name)};
  return request[name].get<std::string>();
}

// The actor the ZAP handler authenticated the sending connection as ("User-Id", "Role"):
// none on a plain socket or one open to any key that knows the server's.
std::optional<ClientActor> client_actor(const zmq::message_t& m) {
  const char* id = zmq_msg_gets(m.handle(), "User-Id");
  if (!id || !*id) return std::nullopt;
  const char* role = zmq_msg_gets(m.handle(), curve::kRoleProperty);
  return ClientActor{id, role ? role : ""};
}

}  // namespace

struct ReplayService::Impl {
  Impl(const Log& l, ReplayOptions o)
      : log(l), options(std::move(o)), context(zmq_util::context_or_new(options.context)),
        socket(zmq_util::native(context), zmq::socket_type::router), memo(options.decision_memory) {}

  const Log& log;
  ReplayOptions options;
  std::shared_ptr<ZmqContext> context;
  std::unique_ptr<curve::ServerGate> gate;  // closes after the socket
  zmq::socket_t socket;  // used by the thread only, once it runs
  std::string endpoint;
  zmq_util::EventFd stop;
  std::atomic<std::uint64_t> requests{0};
  std::thread thread;

  // The stored model, parsed again only when its text changes.
  std::string model_text;
  json model;
  std::vector<std::string> resources;
  notifiers_detail::AccessMemo memo;  // the thread's

  void run();
  void serve(std::vector<zmq::message_t>& frames);
  Reply answer(const json& request, const std::optional<ClientActor>& actor);
  Result<void> refresh_model(const Txn& txn);
  void check_resource(const std::string& resource) const;
  Reply hello(const Txn& txn, const json& request, bool with_start);
  Reply replay(const Txn& txn, const json& request, const std::optional<ClientActor>& actor);
  std::optional<WireEvent> for_client(const StoredEvent& e, const ClientActor& actor);
};

void ReplayService::Impl::run() {
  zmq::pollitem_t items[] = {{socket.handle(), 0, ZMQ_POLLIN, 0}, {nullptr, stop.fd(), ZMQ_POLLIN, 0}};
  for (;;) {
    try {
      zmq::poll(items, 2, std::chrono::milliseconds(-1));
    } catch (const zmq::error_t&) {
      continue;  // EINTR
    }
    if (items[1].revents & ZMQ_POLLIN) return;
    if (!(items[0].revents & ZMQ_POLLIN)) continue;
    for (;;) {  // every request already waiting, then poll again
      std::vector<zmq::message_t> frames;
      auto received = zmq::recv_multipart(socket, std::back_inserter(frames), zmq::recv_flags::dontwait);
      if (!received) break;
      requests.fetch_add(1, std::memory_order_relaxed);
      try {
        serve(frames);
      } catch (const std::exception&) {
        // Not even an error reply could be built (serve answers every other failure): the
        // client times out and asks again.
      }
    }
  }
}

// [identity, "", request] from REQ and well-behaved DEALER clients; the reply mirrors
// the envelope. Without the empty delimiter it is not a request and gets no reply.
// A request of more than one frame, or longer than max_request, gets an error reply.
void ReplayService::Impl::serve(std::vector<zmq::message_t>& frames) {
  if (frames.size() < 3 || frames[1].size() != 0) return;
  Reply reply;
  if (frames.size() > 3) {
    reply = error_reply(nullptr, codes::kInvalidInput,
                        fmt::format("a request is one frame after the empty delimiter, not {}", frames.size() - 2));
  } else if (frames[2].size() > options.max_request) {
    reply = error_reply(nullptr, codes::kTooComplex,
                        fmt::format("the request is {} bytes; this service takes requests of at most {}",
                                    frames[2].size(), options.max_request));
  } else {
    try {
      json request = json::parse(zmq_util::view(frames[2]));
      reply = answer(request, client_actor(frames[2]));
    } catch (const json::exception& e) {
      reply = error_reply(nullptr, codes::kInvalidInput, std::string("the request is not JSON: ") + e.what());
    }
  }
  std::vector<zmq::message_t> out;
  out.push_back(std::move(frames[0]));
  out.emplace_back();
  out.emplace_back(reply.header.dump(-1, ' ', false, json::error_handler_t::replace));
  for (const auto& e : reply.events) out.emplace_back(e.bytes().data(), e.bytes().size());
  try {
    zmq::send_multipart(socket, out, zmq::send_flags::dontwait);  // a gone client: dropped
  } catch (const zmq::error_t&) {
  }
}

Reply ReplayService::Impl::answer(const json& request, const std::optional<ClientActor>& actor) {
  json id = request.is_object() && request.contains("id") ? request["id"] : json(nullptr);
  try {
    if (!request.is_object() || !request.contains("op") || !request["op"].is_string())
      throw BadRequest{"a request is a JSON object with \"op\": \"hello\", \"head\" or \"replay\""};
    std::string op = request["op"].get<std::string>();
    Txn txn = ok_or_throw(log.read());  // one snapshot per request
    ok_or_throw(refresh_model(txn));
    Reply reply;
    if (op == "hello" || op == "head")
      reply = hello(txn, request, op == "hello");
    else if (op == "replay")
      reply = replay(txn, request, actor);
    else
      throw BadRequest{fmt::format("unknown op \"{}\"; expected hello, head or replay", op)};
    if (op == "hello" && actor) reply.header["actor"] = {{"id", actor->id}, {"role", actor->role}};
    reply.header["ok"] = true;
    reply.header["op"] = op;
    reply.header["id"] = id;
    return reply;
  } catch (const BadRequest& bad) {
    return error_reply(id, bad.code, bad.message);
  } catch (const std::exception& e) {
    // Out of memory, most likely: the client hears of it rather than waiting for a reply.
    return error_reply(id, codes::kUnknown, std::string("the replay service failed: ") + e.what());
  }
}

Result<void> ReplayService::Impl::refresh_model(const Txn& txn) {
  ASHLAR_TRY(stored, log.model(txn));
  if (!*stored) return fail(Error::unknown("the store has no model yet"));
  if (**stored == model_text) return {};
  try {
    json parsed = json::parse(**stored);
    ASHLAR_TRY(names, protocol::model_resources(parsed));
    model = std::move(parsed);
    resources = std::move(*names);
    model_text = std::move(**stored);
  } catch (const json::exception& e) {
    return fail(Error::unknown(std::string("the stored model does not decode: ") + e.what()));
  }
  return {};
}

void ReplayService::Impl::check_resource(const std::string& resource) const {
  if (!resource.empty() && std::find(resources.begin(), resources.end(), resource) == resources.end())
    throw BadRequest{fmt::format("domain {} has no resource named {}", model.value("domain", ""), resource)};
}

// head: the heads. hello: the heads, the model, and where a subscription starts — the
// first key to deliver after checkpoint "after" (0: from the beginning), or after the
// head when "now" is true.
Reply ReplayService::Impl::hello(const Txn& txn, const json& request, bool with_start) {
  protocol::Heads heads = ok_or_throw(protocol::read_heads(log, txn, resources));
  Head head = ok_or_throw(log.head(txn));
  Reply reply;
  json sequences = json::object();
  for (const auto& [name, sequence] : heads.sequences) sequences[name] = sequence;
  reply.header = {{"domain", model.value("domain", "")}, {"head", heads.position},
                  {"hash", to_hex(head.hash)}, {"sequences", sequences}};
  if (!with_start) return reply;
  std::string resource = string_field(request, "resource");
  check_resource(resource);
  bool now = request.contains("now") && request["now"] == true;
  std::uint64_t after = now ? heads.position : number_field(request, "after", 0);
  std::uint64_t start = resource.empty() ? after + 1 : ok_or_throw(log.first_sequence_after(txn, resource, after));
  reply.header["resource"] = resource;
  if (request.contains("tenant")) reply.header["tenant"] = string_field(request, "tenant");
  reply.header["start"] = start;
  reply.header["last"] = heads.last(resource);
  reply.header["model"] = model;
  return reply;
}

// The stream from key "from" (a position, or a sequence of "resource"), at most "limit"
// events and the service's batch, with the stream's last key in this snapshot; with
// "tenant", only that tenant's events, and "through", the last key they account for. An event
// that cannot be read (it does not decode) ends the reply before it; a request from that
// event gets the error, naming its position.
Reply ReplayService::Impl::replay(const Txn& txn, const json& request, const std::optional<ClientActor>& actor) {
  std::string resource = string_field(request, "resource");
  check_resource(resource);
  std::uint64_t from = std::max<std::uint64_t>(number_field(request, "from", 1), 1);
  std::size_t limit = std::clamp<std::uint64_t>(number_field(request, "limit", options.batch), 1, options.batch);
  Reply reply;
  std::size_t bytes = 0;
  std::optional<std::string> tenant;
  if (request.contains("tenant")) tenant = string_field(request, "tenant");
  std::uint64_t through = from - 1;  // the number of the last event looked at
  std::size_t skipped = 0;
  bool stopped = false;  // before the end of the stream
  std::optional<BadRequest> refused;  // the access decision failed on this event
  auto select = [&](const StoredEvent& e) {
    std::optional<WireEvent> wire;
    if (!tenant || e.event.tenant == *tenant) {
      try {
        wire = options.access ? for_client(e, actor.value_or(ClientActor{})) : WireEvent{e.bytes};
      } catch (const BadRequest& bad) {
        refused = bad;
        stopped = true;
        return false;
      }
    }
    through = resource.empty() ? e.event.position : e.event.sequence;
    if (wire) {
      bytes += wire->bytes().size();
      reply.events.push_back(std::move(*wire));
    }
    bool more = wire ? reply.events.size() < limit && bytes < kMaxReplyBytes
                     : ++skipped < (options.access ? kMaxSkippedDecided : kMaxSkipped);
    stopped = !more;
    return more;
  };
  auto scanned = resource.empty() ? log.scan(txn, from, select) : log.scan_resource(txn, resource, from, select);
  if (refused && through < from) throw *refused;
  if (!scanned && through < from) throw failure(scanned.error());
  Head head = ok_or_throw(log.head(txn));
  std::uint64_t last = resource.empty() ? head.position : ok_or_throw(log.last_sequence(txn, resource));
  reply.header = {{"resource", resource}, {"from", from}, {"count", reply.events.size()},
                  {"last", last}, {"head", head.position}};
  if (tenant) reply.header["tenant"] = *tenant;
  if (tenant || options.access) {
    // Every event numbered from..through that this client gets is in the reply; a scan
    // that ran to the end of the stream vouches for all of it.
    reply.header["through"] = scanned && !stopped ? std::max(through, last) : through;
  }
  return reply;
}

// The bytes `actor` gets of `e`: none when it may not see it, the event re-encoded
// without the values it may not read, or the stored bytes. BadRequest with the
// decision's error (never remembered). Decisions and re-encodings are remembered for
// options.decision_memory, by actor and position and by position and attributes.
std::optional<WireEvent> ReplayService::Impl::for_client(const StoredEvent& e, const ClientActor& actor) {
  using Memo = notifiers_detail::AccessMemo;
  auto now = Memo::Clock::now();
  std::uint64_t position = e.event.position;
  auto wire = memo.decision(actor, position, now);
  if (!wire) {
    EventAccess access = ok_or_throw(options.access(actor, e));
    wire = Memo::Wire{access.visible};
    if (access.visible && !access.redacted.empty()) {
      wire->bytes = memo.redaction(position, access.redacted, now);
      if (!wire->bytes) {
        wire->bytes = std::make_shared<const std::string>(ok_or_throw(redact_event(e.bytes, access.redacted)));
        memo.keep_redaction(position, access.redacted, wire->bytes, now);
      }
    }
    memo.keep_decision(actor, position, *wire, now);
  }
  if (!wire->visible) return std::nullopt;
  if (wire->bytes) return WireEvent{{}, wire->bytes};
  return WireEvent{e.bytes};
}

Result<std::unique_ptr<ReplayService>> ReplayService::start(const Log& log, ReplayOptions options) {
  auto impl = std::make_unique<Impl>(log, std::move(options));
  if (impl->stop.fd() < 0) return fail(Error::unknown("cannot create an eventfd for the replay service"));
  impl->socket.set(zmq::sockopt::linger, 0);  // replies to a gone client are not worth a wait
  impl->socket.set(zmq::sockopt::sndhwm, 10000);
  impl->socket.set(zmq::sockopt::rcvhwm, std::max(impl->options.queued_per_client, 1));
  std::size_t ceiling = std::clamp<std::size_t>(impl->options.max_request, 1, std::size_t{1} << 30) * 16;
  impl->socket.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(ceiling));
  ASHLAR_TRY(gate, curve::secure_server(impl->socket, impl->context, impl->options.curve, "replay service"));
  impl->gate = std::move(*gate);
  ASHLAR_TRY(bound, zmq_util::bind(impl->socket, impl->options.endpoint, "replay service"));
  impl->endpoint = std::move(*bound);
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->run(); });
  return std::unique_ptr<ReplayService>(new ReplayService(std::move(impl)));
}

ReplayService::ReplayService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ReplayService::~ReplayService() {
  impl_->stop.signal();
  impl_->thread.join();
}

const std::string& ReplayService::endpoint() const { return impl_->endpoint; }
std::uint64_t ReplayService::requests() const { return impl_->requests.load(); }

}  // namespace ashlar
