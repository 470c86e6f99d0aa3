#include "client/consensus_client.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <thread>

#include "crypto/hash.h"
#include "net/rpc.h"
#include "store/signers.h"

namespace swarm::node {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr auto kRetryPause = std::chrono::milliseconds(200);

// Unsigned: a caller that has an identity passes options.channel_to
// (Node::ChannelTo); a guard that enforces admission refuses unsigned calls.
std::shared_ptr<grpc::Channel> DefaultChannel(const std::string& address) {
  net::DialOptions o;
  o.net.message_size_bytes_max = 64 << 20;
  return net::DialOrUnavailable(address, o);
}

std::unique_ptr<swarm::v1::Pbft::Stub> StubFor(const CommitteeClientOptions& o, const std::string& address) {
  return swarm::v1::Pbft::NewStub(o.channel_to ? o.channel_to(address) : DefaultChannel(address));
}

void SetDeadline(grpc::ClientContext& ctx, SteadyClock::time_point until, std::chrono::milliseconds cap) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - SteadyClock::now());
  ctx.set_deadline(std::chrono::system_clock::now() + std::max(std::chrono::milliseconds(1), std::min(left, cap)));
}

store::Digest256 ToDigest(const std::string& s) {
  store::Digest256 d{};
  if (s.size() == d.size()) std::copy(s.begin(), s.end(), d.begin());
  return d;
}

bool Cancelled(const CommitteeClientOptions& o) { return o.cancelled && o.cancelled(); }

// Sleeps `d` unless cancelled first (polled every 50 ms).
void Pause(const CommitteeClientOptions& o, std::chrono::milliseconds d) {
  const auto until = SteadyClock::now() + d;
  while (SteadyClock::now() < until && !Cancelled(o)) std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

// Reads records [from, to) from a member and returns the first that
// satisfies `pred`, as a reply (index, record hash); nullopt if none or the
// member does not answer.
std::optional<swarm::v1::LedgerSubmitReply> FindSatisfying(
    const CommitteeClientOptions& o, swarm::v1::Pbft::Stub& stub, uint64_t from, uint64_t to,
    const std::function<bool(const store::LedgerRecord&)>& pred) {
  constexpr uint64_t kScanMax = 256;  // records read back per stale head
  if (to <= from) return std::nullopt;
  swarm::v1::LedgerRecordsRequest q;
  q.set_from(from);
  q.set_count(static_cast<uint32_t>(std::min(to - from, kScanMax)));
  swarm::v1::LedgerRecordsReply a;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::min(std::chrono::nanoseconds(o.call_deadline_max), std::chrono::nanoseconds(Seconds(3))));
  if (!stub.LedgerRecords(&ctx, q, &a).ok()) return std::nullopt;
  for (const auto& e : a.records()) {
    auto r = store::ParseLedgerRecord(AsBytes(e.record()));
    if (!r.ok() || !pred(*r)) continue;
    swarm::v1::LedgerSubmitReply reply;
    reply.set_applied(true);
    reply.set_index(r->index);
    const auto h = store::LedgerRecordHash(*r);
    reply.set_record_hash(h.data(), h.size());
    reply.set_ledger_size(a.size());
    reply.set_head_hash(a.head_hash());
    for (const auto& c : a.committee()) reply.add_committee(c);
    return reply;
  }
  return std::nullopt;
}

}  // namespace

StatusOr<store::LedgerRecord> SignLedgerRecord(const crypto::Identity& id, const std::string& kind, uint64_t epoch,
                                               const store::Digest256& payload_root, uint64_t index,
                                               const store::Digest256& prev) {
  store::LedgerRecord r;
  r.index = index;
  r.signature_scheme = crypto::SchemeName(id.scheme());
  r.public_key = id.public_key();
  r.author_id = store::LedgerAuthorId(r.signature_scheme, r.public_key);
  r.epoch = epoch;
  r.kind = kind;
  r.payload_root = payload_root;
  r.prev_hash = prev;
  SWARM_ASSIGN_OR_RETURN(r.signature, id.Sign(store::LedgerSigningBytes(r)));
  SWARM_RETURN_IF_ERROR(store::ValidateLedgerFields(r));  // kind, lengths
  return r;
}

