#pragma once
// A store's model, decoded: how every reader (the command line, StoreReader) learns the
// domain of a store it did not write.

#include <ashlar/eventlog/log.hpp>
#include <ashlar/model/export.hpp>
#include <ashlar/model/resource.hpp>

namespace ashlar {

// The domain the store's current model describes, read in a snapshot of its own.
// Framework naming the store's path when no engine has opened it (it holds no model);
// the model's decoding error, prefixed with the path, when it does not decode; the
// log's error when it cannot be read.
ASHLAR_API Result<Domain> stored_domain(const Log& log);

}  // namespace ashlar
