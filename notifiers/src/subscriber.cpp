#include <ashlar/notifiers/subscriber.hpp>

#include <ashlar/notifiers/topics.hpp>

#include <ashlar/model/type.hpp>

#include "curve_sockets.hpp"
#include "protocol.hpp"
#include "stream_order.hpp"
#include "zmq_util.hpp"

#include <fmt/format.h>
#include <zmq_addon.hpp>

#include <algorithm>
#include <cerrno>

namespace ashlar {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// After a reply that brought nothing new, wait this long before asking again, so a
// replay service that lags its publisher is not asked in a tight loop.
constexpr auto kRetryDelay = std::chrono::milliseconds(50);
// Live messages taken per poll, so replies are not starved by a busy stream.
constexpr int kLiveBatch = 1024;

struct ParsedReply {
  json header;
  std::vector<zmq::message_t> events;
};

// [empty delimiter, header, events...] as a DEALER receives the replay service's reply.
std::optional<ParsedReply> parse_reply(std::vector<zmq::message_t>& frames) {
  if (frames.size() < 2 || frames[0].size() != 0) return std::nullopt;
  ParsedReply out;
  out.header = json::parse(zmq_util::view(frames[1]), nullptr, false);
  if (!out.header.is_object()) return std::nullopt;
  for (std::size_t i = 2; i < frames.size(); ++i) out.events.push_back(std::move(frames[i]));
  return out;
}

// zmq::poll, going on after a signal interrupted it.
int poll_retrying(zmq::pollitem_t (&items)[1], std::chrono::milliseconds timeout) {
  try {
    return zmq::poll(items, 1, timeout);
  } catch (const zmq::error_t& e) {
    if (e.num() != EINTR) throw;
    return -1;
  }
}

std::uint64_t u64(const json& j, const char* name) {
  return j.contains(name) && j[name].is_number_unsigned() ? j[name].get<std::uint64_t>() : 0;
}

// An error reply's code ("decode_error", ...); unknown from a service that sends none.
std::string code_of(const json& reply) {
  return reply.contains("code") && reply["code"].is_string() ? reply["code"].get<std::string>() : codes::kUnknown;
}

}  // namespace

struct Subscriber::Impl {
  explicit Impl(SubscriberOptions o)
      : options(std::move(o)), context(zmq_util::context_or_new(options.context)),
        live(zmq_util::native(context), zmq::socket_type::sub),
        replay(zmq_util::native(context), zmq::socket_type::dealer),
        order(0, options.max_held) {}

  SubscriberOptions options;
  std::shared_ptr<ZmqContext> context;
  zmq::socket_t live;
  zmq::socket_t replay;
  std::string domain_name;
  Domain model;
  std::optional<ClientActor> actor;
  StreamOrder<ReceivedEvent> order;
  std::uint64_t position = 0;
  std::uint64_t head = 0;
  Stats stats;

  std::uint64_t next_id = 1;
  std::optional<std::uint64_t> outstanding;  // the id of the replay request in flight
  Clock::time_point sent_at{};
  Clock::time_point not_before{};

  Result<void> secure();
  Result<void> hello();
  std::uint64_t number(const Event& e) const { return options.resource.empty() ? e.position : e.sequence; }
  void on_live(std::vector<zmq::message_t>& frames);
  Result<void> on_reply(std::vector<zmq::message_t>& frames);
  void request_if_missing();
  Result<void> poll(Clock::duration wait);
};

// CURVE on both sockets with one client key pair, when a server key is given.
Result<void> Subscriber::Impl::secure() {
  if (options.server_key.empty()) return {};
  if (options.client_keys.public_key.empty() && options.client_keys.secret_key.empty()) {
    ASHLAR_TRY(fresh, generate_key_pair());
    options.client_keys = std::move(*fresh);
  }
  ASHLAR_TRY_VOID(curve::secure_client(replay, options.server_key, options.client_keys));
  return curve::secure_client(live, options.server_key, options.client_keys);
}

