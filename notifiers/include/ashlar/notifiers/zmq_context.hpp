#pragma once
// A ZeroMQ context: the I/O thread behind a process's sockets. Sockets reach each other
// over inproc:// endpoints only within one context, so an embedder that publishes and
// subscribes in one process over inproc passes the same context to both.

#include <ashlar/model/export.hpp>

#include <memory>

namespace ashlar {

class ASHLAR_API ZmqContext {
 public:
  ZmqContext();  // one I/O thread
  ~ZmqContext();
  ZmqContext(const ZmqContext&) = delete;
  ZmqContext& operator=(const ZmqContext&) = delete;

  struct Impl;  // holds the zmq::context_t (notifiers/src/zmq_util.hpp)
  Impl& impl() const { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace ashlar
