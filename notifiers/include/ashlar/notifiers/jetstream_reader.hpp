#pragma once
// Reading a stream the JetStream sink wrote (ashlar/notifiers/jetstream.hpp), in order,
// from a position on: what a read replica consumes. Each message comes with the headers
// the sink set, unchecked: the reader of the bytes decides whether they fit.

#include <ashlar/model/export.hpp>
#include <ashlar/model/result.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ashlar {

struct ASHLAR_API StreamMessage {
  std::uint64_t sequence = 0;  // the stream's: the position the event claims to have
  std::string subject;
  std::string bytes;           // the event's bytes, as the primary stored them
  std::string domain, position, tenant, hash, model;  // the Ashlar-* headers ("" when absent)
  // Every model version this message's event starts, oldest first: more than one when the
  // primary took a model under which it wrote nothing. model is the last of them.
  std::vector<std::string> models;
};

struct ASHLAR_API JetStreamReaderOptions {
  std::string url{};     // NATS server(s), comma-separated
  std::string stream{};  // the stream's name
  // How long a JetStream request may take before the reader reports the server
  // unreachable (and is asked again).
  std::chrono::milliseconds timeout{2000};
};

// An ordered consumer of the stream (no acknowledgements, nothing left on the server
// when it goes), from a given sequence on. It recreates itself after a disconnect, so
// messages come in sequence order without gaps or repeats.
class ASHLAR_API JetStreamReader {
 public:
  // Framework when the options lack url or stream, or the server says the stream does
  // not exist ("JetStream stream S does not exist"); Unknown (code io_error) when no
  // server answers.
  static Result<std::unique_ptr<JetStreamReader>> open(const JetStreamReaderOptions& options, std::uint64_t from);
  ~JetStreamReader();

  // Up to `max` messages in sequence order, waiting up to `wait` for the first (and not
  // for more once one came); none when none came in time. Unknown (io_error) when the
  // connection failed: open again from the next sequence.
  Result<std::vector<StreamMessage>> next(std::size_t max, std::chrono::milliseconds wait);
  // The stream's last sequence, asked of the server (for a replica's lag).
  Result<std::uint64_t> last_sequence() const;

 private:
  struct Impl;
  explicit JetStreamReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ashlar
