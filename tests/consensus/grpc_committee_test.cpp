// A committee of 4 ConsensusDrivers over real loopback gRPC (tests/
// consensus/local_committee.h): appends through a backup, a stopped primary and the
// view change after it, a restarted member catching up from its durable
// state plus state transfer, and identical ledger heads everywhere.
#include <atomic>
#include <filesystem>
#include <future>
#include <iostream>
#include <thread>

#include <gtest/gtest.h>

#include "consensus/canonical.h"
#include "consensus/codec.h"
#include "consensus/local_committee.h"
#include "consensus/ml_dsa_authenticator.h"
#include "consensus/ml_dsa_record_signer.h"
#include "crypto/identity.h"
#include "store/signers.h"

namespace swarm::node {
namespace {

using Clock = std::chrono::steady_clock;

consensus::ReplicaConfig FastConfig() {
  consensus::ReplicaConfig c;
  c.checkpoint_interval = 2;
  c.log_window = 4;
  c.request_timeout = Millis(400);
  c.view_change_timeout = Millis(400);
  c.resend_interval = Millis(50);
  c.status_interval = Millis(100);
  return c;
}

std::unique_ptr<LocalCommittee> MakeCommittee(const std::string& root) {
  LocalCommitteeOptions o;
  o.n = 4;
  o.replica = FastConfig();
  o.state_root = root;
  const auto keys = consensus::KeyedHashAuthenticator::DeriveKeys(4, 42);
  o.make_auth = [keys](uint32_t i) {
    return std::make_unique<consensus::KeyedHashAuthenticator>(consensus::ReplicaId(i), keys);
  };
  return std::move(LocalCommittee::Start(std::move(o))).value();
}

// Appends one record through `address` like `swarm ledger append --peer`.
StatusOr<swarm::v1::LedgerSubmitReply> AppendVia(const std::string& address, store::RecordSigner& signer,
                                                 uint64_t client_seq) {
  auto stub = swarm::v1::Pbft::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  for (int attempt = 0; attempt < 5; ++attempt) {
    grpc::ClientContext hctx;
    hctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    swarm::v1::LedgerHeadReply head;
    auto s = stub->LedgerHead(&hctx, swarm::v1::LedgerHeadRequest(), &head);
    if (!s.ok()) return absl::UnavailableError(s.error_message());
    store::LedgerRecord r;
    r.index = head.size();
    r.signature_scheme = signer.Scheme();
    r.public_key = signer.PublicKey();
    r.author_id = store::LedgerAuthorId(r.signature_scheme, r.public_key);
    r.kind = "test";
    r.payload_root.fill(static_cast<uint8_t>(client_seq));
    std::copy(head.head_hash().begin(), head.head_hash().end(), r.prev_hash.begin());
    SWARM_ASSIGN_OR_RETURN(r.signature, signer.Sign(store::LedgerSigningBytes(r)));
    swarm::v1::LedgerSubmitRequest req;
    const Bytes enc = store::EncodeLedgerRecord(r);
    req.set_record(enc.data(), enc.size());
    req.set_client_seq(client_seq * 10 + static_cast<uint64_t>(attempt));
    req.set_wait_ms(8000);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    swarm::v1::LedgerSubmitReply reply;
    s = stub->Submit(&ctx, req, &reply);
    if (!s.ok()) return absl::UnavailableError(s.error_message());
    if (reply.applied()) return reply;
    if (reply.error().rfind("stale head", 0) != 0) return absl::InternalError(reply.error());
  }
  return absl::AbortedError("stale head 5 times");
}

bool Eventually(double seconds, const std::function<bool()>& pred) {
  const auto until = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pred();
}

// One line per member: view, primary, executed, stable checkpoint, pending
// requests, view changes, state transfers, entries fetched, drops (for failure messages).
std::string Describe(LocalCommittee& c) {
  std::string out;
  for (uint32_t m = 0; m < 4; ++m) {
    if (!c.driver(m)) {
      out += "\n  m" + std::to_string(m) + ": stopped";
      continue;
    }
    const auto st = c.driver(m)->status();
    out += "\n  m" + std::to_string(m) + ": view " + std::to_string(st.view) + (st.in_view_change ? " (vc)" : "") +
           " primary " + std::to_string(st.primary) + " executed " + std::to_string(st.last_committed) +
           " stable " + std::to_string(st.stable_checkpoint) + " pending " + std::to_string(st.pending_requests) +
           " view_changes " + std::to_string(st.counters.view_changes_started) + " new_views " +
           std::to_string(st.counters.new_views_installed) + " state_transfers " +
           std::to_string(st.counters.state_transfers) + " fetched " + std::to_string(st.counters.entries_fetched) +
           " ledger " + (c.ledger(m) ? std::to_string(c.ledger(m)->Head().size) : "-") + " send_failures " + std::to_string(st.send_failures) +
           " dropped";
    for (size_t k = 0; k < st.counters.dropped.size(); ++k) {
      if (st.counters.dropped[k]) {
        out += std::string(" ") + consensus::DropReasonName(static_cast<consensus::DropReason>(k)) + "=" +
               std::to_string(st.counters.dropped[k]);
      }
    }
  }
  return out;
}

std::string TempRoot(const std::string& tag) {
  auto dir = std::filesystem::temp_directory_path() / ("swarm-pbft-" + tag + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return dir.string();
}

TEST(PbftGrpcCommittee, AppendsThroughABackupReachEveryMember) {
  auto c = MakeCommittee("");
  auto signer = std::move(testing::MlDsaRecordSigner::Generate()).value();
  const auto appends_started = Clock::now();
  for (uint64_t i = 1; i <= 6; ++i) {
    auto r = AppendVia(c->addresses()[1 + i % 3], *signer, i);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->index(), i - 1);
  }
  ASSERT_TRUE(Eventually(5, [&] {
    for (uint32_t m = 0; m < 4; ++m) {
      if (c->ledger(m)->Head().size != 6) return false;
    }
    return true;
  }));
  for (uint32_t m = 1; m < 4; ++m) EXPECT_EQ(c->ledger(m)->Head().hash, c->ledger(0)->Head().hash);
  EXPECT_GE(c->driver(0)->status().stable_checkpoint, 2u);
  // Commit latency is observed at every member (pre-prepare seen → executed),
  // not only at the one a client submitted through. Each sample is a real
  // interval inside this test's appends: positive, and no longer than the
  // time since the first append began.
  const double appends_seconds = std::chrono::duration<double>(Clock::now() - appends_started).count();
  for (uint32_t m = 0; m < 4; ++m) {
    const auto st = c->driver(m)->status();
    EXPECT_GE(st.commit_latency_samples, 1u) << "member " << m;
    EXPECT_GT(st.commit_latency_seconds_sum, 0.0) << "member " << m;
    EXPECT_LE(st.commit_latency_seconds_sum, st.commit_latency_samples * appends_seconds) << "member " << m;
  }
}

TEST(PbftGrpcCommittee, MessagesFromAMemberWhoseKeyIsNotKnownYetCountAsUnknownKeyNotBadSignature) {
  LocalCommitteeOptions o;
  o.n = 4;
  o.replica = FastConfig();
  const auto keys = consensus::KeyedHashAuthenticator::DeriveKeys(4, 42);
  o.make_auth = [keys](uint32_t i) {
    return std::make_unique<consensus::KeyedHashAuthenticator>(consensus::ReplicaId(i), keys);
  };
  auto learned = std::make_shared<std::atomic<bool>>(false);
  // Member 3 learns member 0's key (the primary's) only later, as at committee formation.
  o.signer_known = [learned](uint32_t member, uint32_t signer) { return member != 3 || signer != 0 || learned->load(); };
  auto c = std::move(LocalCommittee::Start(std::move(o))).value();
  auto signer = std::move(testing::MlDsaRecordSigner::Generate()).value();
  for (uint64_t i = 1; i <= 3; ++i) {
    auto r = AppendVia(c->addresses()[1], *signer, i);
    ASSERT_TRUE(r.ok()) << r.status();
  }
  ASSERT_TRUE(Eventually(5, [&] { return c->driver(3)->status().unknown_key_drops > 0; }));
  const auto bad = static_cast<size_t>(consensus::DropReason::kBadSignature);
  EXPECT_EQ(c->driver(3)->status().counters.dropped[bad], 0u);
  learned->store(true);
  // Once the key is known member 3 catches up (resends, state transfer).
  for (uint64_t i = 4; i <= 6; ++i) ASSERT_TRUE(AppendVia(c->addresses()[2], *signer, i).ok());
  EXPECT_TRUE(Eventually(10, [&] { return c->ledger(3)->Head().size == 6; }))
      << "member 3 has " << c->ledger(3)->Head().size;
  EXPECT_EQ(c->ledger(3)->Head().hash, c->ledger(0)->Head().hash);
}

TEST(PbftGrpcCommittee, ViewChangeAfterThePrimaryStopsAndRestartedMemberCatchesUp) {
  const std::string root = TempRoot("vc");
  auto c = MakeCommittee(root);
  auto signer = std::move(testing::MlDsaRecordSigner::Generate()).value();
  for (uint64_t i = 1; i <= 3; ++i) ASSERT_TRUE(AppendVia(c->addresses()[2], *signer, i).ok());

  c->StopMember(0);  // the primary of view 0
  for (uint64_t i = 4; i <= 9; ++i) {
    auto r = AppendVia(c->addresses()[1 + i % 3], *signer, i);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_GE(r->view(), 1u);
  }
  EXPECT_GE(c->driver(1)->status().view, 1u);
  EXPECT_GE(c->driver(1)->status().counters.new_views_installed, 1u);

  // Restart on the same port and state directory: recovers, then catches up.
  ASSERT_TRUE(c->RestartMember(0).ok());
  ASSERT_TRUE(Eventually(10, [&] { return c->ledger(0)->Head().size == 9; }))
      << "size " << c->ledger(0)->Head().size << " last executed " << c->driver(0)->status().last_committed
      << Describe(*c);
  // It caught up by state transfer or fetched entries. The driver publishes
  // its status at the end of the step that applied the records, so the
  // ledger may be ahead of the status for a moment: wait (bounded) for it.
  ASSERT_TRUE(Eventually(5, [&] {
    const auto st = c->driver(0)->status();
    return st.counters.state_transfers + st.counters.entries_fetched >= 1;
  })) << "the restarted member reached size 9 without a state transfer or a fetched entry" << Describe(*c);
  auto after = AppendVia(c->addresses()[0], *signer, 10);
  ASSERT_TRUE(after.ok()) << after.status() << Describe(*c);
  ASSERT_TRUE(Eventually(5, [&] {
    for (uint32_t m = 0; m < 4; ++m) {
      if (c->ledger(m)->Head().size != 10) return false;
    }
    return true;
  }));
  for (uint32_t m = 1; m < 4; ++m) EXPECT_EQ(c->ledger(m)->Head().hash, c->ledger(0)->Head().hash);
  // The ledger file of the restarted member holds the same verified chain.
  c.reset();
  auto file = store::Ledger::Open(root + "/m0/ledger.db").value();
  EXPECT_TRUE(file->Verify()->ok);
  EXPECT_EQ(file->Head()->size, 10u);
  std::filesystem::remove_all(root);
}

// A flooder with a valid key of its own sends well-formed prepares that claim
// to come from member 2, signed with the flooder's ML-DSA key (so each costs
// a full verification and fails), as fast as it can over several
// connections, at every member. Honest appends still commit; the flood is
// cut per source (rate_limited) and its messages are counted as bad
// signatures, not taken for member 2's.
TEST(PbftGrpcCommittee, HonestAppendsCommitDuringAWrongSignatureFlood) {
  std::vector<crypto::Identity> ids;
  std::vector<Bytes> keys;
  for (int i = 0; i < 4; ++i) {
    ids.push_back(crypto::Identity::Generate(crypto::SignatureScheme::kMlDsa65).value());
    keys.push_back(ids.back().public_key());
  }
  LocalCommitteeOptions o;
  o.n = 4;
  o.replica = FastConfig();
  o.replica.request_timeout = Millis(2000);
  o.replica.view_change_timeout = Millis(2000);
  o.make_auth = [&ids, keys](uint32_t i) -> std::unique_ptr<consensus::Authenticator> {
    return consensus::MlDsaAuthenticator::Create(&ids[i].signer(), keys).value();
  };
  auto c = std::move(LocalCommittee::Start(std::move(o))).value();
  auto signer = std::move(testing::MlDsaRecordSigner::Generate()).value();

  // Baseline: appends with no flood.
  const auto t0 = Clock::now();
  for (uint64_t i = 1; i <= 5; ++i) ASSERT_TRUE(AppendVia(c->addresses()[1], *signer, i).ok());
  const double quiet_s = std::chrono::duration<double>(Clock::now() - t0).count() / 5;

  const auto outsider = crypto::Identity::Generate(crypto::SignatureScheme::kMlDsa65).value();
  swarm::v1::PbftBatch flood;
  for (uint64_t k = 0; k < 64; ++k) {
    consensus::Signed<consensus::Prepare> p;
    p.signer = consensus::ReplicaId(2);
    p.body.view = 0;
    p.body.seq = 1000 + k;
    p.body.digest.fill(static_cast<uint8_t>(k));
    p.signature = outsider.signer().Sign(consensus::CanonicalBytes(p.body)).value();
    const Bytes m = consensus::EncodeMessage(consensus::Message(p)).value();
    flood.add_messages(m.data(), m.size());
  }
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> sent{0}, refused{0};
  std::vector<std::thread> flooders;
  for (int t = 0; t < 4; ++t) {
    flooders.emplace_back([&, t] {
      auto stub = swarm::v1::Pbft::NewStub(
          grpc::CreateChannel(c->addresses()[t % 4], grpc::InsecureChannelCredentials()));
      while (!stop) {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
        swarm::v1::PbftAck ack;
        auto s = stub->Deliver(&ctx, flood, &ack);
        (s.ok() ? sent : refused) += 1;
      }
    });
  }
  // Appends start once the flood is past every member's burst (refusals seen).
  ASSERT_TRUE(Eventually(30, [&] { return refused.load() > 0; })) << sent.load() << " batches taken, none refused";
  const auto t1 = Clock::now();
  for (uint64_t i = 6; i <= 15; ++i) {
    auto r = AppendVia(c->addresses()[1 + i % 3], *signer, i);
    ASSERT_TRUE(r.ok()) << "append " << i << " during the flood: " << r.status();
  }
  const double flood_s = std::chrono::duration<double>(Clock::now() - t1).count() / 10;
  stop = true;
  for (auto& t : flooders) t.join();
  ASSERT_TRUE(Eventually(10, [&] {
    for (uint32_t m = 0; m < 4; ++m) {
      if (c->ledger(m)->Head().size != 15) return false;
    }
    return true;
  }));
  for (uint32_t m = 1; m < 4; ++m) EXPECT_EQ(c->ledger(m)->Head().hash, c->ledger(0)->Head().hash);
  uint64_t rate_limited = 0;
  for (uint32_t m = 0; m < 4; ++m) rate_limited += c->service(m)->refused("rate_limited");
  std::cout << "flood of wrong ML-DSA prepares: " << sent.load() << " batches of 64 taken, " << refused.load()
            << " refused (" << rate_limited << " rate_limited); honest append " << quiet_s * 1e3 << " ms quiet, "
            << flood_s * 1e3 << " ms during the flood\n";
  EXPECT_GT(rate_limited, 0u);
}

// LedgerHead(verify) walks the whole chain: callers share one cached report
// per head instead of each making the member re-verify.
TEST(PbftGrpcCommittee, LedgerHeadVerifyIsCachedPerHeadAndRateLimited) {
  const std::string root = TempRoot("verify");
  auto c = MakeCommittee(root);
  auto signer = std::move(testing::MlDsaRecordSigner::Generate()).value();
  for (uint64_t i = 1; i <= 3; ++i) ASSERT_TRUE(AppendVia(c->addresses()[1], *signer, i).ok());
  auto stub = swarm::v1::Pbft::NewStub(grpc::CreateChannel(c->addresses()[1], grpc::InsecureChannelCredentials()));
  auto verify = [&] {
    grpc::ClientContext ctx;
    swarm::v1::LedgerHeadRequest req;
    req.set_verify(true);
    swarm::v1::LedgerHeadReply reply;
    EXPECT_TRUE(stub->LedgerHead(&ctx, req, &reply).ok());
    return reply;
  };
  for (int i = 0; i < 20; ++i) {
    const auto r = verify();
    EXPECT_TRUE(r.verified()) << r.verify_report();
  }
  EXPECT_EQ(c->service(1)->verifications(), 1u);
  // A new head within the interval: the cached report, marked as such.
  ASSERT_TRUE(AppendVia(c->addresses()[1], *signer, 4).ok());
  const auto r = verify();
  EXPECT_NE(r.verify_report().find("verified at ledger size 3; verification is rate-limited"), std::string::npos)
      << r.verify_report();
  EXPECT_EQ(c->service(1)->verifications(), 1u);
  std::filesystem::remove_all(root);
}

TEST(PbftGrpcCommittee, MalformedBatchIsRefusedAndCounted) {
  auto c = MakeCommittee("");
  auto stub = swarm::v1::Pbft::NewStub(grpc::CreateChannel(c->addresses()[1], grpc::InsecureChannelCredentials()));
  swarm::v1::PbftBatch batch;
  batch.add_messages("\x01\x02garbage");
  grpc::ClientContext ctx;
  swarm::v1::PbftAck ack;
  auto s = stub->Deliver(&ctx, batch, &ack);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("messages[0]"), std::string::npos) << s.error_message();
  EXPECT_EQ(c->driver(1)->status().malformed_batches, 1u);

  // A record that does not parse is refused before ordering, naming the field.
  grpc::ClientContext ctx2;
  swarm::v1::LedgerSubmitRequest req;
  req.set_record("nope");
  req.set_client_seq(1);
  swarm::v1::LedgerSubmitReply reply;
  s = stub->Submit(&ctx2, req, &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("record"), std::string::npos);
}

}  // namespace
}  // namespace swarm::node
