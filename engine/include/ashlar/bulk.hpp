#pragma once
// Bulk actions: one create, update or destroy action run over many inputs or records, a
// batch at a time, each batch in one LMDB write transaction (one commit, one fsync).
//
//   auto result = engine.bulk_create("Post", {{{"title", "a"}}, {{"title", "b"}}},
//                                    {.batch_size = 1000, .return_records = true});
//   engine.bulk_update("Post", Query{.filter = ref("status") == Atom{"draft"}},
//                      {{"status", Atom{"published"}}});
//   engine.bulk_destroy("Post", std::vector<Value>{id1, id2});
//
// Every record goes through the same path as a single action: its changeset is built
// (changes and validations), its hooks run in the lifecycle's order, and its events and
// projection updates are written in a transaction nested in the batch's, so a record
// that fails rolls back alone. (A batch whose records have no in-transaction hooks is
// first tried without the nested transactions, which cost a page copy per page touched;
// if a record fails there, that try is discarded whole and the batch runs nested.) Per batch: the changesets are built; around_transaction
// hooks start (each wrapping the rest of the batch) and before_transaction hooks run,
// outside the transaction; then the batch's write transaction runs every record's
// around_action, before_action, write and after_action, and commits once; the committed
// events go to the notifiers (when `notify`); then after_transaction hooks run and the
// around_transaction hooks end. A changeset's context holds {"bulk_create" (or
// "bulk_update", "bulk_destroy"): {"index": i}}, as Ash sets it.

#include <ashlar/model/export.hpp>
#include <ashlar/model/resource.hpp>
#include <ashlar/query.hpp>
#include <ashlar/record.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace ashlar {

struct ASHLAR_API BulkOptions {
  std::string action{};  // empty: the resource's primary action of the call's type
  Value actor{};
  std::string tenant{};
  Map context{};  // merged into every changeset's context
  Fields private_arguments{};
  // Shared by every event of the operation, across batches; empty: a new uuid.
  std::string correlation_id{};
  // Records per write transaction. Larger batches amortize the commit (and its fsync)
  // over more records but hold the writer longer; 0 is a Framework error.
  std::size_t batch_size = 100;
  // Return the records acted on (created, updated, or destroyed as they were), in input
  // order. Off by default, as in Ash: a large operation need not hold them all.
  bool return_records = false;
  // Return each failure with the index of its input. On by default (Ash defaults it
  // off): the count alone does not say what to fix.
  bool return_errors = true;
  // Tell the notifiers (and the publisher) about each batch's committed events. On by
  // default (Ash defaults it off because it collects notifications in memory; here they
  // are published per batch, and subscribers expect the live stream). Off, subscribers
  // find the events by replay.
  bool notify = true;
  // Stop at the first failure: the batch it is in is rolled back as a whole (none of
  // its records is kept, nor reported), earlier batches stay committed, and no later
  // input is tried. Off: a failed record is rolled back alone and the rest go on.
  bool stop_on_error = false;
  // Makes the operation safe to retry: input i runs with the idempotency key
  // "<key>/<i>" (see CallOptions::idempotency_key), so a retry returns what each input
  // did the first time and runs only the inputs that failed or never ran.
  std::string idempotency_key{};
  // Decide each record's action, and the query's read, by the policies (see
  // CallOptions::authorize); a record they refuse is a failure at its index.
  std::optional<bool> authorize{};
};

enum class BulkStatus {
  success,          // no input failed
  partial_success,  // some records were acted on, some inputs failed
  error,            // nothing was acted on, or the operation stopped at an error
};
ASHLAR_API const char* to_string(BulkStatus status);

struct ASHLAR_API BulkError {
  std::size_t index = 0;  // of the input (create) or the id, record or query result (update, destroy)
  Error error{};
  // "input 3: invalid: Post.create: title: is required"
  std::string describe() const;
};

struct ASHLAR_API BulkResult {
  BulkStatus status = BulkStatus::success;
  std::size_t count = 0;        // records acted on (committed)
  std::size_t error_count = 0;  // inputs that failed
  std::vector<Record> records{};    // with return_records: those acted on, in input order
  std::vector<BulkError> errors{};  // with return_errors: in input order
};

}  // namespace ashlar
