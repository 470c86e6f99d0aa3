#include "node/consensus/service.h"

#include <chrono>
#include <future>

#include "consensus/epoch.h"
#include "store/ledger.h"
#include "store/signers.h"

namespace swarm::node {
namespace {

void FillResult(const LedgerApplyResult& r, swarm::v1::LedgerSubmitReply* reply) {
  reply->set_applied(r.applied);
  reply->set_error(r.error);
  reply->set_seq(r.seq);
  reply->set_index(r.index);
  reply->set_record_hash(r.record_hash.data(), r.record_hash.size());
  reply->set_ledger_size(r.ledger_size);
  reply->set_head_hash(r.head_hash.data(), r.head_hash.size());
}

}  // namespace

std::string PbftServiceImpl::SourceOf(const net::Caller& caller, grpc::ServerContext* ctx) {
  if (caller.authenticated) return ToHex(ByteSpan(caller.peer.data(), caller.peer.size()));
  return ctx ? ctx->peer() : std::string();
}

void PbftServiceImpl::Count(std::string_view message) {
  const size_t colon = message.find(':');
  const std::string reason(colon == std::string_view::npos ? message : message.substr(0, colon));
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++refused_[reason];
  }
  if (on_refused_) on_refused_(reason);
}

grpc::Status PbftServiceImpl::Refuse(grpc::StatusCode code, const std::string& reason, const std::string& message) {
  Count(reason);
  return grpc::Status(code, absl::StrCat(reason, ": ", message));
}

uint64_t PbftServiceImpl::refused(const std::string& reason) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = refused_.find(reason);
  return it == refused_.end() ? 0 : it->second;
}

grpc::Status PbftServiceImpl::Member(std::shared_ptr<ConsensusCore>& out, bool need_ledger) {
  out = core_();
  if (!out) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "consensus: committee not formed yet");
  if (out->self < 0 || !out->driver) {
    std::string list;
    for (const auto& a : out->committee) list += (list.empty() ? "" : ", ") + a;
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        absl::StrCat("consensus: ", out->self_address,
                                     " is not a committee member; submit to one of: ", list));
  }
  if (need_ledger && !out->ledger) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "consensus: this committee orders another state machine, not the ledger");
  }
  return grpc::Status::OK;
}

grpc::Status PbftServiceImpl::Deliver(grpc::ServerContext* ctx, const swarm::v1::PbftBatch* req,
                                      swarm::v1::PbftAck*) {
  SWARM_GUARD(caller, guard_, ctx, "Pbft.Deliver", *req);
  std::shared_ptr<ConsensusCore> core;
  if (auto s = Member(core, /*need_ledger=*/false); !s.ok()) return s;
  // Fair queueing per source: the authenticated caller, else the connection.
  if (Status s = core->driver->Deliver(*req, SourceOf(caller, ctx)); !s.ok()) {
    Count(std::string(s.message()));
    return net::ToGrpc(s);
  }
  return grpc::Status::OK;
}

grpc::Status PbftServiceImpl::Identify(grpc::ServerContext* ctx, const swarm::v1::PbftIdentifyRequest* req,
                                       swarm::v1::PbftIdentifyReply* reply) {
  SWARM_GUARD(caller, guard_, ctx, "Pbft.Identify", *req);
  auto core = core_();
  if (!core) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "consensus: committee not formed yet");
  reply->set_scheme(crypto::SchemeName(core->identity->scheme()));
  const Bytes& pk = core->identity->public_key();
  reply->set_public_key(pk.data(), pk.size());
  reply->set_address(core->self_address);
  for (const auto& a : core->committee) reply->add_committee(a);
  reply->set_self(core->self);
  return grpc::Status::OK;
}

