// The JetStream sink (ashlar/notifiers/jetstream.hpp): one thread that reads the log from
// the stream's last sequence on and publishes each event, expecting the stream's last
// sequence to be the position before it.
#include "nats_util.hpp"

#include <ashlar/notifiers/jetstream.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace ashlar {

namespace {

enum class Outcome { ok, retry, stop };
struct Step {
  Outcome outcome = Outcome::ok;
  std::string message;  // why, for retry and stop
};
Step retry(std::string why) { return {Outcome::retry, std::move(why)}; }
Step stop(std::string why) { return {Outcome::stop, std::move(why)}; }

// The refusals a JetStream cluster gives while it has no leader or not yet its peers,
// and a stream created by someone else since the sink looked (the next look checks it).
bool transient(jsErrCode e) {
  return e == JSClusterNoPeersErr || e == JSClusterNotAvailErr || e == JSClusterNotLeaderErr ||
         e == JSStreamNameExistErr;
}

jsRetentionPolicy retention_of(StreamRetention r) {
  switch (r) {
    case StreamRetention::interest: return js_InterestPolicy;
    case StreamRetention::work_queue: return js_WorkQueuePolicy;
    case StreamRetention::limits: break;
  }
  return js_LimitsPolicy;
}

}  // namespace

struct JetStreamSink::Impl {
  const Log& log;
  std::string domain;
  JetStreamOptions options;
  std::string subjects;  // "<prefix>.>"
  std::unique_ptr<nats::Connection> conn;

  std::atomic<std::uint64_t> mirrored{0};
  std::atomic<std::uint64_t> head{0};
  std::atomic<bool> publish_failed{false};
  std::uint64_t sent = 0;  // the last position published (the thread's own)
  std::atomic<bool> reachable{false};

  mutable std::mutex mu;
  mutable std::condition_variable wake;      // new events, or stop
  mutable std::condition_variable progress;  // mirrored moved, first look done, or stopped
  bool stopping = false;
  bool woken = false;
  bool looked = false;   // the first look at the stream is done (or failed to reach it)
  bool stopped = false;  // the thread ended
  std::string error;
  std::thread thread;

  Impl(const Log& l, std::string d, const JetStreamOptions& o) : log(l), domain(std::move(d)), options(o) {
    if (options.prefix.empty()) options.prefix = domain;
    subjects = options.prefix + ".>";
  }

  void run();
  Step look();
  Step create_stream();
  Step check_last(std::uint64_t last);
  Step publish(std::uint64_t to);
  void drop_pending();
  void acknowledged(jsPubAck* ack, jsPubAckErr* error);
  Result<nats::MsgPtr> message(const StoredEvent& e, const std::vector<StoredModel>& models) const;
  void sleep(std::chrono::milliseconds d);
  void finish(std::string why);
  void looked_once() {
    std::lock_guard lock(mu);
    looked = true;
    progress.notify_all();
  }
};

void JetStreamSink::Impl::sleep(std::chrono::milliseconds d) {
  std::unique_lock lock(mu);
  wake.wait_for(lock, d, [&] { return stopping || woken; });
  woken = false;
}

void JetStreamSink::Impl::finish(std::string why) {
  std::lock_guard lock(mu);
  error = std::move(why);
  stopped = looked = true;
  progress.notify_all();
}

