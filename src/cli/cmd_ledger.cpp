// `swarm ledger append|show|verify --db FILE` (a local ledger file) and
// `swarm ledger append|verify --peer ADDR` (the PBFT-replicated ledger of a
// committee, node/consensus_extension.h).
//
// Remote append: read the member's head, sign a record on top of it, submit it
// through that member (a backup relays it to the primary), re-sign and retry
// when another append won the race ("stale head"), fail over to the other
// committee members when the member does not answer, then wait until f+1
// members (at least one honest) report the same record hash at that index.
// No quorum before --timeout-ms: exit 1 with what was seen.
#include <chrono>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <set>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "crypto/identity.h"
#include "crypto/merkle.h"
#include "net/rpc.h"
#include "store/ledger.h"
#include "store/signers.h"
#include "swarm/v1/consensus.grpc.pb.h"

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

int RunShow(const LedgerFlags& f) {
  auto ledger = OpenLedger("ledger show", f.db);
  auto head = ledger->Head();
  if (!head.ok()) Fail("ledger show", head.status(), kExitRuntime);
  nlohmann::json arr = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows;
  const uint64_t from = static_cast<uint64_t>(std::max<int64_t>(0, f.from));
  for (uint64_t i = from; i < head->size && i < from + static_cast<uint64_t>(f.count); ++i) {
    auto r = ledger->Get(i);
    if (!r.ok()) Fail("ledger show", r.status(), kExitRuntime);
    auto j = RecordJson(*r);
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
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  return swarm::v1::Pbft::NewStub(grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
}

void SetDeadline(grpc::ClientContext& ctx, Clock::time_point until, int64_t cap_ms) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::milliseconds(std::max<int64_t>(1, std::min<int64_t>(left, cap_ms))));
}

store::Digest256 ToDigest(const std::string& s) {
  store::Digest256 d{};
  if (s.size() == d.size()) std::copy(s.begin(), s.end(), d.begin());
  return d;
}

StatusOr<store::LedgerRecord> SignRecord(const crypto::Identity& id, const LedgerFlags& f,
                                         const crypto::MerkleHash& root, uint64_t index,
                                         const store::Digest256& prev) {
  store::LedgerRecord r;
  r.index = index;
  r.signature_scheme = crypto::SchemeName(id.scheme());
  r.public_key = id.public_key();
  r.author_id = store::LedgerAuthorId(r.signature_scheme, r.public_key);
  r.epoch = f.epoch;
  r.kind = f.kind;
  std::copy(root.begin(), root.end(), r.payload_root.begin());
  r.prev_hash = prev;
  SWARM_ASSIGN_OR_RETURN(r.signature, id.Sign(store::LedgerSigningBytes(r)));
  SWARM_RETURN_IF_ERROR(store::ValidateLedgerFields(r));  // kind, lengths
  return r;
}