grpc::Status PbftServiceImpl::Submit(grpc::ServerContext* ctx, const swarm::v1::LedgerSubmitRequest* req,
                                     swarm::v1::LedgerSubmitReply* reply) {
  SWARM_GUARD(caller, guard_, ctx, "Pbft.Submit", *req);
  std::shared_ptr<ConsensusCore> core;
  if (auto s = Member(core, /*need_ledger=*/true); !s.ok()) return s;
  for (const auto& a : core->committee) reply->add_committee(a);
  const std::string source = SourceOf(caller, ctx);
  const Nanos now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::steady_clock::now().time_since_epoch()).count();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (Status s = submit_limiter_.Admit(source, 1, now); !s.ok()) {
      ++refused_["rate_limited"];
      if (on_refused_) on_refused_("rate_limited");
      return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, std::string(s.message()));
    }
    if (submits_inflight_[source] >= limits_.submits_inflight_per_source_max) {
      ++refused_["rate_limited"];
      if (on_refused_) on_refused_("rate_limited");
      return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                          absl::StrCat("rate_limited: ", submits_inflight_[source], " submits of this source wait "
                                       "(submits_inflight_per_source_max)"));
    }
    ++submits_inflight_[source];
  }
  struct Release {
    PbftServiceImpl* self;
    std::string source;
    ~Release() {
      std::lock_guard<std::mutex> lock(self->mu_);
      if (--self->submits_inflight_[source] == 0) self->submits_inflight_.erase(source);
    }
  } release{this, source};
  auto rec = store::ParseLedgerRecord(AsBytes(req->record()));
  if (!rec.ok()) {
    return Refuse(grpc::StatusCode::INVALID_ARGUMENT, "malformed", absl::StrCat("record: ", rec.status().message()));
  }
  if (Status s = CheckLedgerScheme(limits_.ledger_schemes, rec->signature_scheme); !s.ok()) {
    return Refuse(grpc::StatusCode::PERMISSION_DENIED, "permission_denied", absl::StrCat("record: ", s.message()));
  }
  if (rec->kind == kEpochAdmissionKind) {
    // Authored by the swarm's grant issuer, not a member: every replica checks
    // the author deterministically when it applies it (consensus/epoch.h).
  } else if (IsEpochRecordKind(rec->kind)) {
    // Epoch records come from committee members (the proposers in
    // node/consensus/extension.cpp), never from outside clients.
    bool member = false;
    for (uint32_t i = 0; core->keys && i < core->committee.size() && !member; ++i) {
      auto key = core->keys->KeyOf(i);
      member = key && store::LedgerAuthorId(crypto::SchemeName(key->scheme), key->public_key) == rec->author_id;
    }
    if (!member) {
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                          absl::StrCat("record: kind '", rec->kind, "' is reserved to committee members"));
    }
  } else if (!req->body().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        absl::StrCat("body: only epoch.* records carry one (kind '", rec->kind, "')"));
  }
  if (req->client_seq() == 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "client_seq: 0 is reserved, use >= 1");
  }
  const uint64_t client = LedgerStateMachine::ClientOf(*rec);
  const uint64_t client_seq = req->client_seq();
  if (auto done = core->ledger->Result(client, client_seq)) {  // already executed: same answer
    FillResult(*done, reply);
    reply->set_view(core->driver->status().view);
    return grpc::Status::OK;
  }
  Nanos wait = req->wait_ms() ? Millis(req->wait_ms()) : core->submit_wait_default;
  wait = std::min(wait, core->submit_wait_max);
  auto promise = std::make_shared<std::promise<StatusOr<ExecutedRequest>>>();
  auto future = promise->get_future();
  consensus::Request request{client, client_seq, EncodeLedgerRequest(AsBytes(req->record()), AsBytes(req->body()))};
  core->driver->Submit(std::move(request), wait,
                       [promise](StatusOr<ExecutedRequest> r) { promise->set_value(std::move(r)); });
  // The driver always completes the callback (at the deadline at the latest).
  StatusOr<ExecutedRequest> executed = future.get();
  if (ctx->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
  if (!executed.ok()) return net::ToGrpc(executed.status());
  reply->set_view(executed->view);
  if (auto done = core->ledger->Result(client, client_seq)) {
    FillResult(*done, reply);
  } else if (auto h = core->ledger->RecordHash(rec->index); h && *h == store::LedgerRecordHash(*rec)) {
    // Executed inside a snapshot this member installed by state transfer: the
    // result was not kept here, but the ledger holds this very record at its
    // index (an index holds one record), so it was applied.
    const store::LedgerHead head = core->ledger->Head();
    reply->set_applied(true);
    reply->set_seq(executed->seq);
    reply->set_index(rec->index);
    reply->set_record_hash(h->data(), h->size());
    reply->set_ledger_size(head.size);
    reply->set_head_hash(head.hash.data(), head.hash.size());
  } else {
    reply->set_applied(false);
    reply->set_seq(executed->seq);
    reply->set_error("executed, but the result was not kept (state transfer); check the ledger");
  }
  return grpc::Status::OK;
}