uint64_t NextClientSeq() {
  static std::atomic<uint64_t> next{static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count())};
  return next.fetch_add(1);
}

StatusOr<LedgerAppendResult> AppendToCommittee(const crypto::Identity& id, const LedgerAppendSpec& spec,
                                               const CommitteeClientOptions& o) {
  if (o.members.empty()) return absl::InvalidArgumentError("committee: no member address given");
  const auto until = SteadyClock::now() + std::chrono::nanoseconds(o.timeout);
  std::vector<std::string> members = o.members;  // the committee is appended when learned
  LedgerAppendResult out;
  std::string last_error = "no member answered";
  for (size_t attempt = 0; SteadyClock::now() < until; ++attempt) {
    if (Cancelled(o)) return absl::CancelledError("ledger append cancelled");
    out.attempts = static_cast<int>(attempt + 1);
    const std::string peer = members[attempt % members.size()];  // a copy: members grows below
    auto stub = StubFor(o, peer);
    swarm::v1::LedgerHeadRequest hreq;
    swarm::v1::LedgerHeadReply head;
    grpc::ClientContext hctx;
    SetDeadline(hctx, until, std::chrono::milliseconds(3000));
    if (auto s = stub->LedgerHead(&hctx, hreq, &head); !s.ok()) {
      last_error = absl::StrCat(peer, ": ", net::GrpcStatusText(s));
      if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION) return absl::FailedPreconditionError(last_error);
      Pause(o, kRetryPause);
      continue;
    }
    if (out.committee.empty()) {
      out.committee.assign(head.committee().begin(), head.committee().end());
      for (const auto& a : out.committee) {
        if (std::find(members.begin(), members.end(), a) == members.end()) members.push_back(a);
      }
    }
    SWARM_ASSIGN_OR_RETURN(store::LedgerRecord rec, SignLedgerRecord(id, spec.kind, spec.epoch, spec.payload_root,
                                                                     head.size(), ToDigest(head.head_hash())));
    swarm::v1::LedgerSubmitRequest sreq;
    const Bytes enc = store::EncodeLedgerRecord(rec);
    sreq.set_record(enc.data(), enc.size());
    sreq.set_body(spec.body.data(), spec.body.size());
    sreq.set_client_seq(NextClientSeq());
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - SteadyClock::now()).count();
    const auto call_max = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::nanoseconds(o.call_deadline_max));
    sreq.set_wait_ms(static_cast<uint32_t>(std::clamp<int64_t>(left, 1, std::max<int64_t>(1, call_max.count() - 2000))));
    grpc::ClientContext sctx;
    SetDeadline(sctx, until, call_max);
    swarm::v1::LedgerSubmitReply reply;
    if (auto s = stub->Submit(&sctx, sreq, &reply); !s.ok()) {
      last_error = absl::StrCat(peer, ": ", net::GrpcStatusText(s));
      if (s.error_code() == grpc::StatusCode::INVALID_ARGUMENT || s.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
        return absl::InvalidArgumentError(last_error);
      }
      continue;  // next member: a view change may be under way
    }
    if (!reply.applied()) {
      last_error = absl::StrCat(peer, ": ordered at seq ", reply.seq(), " but refused: ", reply.error());
      if (reply.error().rfind("stale head", 0) == 0) {  // another append won: re-sign
        if (spec.satisfied_by) {
          if (auto found = FindSatisfying(o, *stub, head.size(), reply.ledger_size(), spec.satisfied_by)) {
            out.reply = std::move(*found);
            out.via = peer;
            out.existing = true;
            if (out.committee.empty()) out.committee.assign(out.reply.committee().begin(), out.reply.committee().end());
            return out;
          }
        }
        continue;
      }
      return absl::FailedPreconditionError(last_error);
    }
    out.reply = std::move(reply);
    out.via = peer;
    if (out.committee.empty()) out.committee.assign(out.reply.committee().begin(), out.reply.committee().end());
    return out;
  }
  std::string tried;
  for (const auto& m : members) tried += (tried.empty() ? "" : ", ") + m;
  return absl::DeadlineExceededError(absl::StrCat("no committed append within ", o.timeout / Millis(1),
                                                  " ms from the committee [", tried, "]; last error: ", last_error));
}

