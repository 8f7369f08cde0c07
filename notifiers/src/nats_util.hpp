#pragma once
// Owners of the NATS C client's handles, and its errors as text: private to notifiers.

#include <nats/nats.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ashlar::nats {

struct MsgDeleter {
  void operator()(natsMsg* m) const { natsMsg_Destroy(m); }
};
using MsgPtr = std::unique_ptr<natsMsg, MsgDeleter>;

struct StreamInfoDeleter {
  void operator()(jsStreamInfo* si) const { jsStreamInfo_Destroy(si); }
};
using StreamInfoPtr = std::unique_ptr<jsStreamInfo, StreamInfoDeleter>;

// "nats: timeout" / "JetStream: stream not found (10059)": what the last call said.
std::string status_text(natsStatus s, jsErrCode code = static_cast<jsErrCode>(0));

// A connection and its JetStream context: reconnects forever on its own (a first
// connect that fails keeps trying in the background too).
class Connection {
 public:
  struct Settings {
    std::string url;
    std::chrono::milliseconds timeout{2000};
    // Every asynchronous publish's acknowledgement or error calls this (it owns the
    // message); at most max_pending publishes wait for theirs, a further one stalls.
    jsPubAckHandler on_publish_ack = nullptr;
    void* closure = nullptr;
    int max_pending = 0;  // 0: the client's default
  };
  // Empty error when connected or connecting; otherwise why not (a bad URL).
  static std::unique_ptr<Connection> open(const Settings& settings, std::string& error);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  natsConnection* nc() const { return nc_; }
  jsCtx* js() const { return js_; }
  bool connected() const;
  // jsOptions with the request timeout set.
  jsOptions options() const;

 private:
  Connection() = default;
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
  std::chrono::milliseconds timeout_{2000};
};

// A header's value, or empty when absent.
std::string header(natsMsg* msg, const char* key);
// Every value of a header, in the order they were added.
std::vector<std::string> header_values(natsMsg* msg, const char* key);

}  // namespace ashlar::nats
