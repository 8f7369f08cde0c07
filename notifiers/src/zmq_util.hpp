#pragma once
// What the notifiers' sources share about ZeroMQ: the context behind ZmqContext, and
// turning ZeroMQ failures into errors at the edge.

#include <ashlar/model/result.hpp>
#include <ashlar/notifiers/zmq_context.hpp>

#include <zmq.hpp>

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace ashlar::curve {
class ZapHandler;
}

namespace ashlar {

struct ZmqContext::Impl {
  zmq::context_t context{1};
  // The context's ZAP handler, from its first CURVE server socket on (curve_sockets.hpp);
  // it closes its socket before the context terminates. It stays: ZeroMQ frees an inproc
  // endpoint after its socket closes, so a new handler could not bind at once.
  std::mutex zap_mutex;
  std::shared_ptr<curve::ZapHandler> zap;
};

namespace zmq_util {

// The given context, or a new one when it is null.
inline std::shared_ptr<ZmqContext> context_or_new(std::shared_ptr<ZmqContext> given) {
  return given ? std::move(given) : std::make_shared<ZmqContext>();
}

inline zmq::context_t& native(const std::shared_ptr<ZmqContext>& context) { return context->impl().context; }

// Binds `socket` to `endpoint` and returns the endpoint as bound (a tcp port given as
// "*" resolved). Framework naming the endpoint when it cannot be bound.
Result<std::string> bind(zmq::socket_t& socket, const std::string& endpoint, std::string_view role);

// Connects without waiting for the peer (ZeroMQ reconnects by itself). Framework when
// the endpoint is malformed or its transport unknown.
Result<void> connect(zmq::socket_t& socket, const std::string& endpoint, std::string_view role);

// An eventfd that wakes a background thread's poll to stop it; closed with it.
class EventFd {
 public:
  EventFd() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}
  ~EventFd() {
    if (fd_ >= 0) ::close(fd_);
  }
  EventFd(const EventFd&) = delete;
  EventFd& operator=(const EventFd&) = delete;
  int fd() const { return fd_; }
  void signal() const {
    std::uint64_t one = 1;
    [[maybe_unused]] auto written = ::write(fd_, &one, sizeof one);
  }

 private:
  int fd_;
};

inline std::string_view view(const zmq::message_t& m) { return {static_cast<const char*>(m.data()), m.size()}; }

}  // namespace zmq_util
}  // namespace ashlar
