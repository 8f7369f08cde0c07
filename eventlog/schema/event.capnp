@0xb6a1d3c2e4f50718;
# The public wire and storage format of ashlar events. Field numbers only ever grow.
# Every value is self-describing, so a consumer decodes an event without the model.

$import "/capnp/c++.capnp".namespace("ashlar::schema");

struct Value {
  union {
    null @0 :Void;
    boolean @1 :Bool;
    integer @2 :Int64;
    float @3 :Float64;
    string @4 :Text;
    uuid @5 :Data;            # 16 bytes
    datetime @6 :Int64;       # microseconds since the Unix epoch, UTC
    date @7 :Int32;           # days since 1970-01-01
    atom @8 :Text;
    binary @9 :Data;
    map @10 :List(Field);     # sorted by name
    array @11 :List(Value);
  }
}

struct Field {
  name @0 :Text;
  value @1 :Value;
}

enum ActionType {
  create @0;
  read @1;
  update @2;
  destroy @3;
}

struct Event {
  position @0 :UInt64;       # global, 1-based, gapless
  sequence @1 :UInt64;       # per resource, 1-based, gapless
  version @2 :UInt64;        # per record, 1 on create
  tx @3 :UInt64;             # the position of the first event its transaction appended
  domain @4 :Text;
  resource @5 :Text;
  action @6 :Text;
  actionType @7 :ActionType;
  key @8 :List(Field);       # the primary key attributes, in declaration order
  changes @9 :List(Field);   # attribute values after all changes (create: every non-nil one)
  inputs @10 :List(Field);   # the accepted inputs, as cast
  actor @11 :Value;          # null when none
  correlationId @12 :Text;
  causationId @13 :Text;
  tenant @14 :Text;
  timeMicros @15 :Int64;     # wall clock, microseconds since the Unix epoch, UTC
  idempotencyKey @16 :Text;  # the caller's key for a retry-safe action; empty when none
  redacted @17 :List(Text);  # on the wire only: attributes whose values were withheld (null)
}

# A record in the state projection: the fold of its events.
struct Record {
  version @0 :UInt64;
  position @1 :UInt64;       # of the event that produced this state
  attributes @2 :List(Field);
}
