// `swarm ledger append|show|verify --db FILE` (a local ledger file) and
// `swarm ledger append|verify --peer ADDR` (the PBFT-replicated ledger of a
// committee, node/consensus/extension.h).
//
// `swarm ledger show --peer ADDR` lists a member's replicated ledger; epoch
// records (consensus/epoch.h) come with their member list / table.
//
// Remote append (client/consensus_client.h): read the member's head, sign a record on top of it, submit it
// through that member (a backup relays it to the primary), re-sign and retry
// when another append won the race ("stale head"), fail over to the other
// committee members when the member does not answer, then wait until f+1
// members (at least one honest) report the same record hash at that index.
// No quorum before --timeout-ms: exit 1 with what was seen.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <set>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/credentials.h"
#include "net/dial.h"
#include "crypto/identity.h"
#include "crypto/merkle.h"
#include "net/rpc.h"
#include "store/ledger.h"
#include "store/signers.h"
#include "swarm/v1/consensus.grpc.pb.h"
#if SWARM_NODE_HAVE_CONSENSUS
#include "client/consensus_client.h"
#include "consensus/epoch.h"
#endif

namespace swarm::cli {
namespace {

constexpr size_t kPayloadChunkBytes = 64 * 1024;

struct LedgerFlags {
  std::string db;
  std::vector<std::string> peers;
  std::string cluster;  // swarm up --dir
  int64_t timeout_ms = 30000;
  std::string key;
  std::string kind = "note";
  uint64_t epoch = 0;
  std::string payload_file;
  std::string text;
  int64_t from = 0;
  int64_t count = 20;
  bool json = false;
};

std::unique_ptr<store::Ledger> OpenLedger(const std::string& cmd, const std::string& db) {
  auto ledger = store::Ledger::Open(db);
  if (!ledger.ok()) Fail(cmd, ledger.status(), kExitUsage);
  return std::move(*ledger);
}

nlohmann::json RecordJson(const store::LedgerRecord& r) {
  return {{"index", r.index},
          {"author", ToHex(r.author_id).substr(0, crypto::kPeerIdHexChars)},
          {"epoch", r.epoch},
          {"kind", r.kind},
          {"payload_root", ToHex(r.payload_root)},
          {"prev_hash", ToHex(r.prev_hash)},
          {"hash", ToHex(store::LedgerRecordHash(r))},
          {"scheme", r.signature_scheme},
          {"signature_bytes", r.signature.size()}};
}

StatusOr<crypto::Identity> LoadOrMakeIdentity(const LedgerFlags& f) {
  if (!f.key.empty()) return crypto::Identity::Load(f.key);
  if (f.peers.empty()) return absl::InvalidArgumentError("--key is required with --db");
  return crypto::Identity::Generate();  // ephemeral author for this one record
}

Bytes ReadPayload(const LedgerFlags& f) {
  if (f.payload_file.empty() == f.text.empty()) {
    Fail("ledger append", absl::InvalidArgumentError("give exactly one of --payload FILE or --text STRING"), kExitUsage);
  }
  Bytes payload;
  if (!f.payload_file.empty()) {
    std::ifstream in(f.payload_file, std::ios::binary);
    if (!in) Fail("ledger append", absl::NotFoundError("cannot read --payload '" + f.payload_file + "'"), kExitUsage);
    payload.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } else {
    payload.assign(f.text.begin(), f.text.end());
  }
  return payload;
}

int RunRemoteAppend(const LedgerFlags& f);

int RunAppend(const LedgerFlags& f) {
  if (f.db.empty() == f.peers.empty()) {
    Fail("ledger append", absl::InvalidArgumentError("give exactly one of --db FILE or --peer ADDR"), kExitUsage);
  }
  if (!f.peers.empty()) return RunRemoteAppend(f);
  const Bytes payload = ReadPayload(f);
  auto id = LoadOrMakeIdentity(f);
  if (!id.ok()) Fail("ledger append", id.status(), kExitUsage);
  auto root = crypto::MerkleRootOfBlob(payload, kPayloadChunkBytes);
  if (!root.ok()) Fail("ledger append", root.status(), kExitRuntime);
  auto ledger = OpenLedger("ledger append", f.db);
  store::LedgerEntry entry;
  entry.epoch = f.epoch;
  entry.kind = f.kind;
  std::copy(root->begin(), root->end(), entry.payload_root.begin());
  store::IdentityRecordSigner signer(*id);
  auto rec = ledger->Append(entry, signer);
  if (!rec.ok()) Fail("ledger append", rec.status(), rec.status().code() == absl::StatusCode::kInvalidArgument ? kExitUsage : kExitRuntime);
  if (f.json) {
    std::cout << RecordJson(*rec).dump(2) << std::endl;
  } else {
    std::cout << "appended record " << rec->index << " (kind " << rec->kind << ", epoch " << rec->epoch
              << ", payload root " << ToHex(rec->payload_root).substr(0, 16) << "…) hash "
              << ToHex(store::LedgerRecordHash(*rec)) << std::endl;
  }
  return 0;
}

int RunRemoteShow(const LedgerFlags& f);
std::vector<std::string> EpochBodyLines(const std::string& kind, ByteSpan body);

int RunShow(const LedgerFlags& f) {
  if (f.db.empty() == f.peers.empty()) {
    Fail("ledger show", absl::InvalidArgumentError("give exactly one of --db FILE or --peer ADDR"), kExitUsage);
  }
  if (!f.peers.empty()) return RunRemoteShow(f);
  auto ledger = OpenLedger("ledger show", f.db);
  auto head = ledger->Head();
  if (!head.ok()) Fail("ledger show", head.status(), kExitRuntime);
  nlohmann::json arr = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> epoch_lines;
  const uint64_t from = static_cast<uint64_t>(std::max<int64_t>(0, f.from));
  for (uint64_t i = from; i < head->size && i < from + static_cast<uint64_t>(f.count); ++i) {
    auto r = ledger->Get(i);
    if (!r.ok()) Fail("ledger show", r.status(), kExitRuntime);
    auto j = RecordJson(*r);
    // A replicated ledger keeps epoch bodies beside it (consensus/ledger_machine.h).
    if (r->kind.rfind("epoch.", 0) == 0) {
      const auto path = std::filesystem::path(f.db).parent_path() / "epochs" / (ToHex(r->payload_root) + ".body");
      std::ifstream in(path, std::ios::binary);
      if (in) {
        const Bytes body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        j["body"] = EpochBodyLines(r->kind, body);
        for (const auto& l : j["body"]) epoch_lines.push_back(absl::StrCat("#", r->index, " ", r->kind, " v", r->epoch, ": ", l.get<std::string>()));
      }
    }
    arr.push_back(j);
    rows.push_back({std::to_string(r->index), j["author"], std::to_string(r->epoch), r->kind,
                    j["payload_root"].get<std::string>().substr(0, 16),
                    j["hash"].get<std::string>().substr(0, 16), r->signature_scheme});
  }
  if (f.json) {
    std::cout << nlohmann::json{{"size", head->size}, {"head", ToHex(head->hash)}, {"records", arr}}.dump(2) << std::endl;
  } else {
    std::cout << "ledger " << f.db << ": " << head->size << " records, head " << ToHex(head->hash) << "\n"
              << FormatTable({"index", "author", "epoch", "kind", "payload root", "hash", "scheme"}, rows);
    for (const auto& l : epoch_lines) std::cout << l << "\n";
    std::cout << std::flush;
  }
  return 0;
}

int RunRemoteVerify(const LedgerFlags& f);

// The gRPC addresses of a `swarm up --dir DIR` cluster (DIR/cluster.json).
std::vector<std::string> ClusterPeers(const std::string& dir) {
  const std::string path = dir + "/cluster.json";
  std::ifstream in(path);
  if (!in) Fail("ledger verify", absl::NotFoundError(absl::StrCat("cannot read ", path)), kExitUsage);
  auto j = nlohmann::json::parse(in, nullptr, false);
  std::vector<std::string> out;
  if (j.is_object() && j.contains("nodes") && j["nodes"].is_array()) {
    for (const auto& n : j["nodes"]) {
      if (n.is_object() && n.contains("grpc") && n["grpc"].is_string()) out.push_back(n["grpc"].get<std::string>());
    }
  }
  if (out.empty()) Fail("ledger verify", absl::DataLossError(absl::StrCat(path, ": no nodes[].grpc")), kExitUsage);
  return out;
}

int RunVerify(LedgerFlags f) {
  if (!f.cluster.empty()) {
    if (auto s = UseRunCredentials(f.cluster); !s.ok()) Fail("ledger", s, kExitUsage);
    for (auto& a : ClusterPeers(f.cluster)) f.peers.push_back(a);
  }
  if (f.db.empty() == f.peers.empty()) {
    Fail("ledger verify", absl::InvalidArgumentError("give exactly one of --db FILE, --peer ADDR or --cluster DIR"), kExitUsage);
  }
  if (!f.peers.empty()) return RunRemoteVerify(f);
  auto ledger = OpenLedger("ledger verify", f.db);
  auto report = ledger->Verify();
  if (!report.ok()) Fail("ledger verify", report.status(), kExitRuntime);
  auto head = ledger->Head();
  if (f.json) {
    std::cout << nlohmann::json{{"ok", report->ok},
                                {"records_checked", report->records_checked},
                                {"first_bad_index", report->ok ? nlohmann::json() : nlohmann::json(report->first_bad_index)},
                                {"fault", std::string(store::LedgerFaultName(report->fault))},
                                {"detail", report->detail},
                                {"head", head.ok() ? ToHex(head->hash) : ""}}
                     .dump(2)
              << std::endl;
  } else {
    std::cout << report->ToString();
    if (report->ok && head.ok()) std::cout << ", head " << ToHex(head->hash);
    std::cout << std::endl;
  }
  return report->ok ? 0 : kExitRuntime;
}


// ---- Remote: the PBFT-replicated ledger through committee members ----

using Clock = std::chrono::steady_clock;

std::unique_ptr<swarm::v1::Pbft::Stub> StubFor(const std::string& address) {
  net::DialOptions o;
  o.net.message_size_bytes_max = 64 << 20;
  return swarm::v1::Pbft::NewStub(net::DialOrUnavailable(address, o));
}

#if SWARM_NODE_HAVE_CONSENSUS
int RunRemoteAppend(const LedgerFlags& f) {
  const std::string cmd = "ledger append";
  if (f.kind.rfind("epoch.", 0) == 0) {
    Fail(cmd, absl::InvalidArgumentError(absl::StrCat("--kind ", f.kind, ": epoch.* records are proposed by the "
                                                      "committee members themselves")), kExitUsage);
  }
  const Bytes payload = ReadPayload(f);
  auto id = LoadOrMakeIdentity(f);
  if (!id.ok()) Fail(cmd, id.status(), kExitUsage);
  auto root = crypto::MerkleRootOfBlob(payload, kPayloadChunkBytes);
  if (!root.ok()) Fail(cmd, root.status(), kExitRuntime);
  const auto start = Clock::now();
  node::CommitteeClientOptions o;
  o.members = f.peers;
  o.timeout = Millis(f.timeout_ms);
  node::LedgerAppendSpec spec;
  spec.kind = f.kind;
  spec.epoch = f.epoch;
  std::copy(root->begin(), root->end(), spec.payload_root.begin());
  auto done = node::AppendToCommittee(*id, spec, o);
  if (!done.ok()) {
    const auto code = done.status().code();
    Fail(cmd, done.status(), code == absl::StatusCode::kInvalidArgument ? kExitUsage : kExitRuntime);
  }
  // f+1 members (one of them honest) must report this record at this index.
  o.timeout = std::max<Nanos>(Millis(1), Millis(f.timeout_ms) - std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                                   Clock::now() - start).count());
  auto agree = node::ConfirmRecord(*done, o);
  if (!agree.ok()) Fail(cmd, agree.status(), kExitRuntime);
  const auto& r = done->reply;
  const std::string hash = ToHex(AsBytes(r.record_hash()));
  if (f.json) {
    std::cout << nlohmann::json{{"index", r.index()}, {"hash", hash}, {"seq", r.seq()},
                                {"view", r.view()}, {"via", done->via}, {"confirmed_by", *agree},
                                {"ledger_size", r.ledger_size()}, {"head", ToHex(AsBytes(r.head_hash()))}}
                     .dump(2)
              << std::endl;
  } else {
    std::cout << "appended record " << r.index() << " hash " << hash << " (PBFT seq " << r.seq() << ", view "
              << r.view() << ", via " << done->via << ", confirmed by " << agree->size() << " of "
              << done->committee.size() << " members)" << std::endl;
  }
  return 0;
}
#else
int RunRemoteAppend(const LedgerFlags&) {
  Fail("ledger append", absl::UnimplementedError("--peer needs the consensus module (SWARM_MODULES)"), kExitUsage);
  return kExitUsage;
}
#endif

// Member list / table lines of an epoch record's body, for display.
std::vector<std::string> EpochBodyLines(const std::string& kind, ByteSpan body) {
  std::vector<std::string> out;
#if SWARM_NODE_HAVE_CONSENSUS
  if (kind == node::kEpochMembershipKind) {
    auto m = node::ParseMembershipEpoch(body);
    if (!m.ok()) return {std::string("(bad body: ") + std::string(m.status().message()) + ")"};
    for (const auto& x : *m) out.push_back(x.id + " " + x.address);
  } else if (kind == node::kEpochPlacementKind) {
    auto t = node::ParsePlacementEpoch(body);
    if (!t.ok()) return {std::string("(bad body: ") + std::string(t.status().message()) + ")"};
    for (const auto& [e, owners] : *t) {
      std::string line = "expert " + std::to_string(e) + ":";
      for (const auto& a : owners) line += " " + a;
      out.push_back(line);
    }
  }
#else
  (void)kind;
  (void)body;
#endif
  return out;
}

// `swarm ledger show --peer ADDR`: the member's replicated ledger, epoch
// records with their member list / placement table.
int RunRemoteShow(const LedgerFlags& f) {
  const std::string cmd = "ledger show";
  const std::string peer = f.peers.front();
  uint64_t from = static_cast<uint64_t>(std::max<int64_t>(0, f.from));
  const uint64_t want = static_cast<uint64_t>(std::max<int64_t>(0, f.count));
  nlohmann::json arr = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> bodies;
  uint64_t size = 0;
  std::string head;
  for (uint64_t got = 0; got < want;) {
    swarm::v1::LedgerRecordsRequest q;
    q.set_from(from);
    q.set_count(static_cast<uint32_t>(std::min<uint64_t>(want - got, 256)));
    swarm::v1::LedgerRecordsReply a;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(f.timeout_ms));
    auto s = StubFor(peer)->LedgerRecords(&ctx, q, &a);
    if (!s.ok()) Fail(cmd, absl::UnavailableError(absl::StrCat(peer, ": ", net::GrpcStatusText(s))), kExitRuntime);
    size = a.size();
    head = ToHex(AsBytes(a.head_hash()));
    for (const auto& e : a.records()) {
      auto r = store::ParseLedgerRecord(AsBytes(e.record()));
      if (!r.ok()) Fail(cmd, absl::DataLossError(absl::StrCat(peer, ": record ", from, ": ", r.status().message())), kExitRuntime);
      auto j = RecordJson(*r);
      const auto lines = EpochBodyLines(r->kind, AsBytes(e.body()));
      if (!e.body().empty()) j["body"] = lines;
      arr.push_back(j);
      rows.push_back({std::to_string(r->index), j["author"], std::to_string(r->epoch), r->kind,
                      j["payload_root"].get<std::string>().substr(0, 16), j["hash"].get<std::string>().substr(0, 16),
                      lines.empty() ? "" : absl::StrCat(lines.size(), r->kind == "epoch.membership" ? " members" : " experts")});
      for (const auto& l : lines) bodies.push_back(absl::StrCat("#", r->index, " ", r->kind, " v", r->epoch, ": ", l));
      ++from;
      ++got;
    }
    if (a.records().empty()) break;
  }
  if (f.json) {
    std::cout << nlohmann::json{{"peer", peer}, {"size", size}, {"head", head}, {"records", arr}}.dump(2) << std::endl;
  } else {
    std::cout << "ledger of " << peer << ": " << size << " records, head " << head << "\n"
              << FormatTable({"index", "author", "epoch", "kind", "payload root", "hash", "body"}, rows);
    for (const auto& l : bodies) std::cout << l << "\n";
    std::cout << std::flush;
  }
  return 0;
}

