#pragma once
// What the notifiers' sources share about ZeroMQ: the context behind ZmqContext, and
// turning ZeroMQ failures into errors at the edge.

#include <ashlar/model/result.hpp>
#include <ashlar/notifiers/zmq_context.hpp>

#include <zmq.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace ashlar {

struct ZmqContext::Impl {
  zmq::context_t context{1};
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

inline std::string_view view(const zmq::message_t& m) { return {static_cast<const char*>(m.data()), m.size()}; }

}  // namespace zmq_util
}  // namespace ashlar