Step JetStreamSink::Impl::create_stream() {
  if (!options.create)
    return stop(fmt::format("JetStream stream {} does not exist; create it or set create", options.stream));
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = options.stream.c_str();
  const char* subjects_list[] = {subjects.c_str()};
  cfg.Subjects = subjects_list;
  cfg.SubjectsLen = 1;
  cfg.Replicas = options.replicas;
  cfg.Retention = retention_of(options.retention);
  cfg.Storage = options.storage == StreamStorage::memory ? js_MemoryStorage : js_FileStorage;
  jsOptions jo = conn->options();
  jsErrCode jerr = static_cast<jsErrCode>(0);
  jsStreamInfo* si = nullptr;
  natsStatus s = js_AddStream(&si, conn->js(), &cfg, &jo, &jerr);
  nats::StreamInfoPtr owner(si);
  // While a cluster forms (or elects a new meta leader) JetStream refuses for a moment:
  // that is worth another try, not the sink's end.
  if (s != NATS_OK && transient(jerr)) return retry(nats::status_text(s, jerr));
  if (s != NATS_OK && jerr != 0)  // the server refused: the settings are wrong
    return stop(fmt::format("cannot create JetStream stream {}: {}", options.stream, nats::status_text(s, jerr)));
  if (s != NATS_OK) return retry(nats::status_text(s));
  mirrored = 0;
  return {};
}

// Where the stream stands, and whether it is this store's.
Step JetStreamSink::Impl::look() {
  jsOptions jo = conn->options();
  jsErrCode jerr = static_cast<jsErrCode>(0);
  jsStreamInfo* si = nullptr;
  natsStatus s = js_GetStreamInfo(&si, conn->js(), options.stream.c_str(), &jo, &jerr);
  nats::StreamInfoPtr info(si);
  if (s != NATS_OK && jerr == JSStreamNotFoundErr) return create_stream();
  if (s != NATS_OK) return retry(nats::status_text(s, jerr));
  bool takes = false;
  std::vector<std::string> taken;
  for (int i = 0; i < info->Config->SubjectsLen; ++i) {
    std::string_view subject = info->Config->Subjects[i];
    taken.emplace_back(subject);
    takes = takes || subject == subjects || subject == ">";
  }
  if (!takes)
    return stop(fmt::format("JetStream stream {} takes the subjects {}, not {}", options.stream,
                            fmt::join(taken, ", "), subjects));
  return check_last(info->State.LastSeq);
}

Step JetStreamSink::Impl::check_last(std::uint64_t last) {
  auto h = log.head();
  if (!h) return retry(h.error().message);
  head = std::max(head.load(), h->position);
  if (last > h->position)
    return stop(fmt::format("JetStream stream {} holds {} events, more than the log's {}: it mirrors another store",
                            options.stream, last, h->position));
  if (last > 0) {
    jsOptions jo = conn->options();
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsMsg* raw = nullptr;
    natsStatus s = js_GetMsg(&raw, conn->js(), options.stream.c_str(), last, &jo, &jerr);
    nats::MsgPtr msg(raw);
    if (s != NATS_OK && jerr != JSNoMessageFoundErr) return retry(nats::status_text(s, jerr));
    if (s == NATS_OK) {  // a work queue may have removed it: then there is nothing to compare
      std::string domain_header = nats::header(msg.get(), kHeaderDomain);
      if (domain_header != domain)
        return stop(domain_header.empty()
                        ? fmt::format("JetStream stream {} holds messages that are not ashlar events", options.stream)
                        : fmt::format("JetStream stream {} holds events of domain {}, not {}", options.stream,
                                      domain_header, domain));
      auto txn = log.read();
      if (!txn) return retry(txn.error().message);
      auto ours = log.event_at(*txn, last);
      if (!ours) return retry(ours.error().message);
      if (!*ours || nats::header(msg.get(), kHeaderHash) != to_hex((*ours)->hash))
        return stop(fmt::format("JetStream stream {}: event {}'s hash differs from the log's: it mirrors another store",
                                options.stream, last));
    }
  }
  mirrored = last;
  return {};
}