store::Digest256 RoundResultRoot(uint64_t round, std::span<const float> aggregate) {
  Bytes head(8);
  for (int i = 0; i < 8; ++i) head[i] = static_cast<uint8_t>(round >> (8 * (7 - i)));
  Bytes values;
  values.reserve(aggregate.size() * 4);
  for (float f : aggregate) {
    uint32_t u = 0;
    std::memcpy(&u, &f, 4);
    for (int i = 0; i < 4; ++i) values.push_back(static_cast<uint8_t>(u >> (8 * i)));
  }
  return crypto::Sha3_256({ByteSpan(head), ByteSpan(values)});
}

StatusOr<LedgerAppendResult> CommitRoundRoot(const crypto::Identity& id, uint64_t round,
                                             std::span<const float> aggregate, const CommitteeClientOptions& options) {
  LedgerAppendSpec spec;
  spec.kind = kRoundRecordKind;
  spec.epoch = round;
  spec.payload_root = RoundResultRoot(round, aggregate);
  spec.satisfied_by = [round, root = spec.payload_root](const store::LedgerRecord& r) {
    return r.kind == kRoundRecordKind && r.epoch == round && r.payload_root == root;
  };
  return AppendToCommittee(id, spec, options);
}

StatusOr<std::set<std::string>> ConfirmRecord(const LedgerAppendResult& result, const CommitteeClientOptions& o) {
  const auto until = SteadyClock::now() + std::chrono::nanoseconds(o.timeout);
  const size_t n = result.committee.size();
  const size_t need = n >= 4 ? (n - 1) / 3 + 1 : 1;
  std::set<std::string> agree = {result.via};
  std::map<std::string, std::string> seen;
  while (agree.size() < need && SteadyClock::now() < until) {
    if (Cancelled(o)) return absl::CancelledError("confirmation cancelled");
    for (const auto& m : result.committee) {
      if (agree.count(m)) continue;
      swarm::v1::LedgerHeadRequest q;
      q.set_with_record(true);
      q.set_record_index(result.reply.index());
      swarm::v1::LedgerHeadReply a;
      grpc::ClientContext ctx;
      SetDeadline(ctx, until, std::chrono::milliseconds(1000));
      auto s = StubFor(o, m)->LedgerHead(&ctx, q, &a);
      if (!s.ok()) {
        seen[m] = net::GrpcStatusText(s);
      } else if (!a.has_record()) {
        seen[m] = absl::StrCat("has ", a.size(), " records");
      } else if (a.record_hash() == result.reply.record_hash()) {
        agree.insert(m);
      } else {
        seen[m] = absl::StrCat("DIFFERENT record hash ", ToHex(AsBytes(a.record_hash())));
      }
      if (agree.size() >= need) break;
    }
    if (agree.size() < need) Pause(o, std::chrono::milliseconds(100));
  }
  if (agree.size() < need) {
    std::string detail;
    for (const auto& [m, why] : seen) detail += absl::StrCat("; ", m, ": ", why);
    return absl::DeadlineExceededError(absl::StrCat("record ", result.reply.index(), " executed by ", result.via,
                                                    " but only ", agree.size(), " of the ", need,
                                                    " members needed confirmed it", detail));
  }
  return agree;
}

}  // namespace swarm::node
