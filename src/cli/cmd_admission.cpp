// `swarm admission`: issuer keys, issuing grants by hand, inspecting grant files.
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <random>

#include <grpcpp/grpcpp.h>

#include "absl/strings/numbers.h"
#include "admission/grant.h"
#include "cli/commands.h"
#include "cli/credentials.h"
#include "crypto/hash.h"
#include "crypto/identity.h"
#include "net/dial.h"
#include "net/grpc_status.h"
#include "net/rpc.h"
#include "store/ledger_record.h"
#include "swarm/v1/consensus.grpc.pb.h"
#if SWARM_NODE_HAVE_CONSENSUS
#include "client/consensus_client.h"
#include "consensus/epoch.h"
#endif

namespace swarm::cli {
namespace {

constexpr uint64_t kTtlMsMax = 10ull * 365 * 24 * 3600 * 1000;  // ten years

uint64_t NowUnixMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// "90s", "30m", "24h", "7d" (a bare number is seconds) -> milliseconds.
StatusOr<uint64_t> ParseTtlMs(const std::string& flag, const std::string& text) {
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " '", text, "' ", why, " (examples: 90s, 30m, 24h, 7d)"));
  };
  if (text.empty()) return bad("is empty");
  uint64_t unit_ms = 1000;
  std::string digits = text;
  switch (text.back()) {
    case 's': unit_ms = 1000; digits.pop_back(); break;
    case 'm': unit_ms = 60'000; digits.pop_back(); break;
    case 'h': unit_ms = 3'600'000; digits.pop_back(); break;
    case 'd': unit_ms = 86'400'000; digits.pop_back(); break;
    default: break;
  }
  uint64_t n = 0;
  if (digits.empty() || !absl::SimpleAtoi(digits, &n)) return bad("is not a whole number with a unit");
  if (n == 0) return bad("is zero");
  if (n > kTtlMsMax / unit_ms) return bad("is longer than ten years");
  return n * unit_ms;
}

uint64_t RandomGrantSerial() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) | rd();
}

struct KeygenFlags {
  std::string out_dir;
  std::string scheme = "ml-dsa-65";
  bool force = false;
};

void RunIssuerKeygen(const KeygenFlags& f) {
  const std::string cmd = "admission issuer-keygen";
  auto scheme = crypto::SchemeFromName(f.scheme);
  if (!scheme.ok()) Fail(cmd, scheme.status(), kExitUsage);
  std::error_code ec;
  std::filesystem::create_directories(f.out_dir, ec);
  if (ec) Fail(cmd, absl::InvalidArgumentError("--out '" + f.out_dir + "': " + ec.message()), kExitUsage);
  auto id = crypto::Identity::Generate(*scheme);
  if (!id.ok()) Fail(cmd, id.status(), kExitRuntime);
  const std::string key_path = (std::filesystem::path(f.out_dir) / "issuer.key").string();
  const std::string pub_path = (std::filesystem::path(f.out_dir) / "issuer.pub").string();
  if (auto s = id->Save(key_path, f.force); !s.ok()) {
    Fail(cmd, s, s.code() == absl::StatusCode::kAlreadyExists ? kExitUsage : kExitRuntime);
  }
  if (auto s = admission::SaveIssuerKey(pub_path, admission::IssuerKeyOf(*id)); !s.ok()) {
    Fail(cmd, s, kExitRuntime);
  }
  std::cout << "wrote " << key_path << " (secret, mode 0600: keep it off the peers)\n"
            << "wrote " << pub_path << " (give it to every peer: admission.issuer_key_files)\n"
            << "issuer id " << id->PeerIdHex() << std::endl;
}

void RunPubkey(const std::string& key, const std::string& out) {
  auto id = crypto::Identity::Load(key);
  if (!id.ok()) Fail("admission pubkey", id.status(), kExitUsage);
  if (auto s = admission::SaveIssuerKey(out, admission::IssuerKeyOf(*id)); !s.ok()) {
    Fail("admission pubkey", s, kExitRuntime);
  }
  std::cout << "wrote " << out << " (public key of peer " << id->PeerIdHex() << ")" << std::endl;
}

struct IssueFlags {
  std::string issuer;
  std::string peer_key;
  std::string peer_pub;
  std::string swarm;
  std::string roles;
  double capacity = 1.0;
  std::string operator_name;
  std::string region;
  std::string address;
  std::string ttl = "24h";
  std::string out;
  uint64_t serial = 0;
};

