// Consumers of a mirrored stream: the ordered reader a replica uses
// (ashlar/notifiers/jetstream_reader.hpp) and the work queue (ashlar/notifiers/work_queue.hpp).
#include "nats_util.hpp"

#include <ashlar/notifiers/jetstream.hpp>
#include <ashlar/notifiers/jetstream_reader.hpp>
#include <ashlar/notifiers/work_queue.hpp>

#include <fmt/format.h>

namespace ashlar {

namespace {

Error io_error(std::string message) { return Error::unknown(std::move(message)).with_code(codes::kIoError); }

StreamMessage to_message(natsMsg* msg) {
  StreamMessage m;
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
    m.sequence = meta->Sequence.Stream;
    jsMsgMetaData_Destroy(meta);
  }
  m.subject = natsMsg_GetSubject(msg);
  m.bytes.assign(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
  m.domain = nats::header(msg, kHeaderDomain);
  m.position = nats::header(msg, kHeaderPosition);
  m.tenant = nats::header(msg, kHeaderTenant);
  m.hash = nats::header(msg, kHeaderHash);
  m.models = nats::header_values(msg, kHeaderModel);
  if (!m.models.empty()) m.model = m.models.back();
  return m;
}

}  // namespace

struct JetStreamReader::Impl {
  JetStreamReaderOptions options;
  std::unique_ptr<nats::Connection> conn;
  natsSubscription* sub = nullptr;
  ~Impl() {
    if (sub) {
      natsSubscription_Unsubscribe(sub);
      natsSubscription_Destroy(sub);
    }
  }
};

Result<std::unique_ptr<JetStreamReader>> JetStreamReader::open(const JetStreamReaderOptions& options,
                                                               std::uint64_t from) {
  if (options.url.empty() || options.stream.empty())
    return fail(Error::framework("a JetStream reader needs a url and a stream"));
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  std::string error;
  impl->conn = nats::Connection::open({.url = options.url, .timeout = options.timeout}, error);
  if (!impl->conn) return fail(Error::framework(error));
  jsOptions jo = impl->conn->options();
  jsErrCode jerr = static_cast<jsErrCode>(0);
  jsStreamInfo* si = nullptr;
  natsStatus s = js_GetStreamInfo(&si, impl->conn->js(), options.stream.c_str(), &jo, &jerr);
  nats::StreamInfoPtr info(si);
  if (s != NATS_OK && jerr == JSStreamNotFoundErr)
    return fail(Error::framework(fmt::format("JetStream stream {} does not exist", options.stream)));
  if (s != NATS_OK)
    return fail(io_error(fmt::format("cannot reach JetStream stream {} on {}: {}", options.stream, options.url,
                                     nats::status_text(s, jerr))));
  // The stream's own subjects: one filter that takes every message of it.
  std::string subject = info->Config->SubjectsLen == 1 ? info->Config->Subjects[0] : ">";
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = options.stream.c_str();
  so.Ordered = true;
  so.Config.DeliverPolicy = js_DeliverByStartSequence;
  so.Config.OptStartSeq = std::max<std::uint64_t>(from, 1);
  s = js_SubscribeSync(&impl->sub, impl->conn->js(), subject.c_str(), &jo, &so, &jerr);
  if (s != NATS_OK)
    return fail(io_error(fmt::format("cannot consume JetStream stream {}: {}", options.stream,
                                     nats::status_text(s, jerr))));
  return std::unique_ptr<JetStreamReader>(new JetStreamReader(std::move(impl)));
}

JetStreamReader::JetStreamReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
JetStreamReader::~JetStreamReader() = default;

Result<std::vector<StreamMessage>> JetStreamReader::next(std::size_t max, std::chrono::milliseconds wait) {
  std::vector<StreamMessage> out;
  while (out.size() < max) {
    natsMsg* raw = nullptr;
    natsStatus s = natsSubscription_NextMsg(&raw, impl_->sub, out.empty() ? wait.count() : 0);
    nats::MsgPtr msg(raw);
    if (s == NATS_TIMEOUT) break;
    if (s != NATS_OK) {
      if (!out.empty()) break;  // hand over what came; the error comes again next time
      return fail(io_error(fmt::format("reading JetStream stream {}: {}", impl_->options.stream, nats::status_text(s))));
    }
    out.push_back(to_message(msg.get()));
  }
  return out;
}

Result<std::uint64_t> JetStreamReader::last_sequence() const {
  jsOptions jo = impl_->conn->options();
  jsErrCode jerr = static_cast<jsErrCode>(0);
  jsStreamInfo* si = nullptr;
  natsStatus s = js_GetStreamInfo(&si, impl_->conn->js(), impl_->options.stream.c_str(), &jo, &jerr);
  nats::StreamInfoPtr info(si);
  if (s != NATS_OK) return fail(io_error(nats::status_text(s, jerr)));
  return info->State.LastSeq;
}

// ---- The work queue ----

struct WorkQueue::Impl {
  WorkQueueOptions options;
  std::unique_ptr<nats::Connection> conn;
  natsSubscription* sub = nullptr;
  ~Impl() {
    if (sub) natsSubscription_Destroy(sub);
  }
  // Creates the durable consumer with `filter`, or checks that the one there has it.
  Result<void> join(const std::string& filter);
};

Result<void> WorkQueue::Impl::join(const std::string& filter) {
  jsOptions jo = conn->options();
  for (int attempt = 0; attempt < 2; ++attempt) {
    jsErrCode jerr = static_cast<jsErrCode>(0);
    jsConsumerInfo* ci = nullptr;
    natsStatus s = js_GetConsumerInfo(&ci, conn->js(), options.stream.c_str(), options.durable.c_str(), &jo, &jerr);
    if (s == NATS_OK) {
      std::string has = ci->Config->FilterSubject ? ci->Config->FilterSubject : "";
      jsConsumerInfo_Destroy(ci);
      if (has != filter)
        return fail(Error::framework(fmt::format("consumer {} of JetStream stream {} takes {}, not {}", options.durable,
                                                 options.stream, has.empty() ? "every subject" : has, filter)));
      return {};
    }
    if (jerr == JSStreamNotFoundErr)
      return fail(Error::framework(fmt::format("JetStream stream {} does not exist", options.stream)));
    if (jerr != JSConsumerNotFoundErr) return fail(io_error(nats::status_text(s, jerr)));
    jsConsumerConfig cfg;
    jsConsumerConfig_Init(&cfg);
    cfg.Durable = options.durable.c_str();
    cfg.AckPolicy = js_AckExplicit;
    cfg.AckWait = std::chrono::duration_cast<std::chrono::nanoseconds>(options.ack_wait).count();
    cfg.DeliverPolicy = js_DeliverAll;
    cfg.FilterSubject = filter.c_str();
    s = js_AddConsumer(&ci, conn->js(), options.stream.c_str(), &cfg, &jo, &jerr);
    if (ci) jsConsumerInfo_Destroy(ci);
    if (s == NATS_OK) return {};
    // Another worker may have created it meanwhile: look again.
  }
  return fail(io_error(fmt::format("cannot create consumer {} of JetStream stream {}", options.durable, options.stream)));
}

Result<std::unique_ptr<WorkQueue>> WorkQueue::open(const WorkQueueOptions& options) {
  if (options.url.empty() || options.stream.empty() || options.durable.empty())
    return fail(Error::framework("a work queue needs a url, a stream and a durable name"));
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  std::string error;
  impl->conn = nats::Connection::open({.url = options.url, .timeout = options.timeout}, error);
  if (!impl->conn) return fail(Error::framework(error));
  jsOptions jo = impl->conn->options();
  jsErrCode jerr = static_cast<jsErrCode>(0);
  std::string prefix = options.prefix;
  if (prefix.empty()) {
    jsStreamInfo* si = nullptr;
    natsStatus s = js_GetStreamInfo(&si, impl->conn->js(), options.stream.c_str(), &jo, &jerr);
    nats::StreamInfoPtr info(si);
    if (s != NATS_OK && jerr == JSStreamNotFoundErr)
      return fail(Error::framework(fmt::format("JetStream stream {} does not exist", options.stream)));
    if (s != NATS_OK) return fail(io_error(nats::status_text(s, jerr)));
    std::string_view subject = info->Config->SubjectsLen == 1 ? info->Config->Subjects[0] : "";
    if (subject.size() < 3 || !subject.ends_with(".>"))
      return fail(Error::framework(fmt::format("JetStream stream {} takes no one <prefix>.> subject: name the prefix",
                                               options.stream)));
    prefix = subject.substr(0, subject.size() - 2);
  }
  std::string filter = options.resource.empty() && options.action.empty()
                           ? prefix + ".>"
                           : fmt::format("{}.{}.{}", prefix, options.resource.empty() ? "*" : options.resource,
                                         options.action.empty() ? "*" : options.action);
  ASHLAR_TRY_VOID(impl->join(filter));
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = options.stream.c_str();
  so.Consumer = options.durable.c_str();  // bound: the consumer outlives every worker
  natsStatus s = js_PullSubscribe(&impl->sub, impl->conn->js(), filter.c_str(), options.durable.c_str(), &jo, &so, &jerr);
  if (s != NATS_OK) return fail(io_error(nats::status_text(s, jerr)));
  return std::unique_ptr<WorkQueue>(new WorkQueue(std::move(impl)));
}

WorkQueue::WorkQueue(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WorkQueue::~WorkQueue() = default;

Result<std::size_t> WorkQueue::work(const std::function<Result<void>(const WorkItem&)>& handler,
                                    std::chrono::milliseconds wait, std::size_t batch) {
  natsMsgList list{};
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = natsSubscription_Fetch(&list, impl_->sub, static_cast<int>(std::max<std::size_t>(batch, 1)),
                                        wait.count(), &jerr);
  if (s == NATS_TIMEOUT) return std::size_t{0};
  if (s != NATS_OK) return fail(io_error(fmt::format("fetching from {}: {}", impl_->options.durable, nats::status_text(s, jerr))));
  std::size_t handled = 0;
  jsOptions jo = impl_->conn->options();
  for (int i = 0; i < list.Count; ++i) {
    natsMsg* msg = list.Msgs[i];
    WorkItem item;
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
      item.position = meta->Sequence.Stream;
      item.delivered = meta->NumDelivered;
      jsMsgMetaData_Destroy(meta);
    }
    item.bytes.assign(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
    auto event = decode_event(item.bytes, item.position);
    if (!event) {  // no handler can take it, ever: it is not handed out again
      natsMsg_Term(msg, &jo);
      continue;
    }
    item.event = std::move(*event);
    bool ok = false;
    try {
      ok = handler(item).has_value();
    } catch (...) {
    }
    if (ok && natsMsg_AckSync(msg, &jo, nullptr) == NATS_OK) ++handled;
    if (!ok) natsMsg_Nak(msg, &jo);
  }
  natsMsgList_Destroy(&list);
  return handled;
}

}  // namespace ashlar