Result<void> Subscriber::Impl::hello() {
  json request = {{"op", "hello"}, {"id", 0}};
  if (!options.resource.empty()) request["resource"] = options.resource;
  if (!options.tenant.empty()) request["tenant"] = options.tenant;
  if (options.start.at_head)
    request["now"] = true;
  else
    request["after"] = options.start.checkpoint;
  std::string body = request.dump();
  replay.send(zmq::message_t(), zmq::send_flags::sndmore);
  replay.send(zmq::buffer(body));
  auto deadline = Clock::now() + options.connect_timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    zmq::pollitem_t items[] = {{replay.handle(), 0, ZMQ_POLLIN, 0}};
    if (left.count() <= 0 || poll_retrying(items, left) == 0)
      return fail(Error::unknown(fmt::format(
          "the replay service at {} did not answer within {} ms{}", options.replay, options.connect_timeout.count(),
          options.server_key.empty() ? ""
                                     : " (with CURVE: check the server's public key, and that this client's key "
                                       "is on its allow-list)")));
    std::vector<zmq::message_t> frames;
    if (!zmq::recv_multipart(replay, std::back_inserter(frames), zmq::recv_flags::dontwait)) continue;
    auto reply = parse_reply(frames);
    if (!reply) continue;
    const json& h = reply->header;
    if (h.value("ok", false) != true)
      return fail(Error::framework(fmt::format("the replay service at {} refused the subscription: {}",
                                               options.replay, h.value("error", std::string("no reason given")))));
    ASHLAR_TRY(domain, domain_from_json(h.contains("model") ? h["model"].dump() : std::string("{}")));
    model = std::move(*domain);
    domain_name = h.value("domain", std::string());
    if (h.contains("actor") && h["actor"].is_object())
      actor = ClientActor{h["actor"].value("id", std::string()), h["actor"].value("role", std::string())};
    head = u64(h, "head");
    std::uint64_t start = std::max<std::uint64_t>(u64(h, "start"), 1);
    order = StreamOrder<ReceivedEvent>(start - 1, options.max_held);
    order.learn(u64(h, "last"));
    position = options.start.at_head ? head : options.start.checkpoint;
    return {};
  }
}

void Subscriber::Impl::on_live(std::vector<zmq::message_t>& frames) {
  if (frames.size() != 2) return;
  if (zmq_util::view(frames[0]) == kHeartbeatTopic) {
    json body = json::parse(zmq_util::view(frames[1]), nullptr, false);
    auto heads = protocol::parse_heads(body);
    if (!heads || body.value("domain", std::string()) != domain_name) return;
    ++stats.heartbeats;
    head = std::max(head, heads->position);
    order.learn(heads->last(options.resource));
    return;
  }
  auto event = decode_event(zmq_util::view(frames[1]));
  if (!event || event->domain != domain_name) return;  // not an event of this domain: not ours
  if (!options.resource.empty() && event->resource != options.resource) return;
  ++stats.live;
  head = std::max(head, event->position);
  std::uint64_t n = number(*event);
  auto offered = order.offer(n, {std::move(*event), std::string(zmq_util::view(frames[1]))});
  if (offered == StreamOrder<ReceivedEvent>::Offer::duplicate) ++stats.duplicates;
}

Result<void> Subscriber::Impl::on_reply(std::vector<zmq::message_t>& frames) {
  auto reply = parse_reply(frames);
  if (!reply || !outstanding || u64(reply->header, "id") != *outstanding) return {};  // stale or not ours
  outstanding.reset();
  const json& h = reply->header;
  // The store cannot serve the next event (it does not decode, the disk failed): asking
  // again would only get the same answer, so the caller hears of it.
  if (h.value("ok", false) != true)
    return fail(Error::unknown(fmt::format("the replay service at {} failed: {}", options.replay,
                                           h.value("error", std::string("no reason given"))))
                    .with_code(code_of(h)));
  std::uint64_t before = order.frontier();
  order.learn(u64(h, "last"));
  head = std::max(head, u64(h, "head"));
  // A reply with "through" holds the tenant's events alone, or those this client may
  // see: what lies between them is not for it. (A service that ignores "tenant" sends
  // every event and no "through"; next() filters.)
  bool filtered = h.contains("through") && h["through"].is_number_unsigned();
  for (auto& frame : reply->events) {
    auto event = decode_event(zmq_util::view(frame));
    if (!event)
      return fail(Error::unknown(fmt::format("the replay service at {} sent bytes that do not decode: {}",
                                             options.replay, event.error().message))
                      .with_code(codes::kDecodeError));
    ++stats.replayed;
    std::uint64_t n = number(*event);
    if (filtered) order.skip_to(n - 1);
    auto offered = order.offer(n, {std::move(*event), std::string(zmq_util::view(frame))});
    if (offered == StreamOrder<ReceivedEvent>::Offer::duplicate) ++stats.duplicates;
  }
  if (filtered) order.skip_to(u64(h, "through"));
  if (order.frontier() == before) not_before = Clock::now() + kRetryDelay;
  return {};
}