int RunRemoteVerify(const LedgerFlags& f) {
  nlohmann::json out = nlohmann::json::array();
  std::set<std::string> heads;
  bool ok = true;
  for (const auto& peer : f.peers) {
    swarm::v1::LedgerHeadRequest q;
    q.set_verify(true);
    swarm::v1::LedgerHeadReply a;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(f.timeout_ms));
    auto s = StubFor(peer)->LedgerHead(&ctx, q, &a);
    if (!s.ok()) {
      ok = false;
      out.push_back({{"peer", peer}, {"error", net::GrpcStatusText(s)}});
      if (!f.json) std::cout << peer << ": " << net::GrpcStatusText(s) << std::endl;
      continue;
    }
    const std::string head = ToHex(AsBytes(a.head_hash()));
    heads.insert(head);
    ok &= a.verified();
    out.push_back({{"peer", peer}, {"size", a.size()}, {"head", head}, {"verified", a.verified()},
                   {"report", a.verify_report()}, {"last_executed", a.last_executed()}, {"view", a.view()}});
    if (!f.json) {
      std::cout << peer << ": " << a.size() << " records, head " << head << " (" << a.verify_report()
                << "; last executed seq " << a.last_executed() << ", view " << a.view() << ")" << std::endl;
    }
  }
  const bool agree = ok && heads.size() == 1;
  if (f.json) {
    std::cout << nlohmann::json{{"members", out}, {"agree", agree}}.dump(2) << std::endl;
  } else if (f.peers.size() > 1) {
    std::cout << (agree ? "all " + std::to_string(f.peers.size()) + " members agree on head " + *heads.begin()
                        : std::string("members DISAGREE or failed verification"))
              << std::endl;
  }
  return agree ? 0 : kExitRuntime;
}

}  // namespace

