#pragma once
// What a JetStream stream holds, read with the NATS C client, and the check the JetStream
// tests make of it: message n is event n of the log, its bytes, subject and headers.
// (Test binaries that include this link libnats.)

#include <ashlar/eventlog/log.hpp>
#include <ashlar/notifiers/jetstream.hpp>

#include <catch2/catch.hpp>
#include <nats/nats.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ashlar::test {

struct StreamEntry {
  std::uint64_t sequence = 0;
  std::string subject, data;
  std::string domain, position, tenant, hash, model;  // the Ashlar-* headers
};

class StreamClient {
 public:
  explicit StreamClient(const std::string& url) {
    REQUIRE(natsConnection_ConnectTo(&nc_, url.c_str()) == NATS_OK);
    REQUIRE(natsConnection_JetStream(&js_, nc_, nullptr) == NATS_OK);
  }
  ~StreamClient() {
    jsCtx_Destroy(js_);
    natsConnection_Destroy(nc_);
  }
  StreamClient(const StreamClient&) = delete;
  StreamClient& operator=(const StreamClient&) = delete;

  jsCtx* js() const { return js_; }
  natsConnection* nc() const { return nc_; }

  // The stream's last sequence (0 when it is empty or missing).
  std::uint64_t last(const std::string& stream) const {
    jsStreamInfo* si = nullptr;
    if (js_GetStreamInfo(&si, js_, stream.c_str(), nullptr, nullptr) != NATS_OK) return 0;
    std::uint64_t last = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
    return last;
  }
  bool exists(const std::string& stream) const {
    jsStreamInfo* si = nullptr;
    if (js_GetStreamInfo(&si, js_, stream.c_str(), nullptr, nullptr) != NATS_OK) return false;
    jsStreamInfo_Destroy(si);
    return true;
  }
  // A stream of one subject filter, on file.
  void add_stream(const std::string& stream, const std::string& subjects) const {
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = stream.c_str();
    const char* list[] = {subjects.c_str()};
    cfg.Subjects = list;
    cfg.SubjectsLen = 1;
    jsStreamInfo* si = nullptr;
    REQUIRE(js_AddStream(&si, js_, &cfg, nullptr, nullptr) == NATS_OK);
    jsStreamInfo_Destroy(si);
  }
  std::uint64_t count(const std::string& stream) const {
    jsStreamInfo* si = nullptr;
    if (js_GetStreamInfo(&si, js_, stream.c_str(), nullptr, nullptr) != NATS_OK) return 0;
    std::uint64_t n = si->State.Msgs;
    jsStreamInfo_Destroy(si);
    return n;
  }

  std::vector<StreamEntry> messages(const std::string& stream) const {
    std::vector<StreamEntry> out;
    std::uint64_t last_seq = last(stream);
    for (std::uint64_t seq = 1; seq <= last_seq; ++seq) {
      natsMsg* msg = nullptr;
      if (js_GetMsg(&msg, js_, stream.c_str(), seq, nullptr, nullptr) != NATS_OK) continue;  // a gap
      StreamEntry m;
      m.sequence = seq;
      m.subject = natsMsg_GetSubject(msg);
      m.data.assign(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
      m.domain = header(msg, kHeaderDomain);
      m.position = header(msg, kHeaderPosition);
      m.tenant = header(msg, kHeaderTenant);
      m.hash = header(msg, kHeaderHash);
      m.model = header(msg, kHeaderModel);
      natsMsg_Destroy(msg);
      out.push_back(std::move(m));
    }
    return out;
  }

  // Publishes raw bytes on a subject (a stream's foreign message, a tampered event).
  void publish(const std::string& subject, const std::string& data,
               const std::vector<std::pair<std::string, std::string>>& headers = {}) const {
    natsMsg* msg = nullptr;
    REQUIRE(natsMsg_Create(&msg, subject.c_str(), nullptr, data.data(), static_cast<int>(data.size())) == NATS_OK);
    for (const auto& [k, v] : headers) natsMsgHeader_Set(msg, k.c_str(), v.c_str());
    jsPubAck* ack = nullptr;
    natsStatus s = js_PublishMsg(&ack, js_, msg, nullptr, nullptr);
    jsPubAck_Destroy(ack);
    natsMsg_Destroy(msg);
    REQUIRE(s == NATS_OK);
  }

 private:
  static std::string header(natsMsg* msg, const char* key) {
    const char* v = nullptr;
    return natsMsgHeader_Get(msg, key, &v) == NATS_OK && v ? v : "";
  }
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
};

// The stream holds exactly the log, 1..head: sequence = position, the stored bytes, the
// subject <prefix>.<Resource>.<action>, and the position, tenant and hash headers.
inline void require_stream_equals_log(const StreamClient& client, const std::string& stream, const Log& log,
                                      const std::string& prefix) {
  auto txn = log.read().value();
  auto head = log.head(txn).value();
  auto messages = client.messages(stream);
  REQUIRE(client.count(stream) == head.position);  // nothing twice
  REQUIRE(messages.size() == head.position);       // no gap
  std::uint64_t n = 0;
  log.scan(txn, 1, [&](const StoredEvent& e) {
       const StreamEntry& m = messages[n++];
       INFO("position " << e.event.position);
       REQUIRE(m.sequence == e.event.position);
       REQUIRE(m.data == e.bytes);
       REQUIRE(m.subject == prefix + "." + e.event.resource + "." + e.event.action);
       REQUIRE(m.domain == e.event.domain);
       REQUIRE(m.position == std::to_string(e.event.position));
       REQUIRE(m.tenant == e.event.tenant);
       REQUIRE(m.hash == to_hex(e.hash));
       return true;
     })
      .value();
  REQUIRE(n == head.position);
}

}  // namespace ashlar::test
