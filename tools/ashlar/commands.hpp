#pragma once
// The subcommands of the `ashlar` command line. Each lives in its own file and adds
// itself to the app; main.cpp calls every add_*_command. A new command is a new file,
// one declaration here and one call in main.cpp.

namespace CLI {
class App;
}

namespace ashlar::cli {

// ashlar log DIR [--from POS] [--tenant T] [--json]: the events in log order (of one tenant's calls).
void add_log_command(CLI::App& app);
// ashlar stats DIR [--json]: events and records per resource, head, size.
void add_stats_command(CLI::App& app);
// ashlar query DIR RESOURCE [--action A --arg NAME=VALUE ...] [--filter EXPR] [--sort KEYS]
//   [--limit N] [--offset N] [--load PATH,...] [--tenant T] [--json]: records, loaded, as the engine
//   reads them (in tenant T).
void add_query_command(CLI::App& app);
// ashlar subscribe --pub E --replay E [--resource R] [--tenant T] [--from POS|now]
//   [--server-key F [--client-key F]] [--json]: a live stream.
void add_subscribe_command(CLI::App& app);
// ashlar keygen PATH: a CURVE key pair, PATH (secret, 0600) and PATH.pub; prints the public key.
void add_keygen_command(CLI::App& app);
// ashlar head DIR [--json]: the head's position and hash, for an auditor to keep.
void add_head_command(CLI::App& app);
// ashlar verify DIR [--expect POS:HASH] [--key-file F]: chain, indexes, projections.
void add_verify_command(CLI::App& app);
// ashlar rebuild DIR [--batch N]: the state projection from the log (the writer lock).
void add_rebuild_command(CLI::App& app);
// ashlar history DIR RESOURCE ID [--tenant T] [--json]: one record's events (those of tenant T).
void add_history_command(CLI::App& app);
// ashlar state DIR RESOURCE ID [--as-of POS|TIME] [--load REL,...] [--tenant T] [--json]: one
//   record, then (NotFound when it is another tenant's).
void add_state_command(CLI::App& app);

// ashlar mirror DIR --nats URL --stream NAME [--prefix P] [--create [--replicas N]]
//   [--until-caught-up]: the log into a JetStream stream, exactly once, tailing it.
void add_mirror_command(CLI::App& app);
// ashlar replica --nats URL --stream NAME DIR [--until-caught-up] [--no-sync] [--key-file F]:
//   a read replica of a mirrored store, following the stream.
void add_replica_command(CLI::App& app);

}  // namespace ashlar::cli