void Subscriber::Impl::request_if_missing() {
  auto now = Clock::now();
  if (outstanding && now - sent_at < options.request_timeout) return;
  if (!order.missing() || now < not_before) return;
  protocol::ReplayRequest r{next_id++, options.resource, options.tenant, order.frontier() + 1, options.replay_batch};
  std::string body = protocol::encode(r);
  // A DEALER queues while the service is away; dontwait keeps a full queue from blocking.
  if (!replay.send(zmq::message_t(), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
    not_before = now + kRetryDelay;
    return;
  }
  replay.send(zmq::buffer(body), zmq::send_flags::dontwait);
  outstanding = r.id;
  sent_at = now;
  ++stats.replay_requests;
}

Result<void> Subscriber::Impl::poll(Clock::duration wait) {
  zmq::pollitem_t items[] = {{live.handle(), 0, ZMQ_POLLIN, 0}, {replay.handle(), 0, ZMQ_POLLIN, 0}};
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(std::max(wait, Clock::duration::zero()));
  try {
    zmq::poll(items, 2, ms);
  } catch (const zmq::error_t& e) {
    if (e.num() == EINTR) return {};  // a signal: the caller decides whether to go on
    throw;
  }
  for (int i = 0; i < kLiveBatch && (items[0].revents & ZMQ_POLLIN); ++i) {
    std::vector<zmq::message_t> frames;
    if (!zmq::recv_multipart(live, std::back_inserter(frames), zmq::recv_flags::dontwait)) break;
    on_live(frames);
  }
  while (items[1].revents & ZMQ_POLLIN) {
    std::vector<zmq::message_t> frames;
    if (!zmq::recv_multipart(replay, std::back_inserter(frames), zmq::recv_flags::dontwait)) break;
    ASHLAR_TRY_VOID(on_reply(frames));
  }
  return {};
}

Result<std::unique_ptr<Subscriber>> Subscriber::connect(SubscriberOptions options) {
  if (!options.action.empty() && options.resource.empty())
    return fail(Error::framework("a subscription to an action names its resource too"));
  // The requests carry them as JSON text: what is not UTF-8 is no tenant or resource.
  for (auto [what, text] : {std::pair{"tenant", &options.tenant}, std::pair{"resource", &options.resource}})
    if (!cast_value(Type{TypeKind::string}, Value(*text)).value)
      return fail(Error::framework(fmt::format("a subscription's {} is text: this one is not valid UTF-8", what)));
  auto impl = std::make_unique<Impl>(std::move(options));
  try {
    impl->live.set(zmq::sockopt::rcvhwm, impl->options.receive_high_water_mark);
    impl->live.set(zmq::sockopt::linger, 0);
    impl->replay.set(zmq::sockopt::linger, 0);
    ASHLAR_TRY_VOID(impl->secure());
    ASHLAR_TRY_VOID(zmq_util::connect(impl->replay, impl->options.replay, "replay client"));
    ASHLAR_TRY_VOID(zmq_util::connect(impl->live, impl->options.publish, "subscriber"));
    impl->live.set(zmq::sockopt::subscribe, kHeartbeatTopic);
    ASHLAR_TRY_VOID(impl->hello());
    // Subscribed after hello, which names the domain: whatever is published before the
    // subscription takes effect shows up as a gap and is replayed.
    impl->live.set(zmq::sockopt::subscribe, topic_prefix(impl->domain_name, impl->options.resource));
  } catch (const zmq::error_t& e) {
    return fail(Error::unknown(fmt::format("subscribing failed: {}", e.what())));
  }
  return std::unique_ptr<Subscriber>(new Subscriber(std::move(impl)));
}

Subscriber::Subscriber(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Subscriber::~Subscriber() = default;

Result<std::optional<ReceivedEvent>> Subscriber::next(std::chrono::milliseconds timeout) {
  Impl& s = *impl_;
  auto deadline = Clock::now() + timeout;
  try {
    for (bool first = true;; first = false) {
      while (auto e = s.order.pop()) {
        if (!s.options.action.empty() && e->event.action != s.options.action) continue;  // filtered here
        if (!s.options.tenant.empty() && e->event.tenant != s.options.tenant) continue;  // a live one
        s.position = e->event.position;
        ++s.stats.delivered;
        return std::optional<ReceivedEvent>(std::move(*e));
      }
      s.request_if_missing();
      auto now = Clock::now();
      if (!first && now >= deadline) return std::optional<ReceivedEvent>();
      auto wait = deadline - now;
      if (s.outstanding) wait = std::min(wait, s.sent_at + s.options.request_timeout - now);
      else if (s.order.missing()) wait = std::min(wait, s.not_before - now);
      ASHLAR_TRY_VOID(s.poll(wait));
    }
  } catch (const zmq::error_t& e) {
    return fail(Error::unknown(fmt::format("receiving failed: {}", e.what())));
  }
}

std::uint64_t Subscriber::position() const { return impl_->position; }
bool Subscriber::caught_up() const { return !impl_->order.missing() && impl_->order.drained(); }
std::uint64_t Subscriber::head() const { return impl_->head; }
const Domain& Subscriber::model() const { return impl_->model; }
const std::optional<ClientActor>& Subscriber::actor() const { return impl_->actor; }
Subscriber::Stats Subscriber::stats() const { return impl_->stats; }

}  // namespace ashlar