void RunIssue(const IssueFlags& f) {
  const std::string cmd = "admission issue";
  if (f.peer_key.empty() == f.peer_pub.empty()) {
    Fail(cmd, absl::InvalidArgumentError("give exactly one of --peer-key and --peer-pub"), kExitUsage);
  }
  auto issuer = crypto::Identity::Load(f.issuer);
  if (!issuer.ok()) Fail(cmd, issuer.status(), kExitUsage);
  admission::IssuerKey subject;
  if (!f.peer_key.empty()) {
    auto peer = crypto::Identity::Load(f.peer_key);
    if (!peer.ok()) Fail(cmd, peer.status(), kExitUsage);
    subject = admission::IssuerKeyOf(*peer);
  } else {
    auto pub = admission::LoadIssuerKey(f.peer_pub);
    if (!pub.ok()) Fail(cmd, pub.status(), kExitUsage);
    subject = *pub;
  }
  auto roles = admission::RoleSetFromNames(f.roles);
  if (!roles.ok()) Fail(cmd, absl::InvalidArgumentError(absl::StrCat("--roles: ", roles.status().message())), kExitUsage);
  auto ttl = ParseTtlMs("--ttl", f.ttl);
  if (!ttl.ok()) Fail(cmd, ttl.status(), kExitUsage);

  admission::Grant g;
  g.swarm_id = f.swarm;
  admission::SetSubject(g, subject.scheme, subject.public_key);
  g.roles = *roles;
  g.capacity = static_cast<float>(f.capacity);
  g.operator_name = f.operator_name;
  g.region = f.region;
  g.address = f.address;
  const uint64_t now = NowUnixMs();
  // Five minutes of tolerance for clocks that run behind the issuer's.
  g.not_before_unix_ms = now - std::min<uint64_t>(now, 5 * 60'000);
  g.expires_unix_ms = now + *ttl;
  g.serial = f.serial != 0 ? f.serial : RandomGrantSerial();
  auto sg = admission::IssueGrant(*issuer, g);
  if (!sg.ok()) Fail(cmd, sg.status(), kExitUsage);
  if (auto s = admission::SaveGrant(f.out, *sg); !s.ok()) Fail(cmd, s, kExitRuntime);
  g.issuer = issuer->peer_id();
  std::cout << "wrote " << f.out << "\n" << admission::DescribeGrant(g);
}

void RunShow(const std::string& file, const std::vector<std::string>& issuer_pubs,
             const std::string& swarm) {
  const std::string cmd = "admission show";
  auto sg = admission::LoadGrant(file);
  if (!sg.ok()) Fail(cmd, sg.status(), kExitUsage);
  auto g = admission::DecodeGrant(sg->body);
  if (!g.ok()) {
    Fail(cmd, absl::InvalidArgumentError(absl::StrCat("grant file '", file, "': ", g.status().message())),
         kExitUsage);
  }
  std::cout << admission::DescribeGrant(*g);
  std::cout << "signature:  " << sg->signature.size() << " bytes\n";
  if (issuer_pubs.empty()) {
    std::cout << "verified:   not checked (give --issuer-pub FILE to check the signature)" << std::endl;
    return;
  }
  std::vector<admission::IssuerKey> keys;
  for (const std::string& p : issuer_pubs) {
    auto k = admission::LoadIssuerKey(p);
    if (!k.ok()) Fail(cmd, k.status(), kExitUsage);
    keys.push_back(*k);
  }
  admission::GrantVerifier verifier(swarm.empty() ? g->swarm_id : swarm, std::move(keys));
  auto v = verifier.Verify(admission::EncodeSignedGrant(*sg), NowUnixMs());
  if (v.ok()) {
    std::cout << "verified:   yes (issuer " << ToHex(ByteSpan(g->issuer).first(8)) << ", swarm "
              << verifier.swarm_id() << ", valid now)" << std::endl;
    return;
  }
  std::cout << "verified:   NO — " << v.status().message() << std::endl;
  throw CLI::RuntimeError(kExitRuntime);
}

struct CommitFlags {
  std::string issuer;
  std::vector<std::string> peers;
  std::vector<std::string> grants;
  std::vector<std::string> revoke;
  int64_t timeout_ms = 30000;
};

#if SWARM_NODE_HAVE_CONSENSUS
// The last committed epoch.admission record of `peer`'s ledger (version 0 and
// an empty set when none), read with Pbft.LedgerRecords. The record must be
// authored by `issuer_id` or another issuer: its body hash is checked here,
// the author by the committee when it was committed.
struct CommittedSet {
  uint64_t version = 0;
  node::AdmissionEpoch set;
};
StatusOr<CommittedSet> ReadCommittedAdmission(const std::string& peer, int64_t timeout_ms) {
  net::DialOptions o;
  o.net.message_size_bytes_max = 64 << 20;
  auto stub = swarm::v1::Pbft::NewStub(net::DialOrUnavailable(peer, o));
  CommittedSet out;
  for (uint64_t from = 0;;) {
    swarm::v1::LedgerRecordsRequest q;
    q.set_from(from);
    q.set_count(256);
    swarm::v1::LedgerRecordsReply a;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
    auto s = stub->LedgerRecords(&ctx, q, &a);
    if (!s.ok()) return absl::UnavailableError(absl::StrCat(peer, ": ", net::GrpcStatusText(s)));
    for (const auto& e : a.records()) {
      auto r = store::ParseLedgerRecord(AsBytes(e.record()));
      if (!r.ok()) return absl::DataLossError(absl::StrCat(peer, ": record ", from, ": ", r.status().message()));
      ++from;
      if (r->kind != node::kEpochAdmissionKind) continue;
      if (node::EpochRoot(AsBytes(e.body())) != r->payload_root) {
        return absl::DataLossError(absl::StrCat(peer, ": epoch.admission record ", r->index,
                                                ": body does not hash to its payload_root"));
      }
      auto set = node::ParseAdmissionEpoch(AsBytes(e.body()));
      if (!set.ok()) return absl::DataLossError(absl::StrCat(peer, ": record ", r->index, ": ", set.status().message()));
      out.version = r->epoch;
      out.set = *std::move(set);
    }
    if (a.records().empty() || from >= a.size()) break;
  }
  return out;
}

void RunCommit(const CommitFlags& f) {
  const std::string cmd = "admission commit";
  UseEnvironmentCredentialsOrExit();  // the calls are signed with $SWARM_CREDENTIALS (the record by the issuer)
  auto issuer = crypto::Identity::Load(f.issuer);
  if (!issuer.ok()) Fail(cmd, issuer.status(), kExitUsage);
  if (f.grants.empty() && f.revoke.empty()) {
    Fail(cmd, absl::InvalidArgumentError("nothing to commit: give --grant FILE and/or --revoke PEER_ID"), kExitUsage);
  }
  auto current = ReadCommittedAdmission(f.peers.front(), f.timeout_ms);
  if (!current.ok()) Fail(cmd, current.status(), kExitRuntime);
  node::AdmissionEpoch next = current->set;
  for (const std::string& file : f.grants) {
    auto sg = admission::LoadGrant(file);
    if (!sg.ok()) Fail(cmd, sg.status(), kExitUsage);
    auto g = admission::DecodeGrant(sg->body);
    if (!g.ok()) Fail(cmd, absl::InvalidArgumentError(absl::StrCat("--grant '", file, "': ", g.status().message())), kExitUsage);
    if (g->issuer != issuer->peer_id()) {
      Fail(cmd, absl::InvalidArgumentError(absl::StrCat("--grant '", file, "': grant field 'issuer' ",
                                                        ToHex(ByteSpan(g->issuer)).substr(0, 16),
                                                        " is not --issuer ", issuer->PeerIdHex().substr(0, 16))),
           kExitUsage);
    }
    next.grants[crypto::Sha3_256(admission::EncodeSignedGrant(*sg))] = g->subject;
  }
  for (const std::string& hex : f.revoke) {
    auto raw = FromHex(hex);
    if (!raw.ok() || raw->size() != 32) {
      Fail(cmd, absl::InvalidArgumentError(absl::StrCat("--revoke '", hex, "': not a 64-hex peer id")), kExitUsage);
    }
    node::Hash32 id{};
    std::copy(raw->begin(), raw->end(), id.begin());
    next.revoked.insert(id);
    std::erase_if(next.grants, [&](const auto& kv) { return kv.second == id; });
  }
  auto body = node::EncodeAdmissionEpoch(next);
  if (!body.ok()) Fail(cmd, body.status(), kExitUsage);
  node::LedgerAppendSpec spec;
  spec.kind = node::kEpochAdmissionKind;
  spec.epoch = current->version + 1;
  spec.payload_root = node::EpochRoot(*body);
  spec.body = *body;
  node::CommitteeClientOptions o;
  o.members = f.peers;
  o.timeout = Millis(f.timeout_ms);
  auto done = node::AppendToCommittee(*issuer, spec, o);
  if (!done.ok()) Fail(cmd, done.status(), kExitRuntime);
  std::cout << "committed epoch.admission version " << spec.epoch << " at ledger index " << done->reply.index()
            << ": " << next.grants.size() << " grant(s), " << next.revoked.size() << " revoked (via " << done->via
            << ")" << std::endl;
}
#else
void RunCommit(const CommitFlags&) {
  Fail("admission commit", absl::UnimplementedError("needs the consensus module (SWARM_MODULES)"), kExitUsage);
}
#endif

}  // namespace