grpc::Status PbftServiceImpl::LedgerHead(grpc::ServerContext* ctx, const swarm::v1::LedgerHeadRequest* req,
                                         swarm::v1::LedgerHeadReply* reply) {
  SWARM_GUARD(caller, guard_, ctx, "Pbft.LedgerHead", *req);
  std::shared_ptr<ConsensusCore> core;
  if (auto s = Member(core, /*need_ledger=*/true); !s.ok()) return s;
  const store::LedgerHead head = core->ledger->Head();
  const ConsensusStatus st = core->driver->status();
  reply->set_size(head.size);
  reply->set_head_hash(head.hash.data(), head.hash.size());
  reply->set_last_executed(st.last_committed);
  reply->set_view(st.view);
  for (const auto& a : core->committee) reply->add_committee(a);
  if (req->with_record()) {
    if (auto h = core->ledger->RecordHash(req->record_index())) {
      reply->set_has_record(true);
      reply->set_record_hash(h->data(), h->size());
    }
  }
  if (req->verify()) {
    if (core->ledger_path.empty()) {
      reply->set_verify_report("no ledger file (node.data_dir is empty): in-memory chain only");
    } else {
      // One verification at a time; its report is cached per head and
      // recomputed at most once per verify_interval, so callers cannot make
      // this peer re-verify the whole chain on every call.
      std::lock_guard<std::mutex> lock(verify_mu_);
      const Nanos now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::steady_clock::now().time_since_epoch()).count();
      VerifyCache& c = verify_cache_;
      const bool same_head = c.valid && c.size == head.size && c.hash == head.hash;
      const bool may_recompute = !c.valid || now - c.at >= limits_.verify_interval;
      if (!same_head && may_recompute) {
        // A second connection: the ledger file is in WAL mode, readers do not
        // block the replica's appends.
        auto ledger = store::Ledger::Open(core->ledger_path);
        if (!ledger.ok()) return net::ToGrpc(ledger.status());
        auto report = (*ledger)->Verify();
        if (!report.ok()) return net::ToGrpc(report.status());
        auto verified_head = (*ledger)->Head();
        c.valid = true;
        c.at = now;
        c.size = verified_head.ok() ? verified_head->size : head.size;
        c.hash = verified_head.ok() ? verified_head->hash : head.hash;
        c.verified = report->ok;
        c.report = report->ToString();
        ++verifications_;
      }
      reply->set_verified(c.verified);
      reply->set_verify_report(c.size == head.size && c.hash == head.hash
                                   ? c.report
                                   : absl::StrCat(c.report, " (verified at ledger size ", c.size,
                                                  "; verification is rate-limited to one per ",
                                                  ToSeconds(limits_.verify_interval), " s)"));
    }
  }
  return grpc::Status::OK;
}

}  // namespace swarm::node

namespace swarm::node {

grpc::Status PbftServiceImpl::LedgerRecords(grpc::ServerContext* ctx, const swarm::v1::LedgerRecordsRequest* req,
                                            swarm::v1::LedgerRecordsReply* reply) {
  SWARM_GUARD(caller, guard_, ctx, "Pbft.LedgerRecords", *req);
  std::shared_ptr<ConsensusCore> core;
  if (auto s = Member(core, /*need_ledger=*/true); !s.ok()) return s;
  if (req->count() > kLedgerRecordsPerCallMax) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        absl::StrCat("count: ", req->count(), " > ", kLedgerRecordsPerCallMax, " per call"));
  }
  const store::LedgerHead head = core->ledger->Head();
  reply->set_size(head.size);
  reply->set_head_hash(head.hash.data(), head.hash.size());
  for (const auto& a : core->committee) reply->add_committee(a);
  for (auto& [record, body] : core->ledger->Records(req->from(), req->count())) {
    auto* e = reply->add_records();
    e->set_record(record.data(), record.size());
    e->set_body(body.data(), body.size());
  }
  return grpc::Status::OK;
}

}  // namespace swarm::node