Result<nats::MsgPtr> JetStreamSink::Impl::message(const StoredEvent& e, const std::vector<StoredModel>& models) const {
  std::string subject = fmt::format("{}.{}.{}", options.prefix, e.event.resource, e.event.action);
  natsMsg* raw = nullptr;
  natsStatus s = natsMsg_Create(&raw, subject.c_str(), nullptr, e.bytes.data(), static_cast<int>(e.bytes.size()));
  nats::MsgPtr msg(raw);
  std::string position = std::to_string(e.event.position);
  if (s == NATS_OK) s = natsMsgHeader_Set(raw, kHeaderDomain, domain.c_str());
  if (s == NATS_OK) s = natsMsgHeader_Set(raw, kHeaderPosition, position.c_str());
  if (s == NATS_OK) s = natsMsgHeader_Set(raw, kHeaderHash, to_hex(e.hash).c_str());
  if (s == NATS_OK && !e.event.tenant.empty()) s = natsMsgHeader_Set(raw, kHeaderTenant, e.event.tenant.c_str());
  for (const auto& m : models) {
    if (s != NATS_OK || m.since != e.event.position) continue;
    std::string json = m.json;  // JSON's line breaks are only whitespace; a header is one line
    std::erase_if(json, [](char c) { return c == '\n' || c == '\r'; });
    s = natsMsgHeader_Add(raw, kHeaderModel, json.c_str());  // every version since the last event's
  }
  if (s != NATS_OK) return fail(Error::unknown(nats::status_text(s)));
  return msg;
}

// Publishes sent+1 .. to without waiting for acknowledgements (the ack handler moves
// mirrored); at most options.batch wait for theirs at once.
Step JetStreamSink::Impl::publish(std::uint64_t to) {
  auto txn = log.read();
  if (!txn) return retry(txn.error().message);
  auto models = log.models(*txn);
  if (!models) return retry(models.error().message);
  Step step;
  auto scanned = log.scan(*txn, sent + 1, [&](const StoredEvent& e) {
    auto msg = message(e, *models);
    if (!msg) {
      step = retry(msg.error().message);
      return false;
    }
    std::string id = fmt::format("{}:{}", domain, e.event.position);
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = id.c_str();
    po.ExpectStream = options.stream.c_str();
    po.ExpectLastSeq = e.event.position - 1;  // 0 (position 1) sets none: the id guards it
    natsMsg* raw = msg->release();
    natsStatus s = js_PublishMsgAsync(conn->js(), &raw, &po);
    natsMsg_Destroy(raw);  // null when the library took it
    if (s != NATS_OK) {
      step = retry(nats::status_text(s));
      return false;
    }
    sent = e.event.position;
    return e.event.position < to;
  });
  if (step.outcome != Outcome::ok) return step;
  if (!scanned) return stop(scanned.error().message);
  return {};
}

// Forgets what waits for an acknowledgement: the stream says, on the next look, where it
// stands.
void JetStreamSink::Impl::drop_pending() {
  natsMsgList pending{};
  if (js_PublishAsyncGetPendingList(&pending, conn->js()) == NATS_OK) natsMsgList_Destroy(&pending);
}

void JetStreamSink::Impl::acknowledged(jsPubAck* ack, jsPubAckErr* error) {
  if (!ack || error) {
    publish_failed = true;
    return;
  }
  // The stream holds message ack->Sequence, so every one before it: all of them this
  // store's events, given the expected sequences.
  std::lock_guard lock(mu);
  if (ack->Sequence > mirrored) mirrored = ack->Sequence;
  progress.notify_all();
}