void AddAdmissionCommand(CLI::App& app) {
  auto* adm = app.add_subcommand(
      "admission",
      "Admission grants: who may join a swarm and with which roles.\n\n"
      "A grant is a file signed by an issuer saying: peer P (its public key) is admitted to swarm S\n"
      "with roles R, capacity C, operator O, region G, address A, valid from..until. Peers trust the\n"
      "issuers listed in admission.issuer_key_files and refuse calls from peers without a valid grant.\n"
      "`swarm up` and `swarm train` issue grants for the local swarm they start; use these commands\n"
      "to run a swarm across machines by hand.\n\n"
      "Roles: trainer, expert_host, aggregator, committee, evaluator, island, jobs_worker, queen,\n"
      "client, observer.\n\n"
      "Example:\n"
      "  swarm admission issuer-keygen --out issuer/\n"
      "  swarm keygen --out peer.key                    # on the peer\n"
      "  swarm admission pubkey --key peer.key --out peer.pub\n"
      "  swarm admission issue --issuer issuer/issuer.key --peer-pub peer.pub --swarm prod \\\n"
      "      --roles trainer,observer --operator alice --address 10.0.0.5:7000 --ttl 7d --out peer.grant\n"
      "  swarm admission show peer.grant --issuer-pub issuer/issuer.pub\n"
      "  # peer config: admission.swarm_id = \"prod\", admission.issuer_key_files = [\"issuer.pub\"],\n"
      "  #              admission.grant_file = \"peer.grant\", node.key_file = \"peer.key\"\n\n"
      "File formats and errors: docs/security.md, section \"Admission grants\".");
  adm->require_subcommand(1);

  auto kf = std::make_shared<KeygenFlags>();
  auto* keygen = adm->add_subcommand(
      "issuer-keygen",
      "Create an issuer: DIR/issuer.key (secret identity key, mode 0600) and DIR/issuer.pub\n"
      "(its public key, one text line, to list in every peer's admission.issuer_key_files).\n\n"
      "Example:\n  swarm admission issuer-keygen --out issuer/");
  keygen->add_option("--out", kf->out_dir, "Folder to write issuer.key and issuer.pub into")->required();
  keygen->add_option("--scheme", kf->scheme, "ml-dsa-65 | ml-dsa-87 | hybrid")->capture_default_str();
  keygen->add_flag("--force", kf->force, "Replace an existing issuer.key");
  keygen->callback([kf] { RunIssuerKeygen(*kf); });

  auto pk_key = std::make_shared<std::string>();
  auto pk_out = std::make_shared<std::string>();
  auto* pubkey = adm->add_subcommand(
      "pubkey",
      "Write the public half of a peer key file (input of `issue --peer-pub`), so the secret key\n"
      "never leaves the peer.\n\nExample:\n  swarm admission pubkey --key peer.key --out peer.pub");
  pubkey->add_option("--key", *pk_key, "Peer key file (swarm keygen)")->required();
  pubkey->add_option("--out", *pk_out, "Public-key file to write")->required();
  pubkey->callback([pk_key, pk_out] { RunPubkey(*pk_key, *pk_out); });

  auto f = std::make_shared<IssueFlags>();
  auto* issue = adm->add_subcommand(
      "issue",
      "Sign a grant for one peer and write it to --out.\n\n"
      "The grant starts 5 minutes before now (tolerance for slow clocks) and lasts --ttl.\n"
      "Capacity is the peer's weight on the expert ring (0 < C <= 64); operator names who runs the\n"
      "machine (placement caps the share of experts one operator owns); address is the host:port\n"
      "the peer serves on (other peers bind its id to that address only; \"\" = any).\n\n"
      "Example:\n"
      "  swarm admission issue --issuer issuer/issuer.key --peer-key peer.key --swarm prod \\\n"
      "      --roles expert_host,observer --capacity 2 --operator alice --region eu \\\n"
      "      --address 10.0.0.5:7000 --ttl 24h --out peer.grant");
  issue->add_option("--issuer", f->issuer, "Issuer key file (issuer-keygen's issuer.key)")->required();
  issue->add_option("--peer-key", f->peer_key, "The admitted peer's key file (only its public key is used)");
  issue->add_option("--peer-pub", f->peer_pub, "The admitted peer's public-key file (admission pubkey)");
  issue->add_option("--swarm", f->swarm, "Swarm id the grant admits to (the peers' admission.swarm_id)")->required();
  issue->add_option("--roles", f->roles, "Comma-separated roles, e.g. trainer,observer")->required();
  issue->add_option("--capacity", f->capacity, "Ring weight of an expert host, (0, 64]")->capture_default_str();
  issue->add_option("--operator", f->operator_name, "Who runs the machine (1..64 printable characters)")->required();
  issue->add_option("--region", f->region, "Region label (optional)");
  issue->add_option("--address", f->address, "host:port the peer serves on (optional)");
  issue->add_option("--ttl", f->ttl, "Validity: 90s, 30m, 24h, 7d")->capture_default_str();
  issue->add_option("--serial", f->serial, "Serial number (default: random)");
  issue->add_option("--out", f->out, "Grant file to write")->required();
  issue->callback([f] { RunIssue(*f); });

  auto file = std::make_shared<std::string>();
  auto pubs = std::make_shared<std::vector<std::string>>();
  auto swarm = std::make_shared<std::string>();
  auto* show = adm->add_subcommand(
      "show",
      "Print a grant file; with --issuer-pub, also whether it verifies now (signature, issuer,\n"
      "swarm, validity window). Exit code 1 when it does not verify.\n\n"
      "Example:\n  swarm admission show peer.grant --issuer-pub issuer/issuer.pub --swarm prod");
  show->add_option("file", *file, "Grant file")->required();
  show->add_option("--issuer-pub", *pubs, "Trusted issuer public-key file (repeatable)");
  show->add_option("--swarm", *swarm, "Swarm id to check against (default: the grant's own)");
  show->callback([file, pubs, swarm] { RunShow(*file, *pubs, *swarm); });

  auto cf = std::make_shared<CommitFlags>();
  auto* commit = adm->add_subcommand(
      "commit",
      "Commit grants (and revocations) to a running committee as an epoch.admission record.\n\n"
      "The record holds the whole admitted set: the last committed one (read from --peer) plus\n"
      "--grant files, minus --revoke peer ids. It is signed by the issuer key and the committee\n"
      "refuses one authored by anyone else. Once committed, peers admit only the grants it names\n"
      "(docs/security.md \"Committed admission\"); before the first one, any grant the issuer signed.\n"
      "Calls are signed with $SWARM_CREDENTIALS (e.g. <swarm up dir>/admission).\n\n"
      "Example:\n"
      "  swarm admission commit --issuer issuer/issuer.key --peer 127.0.0.1:7000 \\\n"
      "      --grant n0/admission.grant --grant n1/admission.grant --revoke 3fa2...");
  commit->add_option("--issuer", cf->issuer, "Issuer key file (issuer-keygen's issuer.key)")->required();
  commit->add_option("--peer", cf->peers, "Committee member gRPC address (repeatable)")->required();
  commit->add_option("--grant", cf->grants, "Grant file to admit (repeatable)");
  commit->add_option("--revoke", cf->revoke, "Peer id (64 hex) whose grants are revoked (repeatable)");
  commit->add_option("--timeout-ms", cf->timeout_ms, "Overall deadline")->capture_default_str();
  commit->callback([cf] { RunCommit(*cf); });
}

}  // namespace swarm::cli