void AddLedgerCommand(CLI::App& app) {
  auto f = std::make_shared<LedgerFlags>();
  auto* ledger = app.add_subcommand(
      "ledger",
      "The signed, hash-chained ledger (SQLite).\n\nExamples:\n"
      "  swarm keygen --out me.key\n"
      "  swarm ledger append --db ledger.db --key me.key --kind update --epoch 3 --payload grads.bin\n"
      "  swarm ledger show --db ledger.db\n"
      "  swarm ledger verify --db ledger.db     # exit 1 and the first bad record if tampered\n"
      "  swarm ledger append --peer 127.0.0.1:7001 --text hello    # through any committee member\n"
      "  swarm ledger verify --peer 127.0.0.1:7000 --peer 127.0.0.1:7001   # heads must agree\n"
      "  swarm ledger verify --cluster swarm-cluster    # every peer of `swarm up --dir swarm-cluster`\n"
      "  swarm ledger show --peer 127.0.0.1:7000    # records, epoch records with their member lists");
  ledger->require_subcommand(1);
  auto* append = ledger->add_subcommand("append", "Sign and append one record");
  append->add_option("--db", f->db, "Ledger database file (created if missing)");
  append->add_option("--peer", f->peers, "Append to the replicated ledger through this committee member (gRPC host:port)");
  append->add_option("--key", f->key, "Key file of the author (swarm keygen); with --peer, default: a new key");
  append->add_option("--timeout-ms", f->timeout_ms, "With --peer: give up (exit 1) without a quorum after this")->capture_default_str();
  append->add_option("--kind", f->kind, "Record kind (1-64 printable characters, no spaces)")->capture_default_str();
  append->add_option("--epoch", f->epoch, "Epoch number")->capture_default_str();
  append->add_option("--payload", f->payload_file, "File whose Merkle root (64 KiB chunks) is recorded");
  append->add_option("--text", f->text, "Inline payload text instead of --payload");
  append->add_flag("--json", f->json, "Print the record as JSON");
  append->callback([f] {
    UseEnvironmentCredentialsOrExit();
    const int code = RunAppend(*f);
    if (code) throw CLI::RuntimeError(code);
  });
  auto* show = ledger->add_subcommand("show", "List records");
  show->add_option("--db", f->db, "Ledger database file")->check(CLI::ExistingFile);
  show->add_option("--peer", f->peers, "A committee member: its replicated ledger, epoch records with their member list");
  show->add_option("--timeout-ms", f->timeout_ms, "With --peer: per-call deadline")->capture_default_str();
  show->add_option("--from", f->from, "First index")->capture_default_str();
  show->add_option("--count", f->count, "How many records")->capture_default_str();
  show->add_flag("--json", f->json, "Print JSON");
  show->callback([f] {
    UseEnvironmentCredentialsOrExit();
    RunShow(*f);
  });
  auto* verify = ledger->add_subcommand("verify", "Check every hash, link and signature; name the first bad record");
  verify->add_option("--db", f->db, "Ledger database file")->check(CLI::ExistingFile);
  verify->add_option("--peer", f->peers, "Committee member(s) to ask (repeatable): each checks its chain; all heads must agree");
  verify->add_option("--cluster", f->cluster, "Every peer of a `swarm up --dir DIR` cluster (DIR/cluster.json); members must agree");
  verify->add_option("--timeout-ms", f->timeout_ms, "Per-member deadline with --peer")->capture_default_str();
  verify->add_flag("--json", f->json, "Print JSON");
  verify->callback([f] {
    UseEnvironmentCredentialsOrExit();
    const int code = RunVerify(*f);
    if (code) throw CLI::RuntimeError(code);
  });
}

}  // namespace swarm::cli