int RunRemoteAppend(const LedgerFlags& f) {
  const std::string cmd = "ledger append";
  const Bytes payload = ReadPayload(f);
  auto id = LoadOrMakeIdentity(f);
  if (!id.ok()) Fail(cmd, id.status(), kExitUsage);
  auto root = crypto::MerkleRootOfBlob(payload, kPayloadChunkBytes);
  if (!root.ok()) Fail(cmd, root.status(), kExitRuntime);
  const auto until = Clock::now() + std::chrono::milliseconds(f.timeout_ms);
  std::vector<std::string> members = f.peers;  // tried in order; the committee is appended when learned
  std::vector<std::string> committee;
  std::string last_error = "no member answered";
  swarm::v1::LedgerSubmitReply done;
  bool executed = false;
  std::string via;
  for (size_t attempt = 0; !executed && Clock::now() < until; ++attempt) {
    const std::string peer = members[attempt % members.size()];  // a copy: members grows below
    auto stub = StubFor(peer);
    swarm::v1::LedgerHeadRequest hreq;
    swarm::v1::LedgerHeadReply head;
    grpc::ClientContext hctx;
    SetDeadline(hctx, until, 3000);
    if (auto s = stub->LedgerHead(&hctx, hreq, &head); !s.ok()) {
      last_error = absl::StrCat(peer, ": ", net::GrpcStatusText(s));
      if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION) Fail(cmd, absl::FailedPreconditionError(last_error), kExitRuntime);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    if (committee.empty()) {
      committee.assign(head.committee().begin(), head.committee().end());
      for (const auto& a : committee) {
        if (std::find(members.begin(), members.end(), a) == members.end()) members.push_back(a);
      }
    }
    auto rec = SignRecord(*id, f, *root, head.size(), ToDigest(head.head_hash()));
    if (!rec.ok()) Fail(cmd, rec.status(), kExitUsage);
    swarm::v1::LedgerSubmitRequest sreq;
    const Bytes enc = store::EncodeLedgerRecord(*rec);
    sreq.set_record(enc.data(), enc.size());
    sreq.set_client_seq(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count()));
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
    sreq.set_wait_ms(static_cast<uint32_t>(std::clamp<int64_t>(left, 1, 10000)));
    grpc::ClientContext sctx;
    SetDeadline(sctx, until, 12000);
    swarm::v1::LedgerSubmitReply reply;
    if (auto s = stub->Submit(&sctx, sreq, &reply); !s.ok()) {
      last_error = absl::StrCat(peer, ": ", net::GrpcStatusText(s));
      continue;  // next member: a view change may be under way
    }
    if (!reply.applied()) {
      last_error = absl::StrCat(peer, ": ordered at seq ", reply.seq(), " but refused: ", reply.error());
      if (reply.error().rfind("stale head", 0) == 0) continue;  // another append won: re-sign
      Fail(cmd, absl::FailedPreconditionError(last_error), kExitRuntime);
    }
    done = reply;
    via = peer;
    executed = true;
  }
  if (!executed) {
    Fail(cmd, absl::DeadlineExceededError(absl::StrCat("no committed append within ", f.timeout_ms,
                                                       " ms; last error: ", last_error)), kExitRuntime);
  }
  // f+1 members (one of them honest) must report this record at this index.
  const size_t n = committee.size();
  const size_t need = n >= 4 ? (n - 1) / 3 + 1 : 1;
  std::set<std::string> agree = {via};
  std::map<std::string, std::string> seen;
  while (agree.size() < need && Clock::now() < until) {
    for (const auto& m : committee) {
      if (agree.count(m)) continue;
      swarm::v1::LedgerHeadRequest q;
      q.set_with_record(true);
      q.set_record_index(done.index());
      swarm::v1::LedgerHeadReply a;
      grpc::ClientContext ctx;
      SetDeadline(ctx, until, 1000);
      auto s = StubFor(m)->LedgerHead(&ctx, q, &a);
      if (!s.ok()) {
        seen[m] = net::GrpcStatusText(s);
      } else if (!a.has_record()) {
        seen[m] = absl::StrCat("has ", a.size(), " records");
      } else if (a.record_hash() == done.record_hash()) {
        agree.insert(m);
      } else {
        seen[m] = absl::StrCat("DIFFERENT record hash ", ToHex(AsBytes(a.record_hash())));
      }
      if (agree.size() >= need) break;
    }
    if (agree.size() < need) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (agree.size() < need) {
    std::string detail;
    for (const auto& [m, why] : seen) detail += absl::StrCat("; ", m, ": ", why);
    Fail(cmd, absl::DeadlineExceededError(absl::StrCat("record ", done.index(), " executed by ", via, " but only ",
                                                       agree.size(), " of the ", need, " members needed confirmed it",
                                                       detail)), kExitRuntime);
  }
  const std::string hash = ToHex(AsBytes(done.record_hash()));
  if (f.json) {
    std::cout << nlohmann::json{{"index", done.index()}, {"hash", hash}, {"seq", done.seq()},
                                {"view", done.view()}, {"via", via}, {"confirmed_by", agree},
                                {"ledger_size", done.ledger_size()}, {"head", ToHex(AsBytes(done.head_hash()))}}
                     .dump(2)
              << std::endl;
  } else {
    std::cout << "appended record " << done.index() << " hash " << hash << " (PBFT seq " << done.seq() << ", view "
              << done.view() << ", via " << via << ", confirmed by " << agree.size() << " of " << n << " members)"
              << std::endl;
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
      "  swarm ledger verify --cluster swarm-cluster    # every peer of `swarm up --dir swarm-cluster`");
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
    const int code = RunAppend(*f);
    if (code) throw CLI::RuntimeError(code);
  });
  auto* show = ledger->add_subcommand("show", "List records");
  show->add_option("--db", f->db, "Ledger database file")->required()->check(CLI::ExistingFile);
  show->add_option("--from", f->from, "First index")->capture_default_str();
  show->add_option("--count", f->count, "How many records")->capture_default_str();
  show->add_flag("--json", f->json, "Print JSON");
  show->callback([f] { RunShow(*f); });
  auto* verify = ledger->add_subcommand("verify", "Check every hash, link and signature; name the first bad record");
  verify->add_option("--db", f->db, "Ledger database file")->check(CLI::ExistingFile);
  verify->add_option("--peer", f->peers, "Committee member(s) to ask (repeatable): each checks its chain; all heads must agree");
  verify->add_option("--cluster", f->cluster, "Every peer of a `swarm up --dir DIR` cluster (DIR/cluster.json); members must agree");
  verify->add_option("--timeout-ms", f->timeout_ms, "Per-member deadline with --peer")->capture_default_str();
  verify->add_flag("--json", f->json, "Print JSON");
  verify->callback([f] {
    const int code = RunVerify(*f);
    if (code) throw CLI::RuntimeError(code);
  });
}

}  // namespace swarm::cli
