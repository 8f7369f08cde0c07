#include "zmq_util.hpp"

#include <fmt/format.h>

namespace ashlar {

ZmqContext::ZmqContext() : impl_(std::make_unique<Impl>()) {}
ZmqContext::~ZmqContext() = default;

namespace zmq_util {

Result<std::string> bind(zmq::socket_t& socket, const std::string& endpoint, std::string_view role) {
  try {
    socket.bind(endpoint);
    return socket.get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    return fail(Error::framework(fmt::format("cannot bind the {} to {}: {}", role, endpoint, e.what())));
  }
}

Result<void> connect(zmq::socket_t& socket, const std::string& endpoint, std::string_view role) {
  try {
    socket.connect(endpoint);
    return {};
  } catch (const zmq::error_t& e) {
    return fail(Error::framework(fmt::format("cannot connect the {} to {}: {}", role, endpoint, e.what())));
  }
}

}  // namespace zmq_util
}  // namespace ashlar
