// ashlar verify DIR [--expect POS:HASH] [--key-file F] [--deep]
#include "audit_store.hpp"
#include "commands.hpp"
#include "output.hpp"
#include "progress.hpp"

#include <ashlar/projections/state.hpp>
#include <ashlar/projections/tenants.hpp>
#include <ashlar/projections/verify.hpp>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <fstream>
#include <memory>
#include <sstream>

namespace ashlar::cli {
namespace {

struct VerifyArgs {
  std::string dir;
  std::string expect;  // POS:HASH
  std::string key_file;
  bool deep = false;
};

std::optional<Hash> parse_hash(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  Hash h{};
  for (std::size_t i = 0; i < 32; ++i) {
    unsigned byte = 0;
    for (char c : hex.substr(2 * i, 2)) {
      int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (v < 0) return std::nullopt;
      byte = byte * 16 + static_cast<unsigned>(v);
    }
    h[i] = static_cast<std::uint8_t>(byte);
  }
  return h;
}

Result<std::string> read_key(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(Error::framework(fmt::format("cannot read the key file {}", path)));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  std::string key = bytes.str();
  if (key.size() < 16 || key.size() > 64)
    return fail(Error::framework(fmt::format("the key file {} holds {} bytes; a chain key is 16 to 64 bytes, used "
                                             "as they are",
                                             path, key.size())));
  return key;
}

Result<VerifyOptions> options_from(const VerifyArgs& args) {
  VerifyOptions options;
  options.deep = args.deep;
  if (!args.key_file.empty()) {
    ASHLAR_TRY(key, read_key(args.key_file));
    options.chain_key = std::move(*key);
  }
  if (!args.expect.empty()) {
    auto colon = args.expect.find(':');
    auto position = parse_position(std::string_view(args.expect).substr(0, colon));
    auto hash = colon == std::string::npos ? std::nullopt : parse_hash(std::string_view(args.expect).substr(colon + 1));
    if (!position || !hash)
      return fail(Error::framework(fmt::format("--expect takes POS:HASH, a position and the 64 hex digits "
                                               "ashlar head printed (got {})",
                                               args.expect)));
    options.expect_position = *position;
    options.expect_hash = *hash;
  }
  return options;
}

// Checks the chain, the stream indexes and the state projection against a replay; one
// line when all holds, else one line per problem and a failing exit.
Result<void> run_verify(const VerifyArgs& args) {
  ASHLAR_TRY(options, options_from(args));
  ASHLAR_TRY(store, open_store(args.dir));
  ASHLAR_TRY(replay, replayable(*store));
  ASHLAR_TRY(state, StateProjection::open(*store->log, store->domain));
  ASHLAR_TRY(known, TenantTables::open(*store->log, store->domain));
  ASHLAR_TRY(tenants, tenant_targets(*store->log, store->domain, known->get()));
  std::vector<RebuildTarget> targets;
  if (replay->upcasters.empty()) {
    targets.push_back(state->target());
    for (auto& t : tenants->targets) targets.push_back(std::move(t));
  }
  options->upcast = replay->upcast;
  std::optional<Progress> bar;
  options->progress = [&](std::uint64_t position, std::uint64_t head) {
    if (!bar) bar.emplace("verify", 0, head);
    bar->update(position, head);
  };
  auto report = verify(*store->log, targets, *options, &store->domain);
  bar.reset();
  if (!report) return fail(report.error());
  if (!report->ok()) {
    for (const auto& p : report->problems) ASHLAR_TRY_VOID(print_line("problem: " + p));
    return fail(Error::unknown(fmt::format("{} fails verification: {}", args.dir, report->problems.front())));
  }
  std::vector<std::string> held = {fmt::format("{} events", report->events),
                                   options->deep ? "every page of the store reads" : "",
                                   options->chain_key.empty() ? "hash chain intact" : "keyed hash chain intact",
                                   "by_resource and by_record agree with the log"};
  std::erase(held, "");
  held.push_back("the stored model fits the log");
  if (!targets.empty()) held.push_back("the state projection equals a replay");
  if (options->expect_position) held.push_back(fmt::format("position {} has the expected hash", options->expect_position));
  std::vector<std::string> skipped;
  if (!replay->upcasters.empty())
    skipped.push_back(fmt::format("projections (upcasters {} are C++ code: verify through Engine::verify)",
                                  fmt::join(replay->upcasters, ", ")));
  if (auto custom = skipped_projections(*replay); !custom.empty()) skipped.push_back(custom);
  std::string line = fmt::format("ok: {}; head {} {}", fmt::join(held, "; "), report->head.position,
                                 to_hex(report->head.hash));
  if (!skipped.empty()) line += fmt::format("; skipped: {}", fmt::join(skipped, "; "));
  return print_line(line);
}

}  // namespace

void add_verify_command(CLI::App& app) {
  auto args = std::make_shared<VerifyArgs>();
  CLI::App* cmd = app.add_subcommand(
      "verify", "Check the hash chain, the log's indexes and the projections against a replay of the log");
  cmd->add_option("DIR", args->dir, "The store's directory")->required();
  cmd->add_option("--expect", args->expect,
                  "Also prove that the log up to POS is the one whose head hash was recorded (ashlar head)")
      ->type_name("POS:HASH");
  cmd->add_option("--key-file", args->key_file, "The chain's secret key (16 to 64 bytes), for a keyed chain")
      ->type_name("FILE");
  cmd->add_flag("--deep", args->deep,
                "First read every page of the store in a separate process, so that a damaged page is reported "
                "instead of crashing the check (reads the whole file)");
  cmd->callback([args] { run_command([&] { return run_verify(*args); }); });
}

}  // namespace ashlar::cli