void JetStreamSink::Impl::run() {
  std::chrono::milliseconds backoff = options.backoff;
  bool need_look = true;
  auto failed = [&](const Step& step) {
    if (step.outcome == Outcome::stop) {
      finish(step.message);
      return true;
    }
    reachable = false;
    need_look = true;
    sleep(backoff);
    backoff = std::min(backoff * 2, options.max_backoff);
    return false;
  };
  while (true) {
    {
      std::lock_guard lock(mu);
      if (stopping) break;
    }
    if (need_look) {
      Step step = look();
      if (step.outcome == Outcome::stop) return finish(step.message);  // start() reports it
      looked_once();
      if (step.outcome != Outcome::ok) {
        failed(step);
        continue;
      }
      need_look = false;
      publish_failed = false;
      sent = mirrored;
      reachable = true;
      backoff = options.backoff;
    }
    auto h = log.head();
    if (!h) {
      if (failed(retry(h.error().message))) return;
      continue;
    }
    head = std::max(head.load(), h->position);
    if (publish_failed) {  // a publish was refused or lost: ask the stream where it stands
      drop_pending();
      failed(retry("a publish was refused"));
      continue;
    }
    if (sent < h->position) {  // publishing stalls while options.batch wait for their acks
      // A bounded read transaction at a time, so a long catch-up holds no old snapshot.
      Step step = publish(std::min<std::uint64_t>(h->position, sent + 8 * std::max<std::size_t>(options.batch, 1)));
      if (step.outcome != Outcome::ok) {
        drop_pending();
        if (failed(step)) return;
      }
      continue;
    }
    if (mirrored < sent) {  // all sent: wait for the last acknowledgements
      jsPubOptions wait;
      jsPubOptions_Init(&wait);
      wait.MaxWait = options.timeout.count();
      natsStatus s = js_PublishAsyncComplete(conn->js(), &wait);
      if (s != NATS_OK) {
        drop_pending();
        failed(retry(nats::status_text(s)));
      } else {
        backoff = options.backoff;
      }
      continue;
    }
    sleep(options.poll);
  }
  std::lock_guard lock(mu);
  stopped = true;
  progress.notify_all();
}

Result<std::unique_ptr<JetStreamSink>> JetStreamSink::start(const Log& log, std::string domain,
                                                            const JetStreamOptions& options) {
  if (options.url.empty() || options.stream.empty())
    return fail(Error::framework("the JetStream sink needs a url and a stream"));
  auto impl = std::make_unique<Impl>(log, std::move(domain), options);
  std::string error;
  Impl* raw = impl.get();
  impl->conn = nats::Connection::open(
      {.url = options.url,
       .timeout = options.timeout,
       .on_publish_ack =
           [](jsCtx*, natsMsg* msg, jsPubAck* ack, jsPubAckErr* error, void* closure) {
             static_cast<Impl*>(closure)->acknowledged(ack, error);
             natsMsg_Destroy(msg);
           },
       .closure = raw,
       .max_pending = static_cast<int>(std::max<std::size_t>(options.batch, 1))},
      error);
  if (!impl->conn) return fail(Error::framework(error));
  impl->thread = std::thread([raw] { raw->run(); });
  std::unique_ptr<JetStreamSink> sink(new JetStreamSink(std::move(impl)));
  {
    std::unique_lock lock(raw->mu);
    raw->progress.wait_for(lock, options.start_wait, [&] { return raw->looked; });
    if (raw->stopped && !raw->error.empty()) return fail(Error::framework(raw->error));
  }
  return sink;
}

JetStreamSink::JetStreamSink(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

JetStreamSink::~JetStreamSink() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
    impl_->wake.notify_all();
  }
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->conn.reset();  // before the mutex its acknowledgement handler takes goes
}

void JetStreamSink::notify(std::span<const StoredEvent> events) noexcept {
  if (events.empty()) return;
  std::uint64_t last = events.back().event.position;
  if (last > impl_->head) impl_->head = last;
  std::lock_guard lock(impl_->mu);
  impl_->woken = true;
  impl_->wake.notify_one();
}

std::uint64_t JetStreamSink::mirrored() const { return impl_->mirrored; }

std::uint64_t JetStreamSink::lag() const {
  std::uint64_t head = impl_->head, mirrored = impl_->mirrored;
  return head > mirrored ? head - mirrored : 0;
}

std::string JetStreamSink::error() const {
  std::lock_guard lock(impl_->mu);
  return impl_->error;
}

bool JetStreamSink::connected() const { return impl_->reachable && impl_->conn->connected(); }

bool JetStreamSink::wait_for(std::uint64_t position, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mu);
  return impl_->progress.wait_for(lock, timeout,
                                  [&] { return impl_->mirrored >= position || impl_->stopped; }) &&
         impl_->mirrored >= position;
}

}  // namespace ashlar
