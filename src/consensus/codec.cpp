#include "consensus/codec.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "swarm/v1/consensus.pb.h"

namespace swarm::consensus {
namespace {

namespace pb = ::swarm::v1;

Status Bad(const std::string& field, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("pbft message: field '", field, "' ", what));
}

std::string ToStr(ByteSpan b) { return std::string(reinterpret_cast<const char*>(b.data()), b.size()); }
std::string ToStr(const Digest& d) { return std::string(reinterpret_cast<const char*>(d.data()), d.size()); }
Bytes ToBytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

// ---- encode ----
void Enc(const Request& r, pb::PbftRequest* o) {
  o->set_client(r.client);
  o->set_client_seq(r.client_seq);
  o->set_payload(ToStr(r.payload));
}
void Enc(const PrePrepare& m, pb::PbftPrePrepare* o) {
  o->set_view(m.view);
  o->set_seq(m.seq);
  o->set_digest(ToStr(m.digest));
  for (const auto& r : m.batch) Enc(r, o->add_batch());
}
template <typename V>
void EncVote(const V& m, pb::PbftVote* o) {
  o->set_view(m.view);
  o->set_seq(m.seq);
  o->set_digest(ToStr(m.digest));
}
void Enc(const Checkpoint& m, pb::PbftCheckpoint* o) {
  o->set_seq(m.seq);
  o->set_state_digest(ToStr(m.state_digest));
}
template <typename T>
void EncSigned(const Signed<T>& s, pb::PbftMessage* o);
void Enc(const CheckpointCert& c, pb::PbftCheckpointCert* o) {
  o->set_seq(c.seq);
  o->set_digest(ToStr(c.digest));
  for (const auto& v : c.votes) EncSigned(v, o->add_votes());
}
void Enc(const ViewChange& m, pb::PbftViewChange* o) {
  o->set_new_view(m.new_view);
  Enc(m.checkpoint, o->mutable_checkpoint());
  for (const auto& c : m.prepared) {
    auto* pc = o->add_prepared();
    EncSigned(c.pre_prepare, pc->mutable_pre_prepare());
    for (const auto& p : c.prepares) EncSigned(p, pc->add_prepares());
  }
}
void Enc(const NewView& m, pb::PbftNewView* o) {
  o->set_view(m.view);
  for (const auto& v : m.view_changes) EncSigned(v, o->add_view_changes());
  for (const auto& p : m.pre_prepares) EncSigned(p, o->add_pre_prepares());
}
void Enc(const StatusReport& m, pb::PbftStatus* o) {
  o->set_view(m.view);
  o->set_in_view_change(m.in_view_change);
  o->set_last_executed(m.last_executed);
  o->set_stable_seq(m.stable_seq);
}
void Enc(const Fetch& m, pb::PbftFetch* o) {
  o->set_next_seq(m.next_seq);
  o->set_stable_seq(m.stable_seq);
}
void Enc(const FetchReply& m, pb::PbftFetchReply* o) {
  if (m.checkpoint) Enc(*m.checkpoint, o->mutable_checkpoint());
  if (m.snapshot) {
    o->set_has_snapshot(true);
    o->set_snapshot(ToStr(*m.snapshot));
  }
  for (const auto& e : m.entries) {
    auto* cc = o->add_entries();
    EncSigned(e.pre_prepare, cc->mutable_pre_prepare());
    for (const auto& c : e.commits) EncSigned(c, cc->add_commits());
  }
}

void Enc(const PreparedCert& c, pb::PbftPreparedCert* o) {
  EncSigned(c.pre_prepare, o->mutable_pre_prepare());
  for (const auto& p : c.prepares) EncSigned(p, o->add_prepares());
}
void Enc(const CommitCert& c, pb::PbftCommitCert* o) {
  EncSigned(c.pre_prepare, o->mutable_pre_prepare());
  for (const auto& p : c.commits) EncSigned(p, o->add_commits());
}

template <typename T>
void EncSigned(const Signed<T>& s, pb::PbftMessage* o) {
  o->set_signer(s.signer.value());
  o->set_signature(ToStr(s.signature));
  if constexpr (std::is_same_v<T, Request>) Enc(s.body, o->mutable_request());
  else if constexpr (std::is_same_v<T, PrePrepare>) Enc(s.body, o->mutable_pre_prepare());
  else if constexpr (std::is_same_v<T, Prepare>) EncVote(s.body, o->mutable_prepare());
  else if constexpr (std::is_same_v<T, Commit>) EncVote(s.body, o->mutable_commit());
  else if constexpr (std::is_same_v<T, Checkpoint>) Enc(s.body, o->mutable_checkpoint());
  else if constexpr (std::is_same_v<T, ViewChange>) Enc(s.body, o->mutable_view_change());
  else if constexpr (std::is_same_v<T, NewView>) Enc(s.body, o->mutable_new_view());
  else if constexpr (std::is_same_v<T, StatusReport>) Enc(s.body, o->mutable_status());
  else if constexpr (std::is_same_v<T, Fetch>) Enc(s.body, o->mutable_fetch());
  else if constexpr (std::is_same_v<T, FetchReply>) Enc(s.body, o->mutable_fetch_reply());
}

// ---- decode ----
class Decoder {
 public:
  explicit Decoder(const CodecLimits& l) : l_(l) {}

  Status Dig(const std::string& in, Digest& out, const std::string& field) {
    if (in.size() != out.size()) return Bad(field, absl::StrCat("has ", in.size(), " bytes, want 32"));
    std::memcpy(out.data(), in.data(), out.size());
    return absl::OkStatus();
  }
  Status Count(size_t n, size_t max, const std::string& field) {
    if (n > max) return Bad(field, absl::StrCat("has ", n, " entries, limit ", max));
    return absl::OkStatus();
  }

  Status Dec(const pb::PbftRequest& in, Request& out, const std::string& f) {
    if (in.payload().size() > l_.payload_bytes_max) {
      return Bad(f + ".payload", absl::StrCat("has ", in.payload().size(), " bytes, limit ", l_.payload_bytes_max));
    }
    out.client = in.client();
    out.client_seq = in.client_seq();
    out.payload = ToBytes(in.payload());
    return absl::OkStatus();
  }
  Status Dec(const pb::PbftPrePrepare& in, PrePrepare& out, const std::string& f) {
    out.view = in.view();
    out.seq = in.seq();
    SWARM_RETURN_IF_ERROR(Dig(in.digest(), out.digest, f + ".digest"));
    SWARM_RETURN_IF_ERROR(Count(in.batch_size(), l_.batch_requests_max, f + ".batch"));
    out.batch.resize(in.batch_size());
    for (int i = 0; i < in.batch_size(); ++i) {
      SWARM_RETURN_IF_ERROR(Dec(in.batch(i), out.batch[i], absl::StrCat(f, ".batch[", i, "]")));
    }
    return absl::OkStatus();
  }
  template <typename V>
  Status DecVote(const pb::PbftVote& in, V& out, const std::string& f) {
    out.view = in.view();
    out.seq = in.seq();
    return Dig(in.digest(), out.digest, f + ".digest");
  }
  Status Dec(const pb::PbftCheckpoint& in, Checkpoint& out, const std::string& f) {
    out.seq = in.seq();
    return Dig(in.state_digest(), out.state_digest, f + ".state_digest");
  }
  Status Dec(const pb::PbftCheckpointCert& in, CheckpointCert& out, const std::string& f) {
    out.seq = in.seq();
    SWARM_RETURN_IF_ERROR(Dig(in.digest(), out.digest, f + ".digest"));
    SWARM_RETURN_IF_ERROR(Count(in.votes_size(), l_.votes_max, f + ".votes"));
    out.votes.resize(in.votes_size());
    for (int i = 0; i < in.votes_size(); ++i) {
      SWARM_RETURN_IF_ERROR(Sig(in.votes(i), out.votes[i], absl::StrCat(f, ".votes[", i, "]")));
    }
    return absl::OkStatus();
  }
  Status Dec(const pb::PbftViewChange& in, ViewChange& out, const std::string& f) {
    out.new_view = in.new_view();
    if (!in.has_checkpoint()) return Bad(f + ".checkpoint", "is missing");
    SWARM_RETURN_IF_ERROR(Dec(in.checkpoint(), out.checkpoint, f + ".checkpoint"));
    SWARM_RETURN_IF_ERROR(Count(in.prepared_size(), l_.certificates_max, f + ".prepared"));
    out.prepared.resize(in.prepared_size());
    for (int i = 0; i < in.prepared_size(); ++i) {
      const auto& pc = in.prepared(i);
      const std::string g = absl::StrCat(f, ".prepared[", i, "]");
      if (!pc.has_pre_prepare()) return Bad(g + ".pre_prepare", "is missing");
      SWARM_RETURN_IF_ERROR(Sig(pc.pre_prepare(), out.prepared[i].pre_prepare, g + ".pre_prepare"));
      SWARM_RETURN_IF_ERROR(Count(pc.prepares_size(), l_.votes_max, g + ".prepares"));
      out.prepared[i].prepares.resize(pc.prepares_size());
      for (int k = 0; k < pc.prepares_size(); ++k) {
        SWARM_RETURN_IF_ERROR(Sig(pc.prepares(k), out.prepared[i].prepares[k], absl::StrCat(g, ".prepares[", k, "]")));
      }
    }
    return absl::OkStatus();
  }
  Status Dec(const pb::PbftNewView& in, NewView& out, const std::string& f) {
    out.view = in.view();
    SWARM_RETURN_IF_ERROR(Count(in.view_changes_size(), l_.votes_max, f + ".view_changes"));
    SWARM_RETURN_IF_ERROR(Count(in.pre_prepares_size(), l_.certificates_max, f + ".pre_prepares"));
    out.view_changes.resize(in.view_changes_size());
    for (int i = 0; i < in.view_changes_size(); ++i) {
      SWARM_RETURN_IF_ERROR(Sig(in.view_changes(i), out.view_changes[i], absl::StrCat(f, ".view_changes[", i, "]")));
    }
    out.pre_prepares.resize(in.pre_prepares_size());
    for (int i = 0; i < in.pre_prepares_size(); ++i) {
      SWARM_RETURN_IF_ERROR(Sig(in.pre_prepares(i), out.pre_prepares[i], absl::StrCat(f, ".pre_prepares[", i, "]")));
    }
    return absl::OkStatus();
  }
  Status Dec(const pb::PbftStatus& in, StatusReport& out, const std::string&) {
    out = StatusReport{in.view(), in.in_view_change(), in.last_executed(), in.stable_seq()};
    return absl::OkStatus();
  }
  Status Dec(const pb::PbftFetch& in, Fetch& out, const std::string&) {
    out = Fetch{in.next_seq(), in.stable_seq()};
    return absl::OkStatus();
  }
  Status Dec(const pb::PbftFetchReply& in, FetchReply& out, const std::string& f) {
    if (in.has_checkpoint()) {
      out.checkpoint.emplace();
      SWARM_RETURN_IF_ERROR(Dec(in.checkpoint(), *out.checkpoint, f + ".checkpoint"));
    }
    if (in.has_snapshot()) {
      if (!in.has_checkpoint()) return Bad(f + ".snapshot", "is present without a checkpoint");
      out.snapshot = ToBytes(in.snapshot());
    } else if (!in.snapshot().empty()) {
      return Bad(f + ".snapshot", "is non-empty while has_snapshot is false");
    }
    SWARM_RETURN_IF_ERROR(Count(in.entries_size(), l_.fetch_entries_max, f + ".entries"));
    out.entries.resize(in.entries_size());
    for (int i = 0; i < in.entries_size(); ++i) {
      const auto& cc = in.entries(i);
      const std::string g = absl::StrCat(f, ".entries[", i, "]");
      if (!cc.has_pre_prepare()) return Bad(g + ".pre_prepare", "is missing");
      SWARM_RETURN_IF_ERROR(Sig(cc.pre_prepare(), out.entries[i].pre_prepare, g + ".pre_prepare"));
      SWARM_RETURN_IF_ERROR(Count(cc.commits_size(), l_.votes_max, g + ".commits"));
      out.entries[i].commits.resize(cc.commits_size());
      for (int k = 0; k < cc.commits_size(); ++k) {
        SWARM_RETURN_IF_ERROR(Sig(cc.commits(k), out.entries[i].commits[k], absl::StrCat(g, ".commits[", k, "]")));
      }
    }
    return absl::OkStatus();
  }

  Status Dec(const pb::PbftPreparedCert& in, PreparedCert& out, const std::string& f) {
    if (!in.has_pre_prepare()) return Bad(f + ".pre_prepare", "is missing");
    SWARM_RETURN_IF_ERROR(Sig(in.pre_prepare(), out.pre_prepare, f + ".pre_prepare"));
    SWARM_RETURN_IF_ERROR(Count(in.prepares_size(), l_.votes_max, f + ".prepares"));
    out.prepares.resize(in.prepares_size());
    for (int k = 0; k < in.prepares_size(); ++k) {
      SWARM_RETURN_IF_ERROR(Sig(in.prepares(k), out.prepares[k], absl::StrCat(f, ".prepares[", k, "]")));
    }
    return absl::OkStatus();
  }
  Status Dec(const pb::PbftCommitCert& in, CommitCert& out, const std::string& f) {
    if (!in.has_pre_prepare()) return Bad(f + ".pre_prepare", "is missing");
    SWARM_RETURN_IF_ERROR(Sig(in.pre_prepare(), out.pre_prepare, f + ".pre_prepare"));
    SWARM_RETURN_IF_ERROR(Count(in.commits_size(), l_.votes_max, f + ".commits"));
    out.commits.resize(in.commits_size());
    for (int k = 0; k < in.commits_size(); ++k) {
      SWARM_RETURN_IF_ERROR(Sig(in.commits(k), out.commits[k], absl::StrCat(f, ".commits[", k, "]")));
    }
    return absl::OkStatus();
  }

  // An embedded or top-level signed message whose body must be a T.
  template <typename T>
  Status Sig(const pb::PbftMessage& in, Signed<T>& out, const std::string& f) {
    if (in.signer() >= l_.committee_max) {
      return Bad(f + ".signer", absl::StrCat("= ", in.signer(), " is not below committee_max ", l_.committee_max));
    }
    if (in.signature().empty() || in.signature().size() > l_.signature_bytes_max) {
      return Bad(f + ".signature", absl::StrCat("has ", in.signature().size(), " bytes, want 1..", l_.signature_bytes_max));
    }
    out.signer = ReplicaId(in.signer());
    out.signature = ToBytes(in.signature());
    using C = pb::PbftMessage::BodyCase;
    auto want = [&](C c, const char* name) -> Status {
      if (in.body_case() != c) return Bad(f, absl::StrCat("must hold a ", name, " (body case ", static_cast<int>(in.body_case()), ")"));
      return absl::OkStatus();
    };
    if constexpr (std::is_same_v<T, Request>) {
      SWARM_RETURN_IF_ERROR(want(C::kRequest, "request"));
      return Dec(in.request(), out.body, f + ".request");
    } else if constexpr (std::is_same_v<T, PrePrepare>) {
      SWARM_RETURN_IF_ERROR(want(C::kPrePrepare, "pre_prepare"));
      return Dec(in.pre_prepare(), out.body, f + ".pre_prepare");
    } else if constexpr (std::is_same_v<T, Prepare>) {
      SWARM_RETURN_IF_ERROR(want(C::kPrepare, "prepare"));
      return DecVote(in.prepare(), out.body, f + ".prepare");
    } else if constexpr (std::is_same_v<T, Commit>) {
      SWARM_RETURN_IF_ERROR(want(C::kCommit, "commit"));
      return DecVote(in.commit(), out.body, f + ".commit");
    } else if constexpr (std::is_same_v<T, Checkpoint>) {
      SWARM_RETURN_IF_ERROR(want(C::kCheckpoint, "checkpoint"));
      return Dec(in.checkpoint(), out.body, f + ".checkpoint");
    } else if constexpr (std::is_same_v<T, ViewChange>) {
      SWARM_RETURN_IF_ERROR(want(C::kViewChange, "view_change"));
      return Dec(in.view_change(), out.body, f + ".view_change");
    } else if constexpr (std::is_same_v<T, NewView>) {
      SWARM_RETURN_IF_ERROR(want(C::kNewView, "new_view"));
      return Dec(in.new_view(), out.body, f + ".new_view");
    } else if constexpr (std::is_same_v<T, StatusReport>) {
      SWARM_RETURN_IF_ERROR(want(C::kStatus, "status"));
      return Dec(in.status(), out.body, f + ".status");
    } else if constexpr (std::is_same_v<T, Fetch>) {
      SWARM_RETURN_IF_ERROR(want(C::kFetch, "fetch"));
      return Dec(in.fetch(), out.body, f + ".fetch");
    } else {
      SWARM_RETURN_IF_ERROR(want(C::kFetchReply, "fetch_reply"));
      return Dec(in.fetch_reply(), out.body, f + ".fetch_reply");
    }
  }

  template <typename T>
  StatusOr<Message> Top(const pb::PbftMessage& in) {
    Signed<T> s;
    SWARM_RETURN_IF_ERROR(Sig(in, s, "message"));
    return Message(std::move(s));
  }

 private:
  const CodecLimits& l_;
};

}  // namespace

StatusOr<Bytes> EncodeDurableState(const DurableState& d) {
  pb::PbftDurableState out;
  out.set_view(d.view);
  out.set_in_view_change(d.in_view_change);
  out.set_next_seq(d.next_seq);
  Enc(d.stable, out.mutable_stable());
  out.set_stable_state(ToStr(d.stable_state));
  for (const auto& [seq, slot] : d.log) {
    auto* o = out.add_log();
    o->set_seq(seq);
    if (slot.pre_prepare) EncSigned(*slot.pre_prepare, o->mutable_pre_prepare());
    for (const auto& [who, p] : slot.prepares) EncSigned(p, o->add_prepares());
    for (const auto& [who, c] : slot.commits) EncSigned(c, o->add_commits());
    if (slot.prepared) Enc(*slot.prepared, o->mutable_prepared());
    if (slot.committed) Enc(*slot.committed, o->mutable_committed());
  }
  for (const auto& [seq, votes] : d.checkpoint_votes) {
    for (const auto& [who, v] : votes) EncSigned(v, out.add_checkpoint_votes());
  }
  if (d.new_view) EncSigned(*d.new_view, out.mutable_new_view());
  std::string wire;
  if (!out.SerializeToString(&wire)) return absl::InternalError("pbft durable state: protobuf serialization failed");
  return ToBytes(wire);
}

StatusOr<DurableState> DecodeDurableState(ByteSpan bytes, const CodecLimits& limits) {
  if (bytes.size() > limits.message_bytes_max) {
    return absl::InvalidArgumentError(absl::StrCat("pbft durable state: ", bytes.size(),
                                                   " bytes exceeds message_bytes_max ", limits.message_bytes_max));
  }
  pb::PbftDurableState in;
  if (!in.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InvalidArgumentError("pbft durable state: not a valid PbftDurableState");
  }
  Decoder dec(limits);
  DurableState d;
  d.view = in.view();
  d.in_view_change = in.in_view_change();
  d.next_seq = in.next_seq();
  if (in.has_stable()) SWARM_RETURN_IF_ERROR(dec.Dec(in.stable(), d.stable, "state.stable"));
  d.stable_state = ToBytes(in.stable_state());
  if (static_cast<size_t>(in.log_size()) > limits.certificates_max) {
    return Bad("state.log", absl::StrCat("has ", in.log_size(), " entries, limit ", limits.certificates_max));
  }
  for (int i = 0; i < in.log_size(); ++i) {
    const auto& o = in.log(i);
    const std::string f = absl::StrCat("state.log[", i, "]");
    DurableState::Slot& slot = d.log[o.seq()];
    if (o.has_pre_prepare()) {
      slot.pre_prepare.emplace();
      SWARM_RETURN_IF_ERROR(dec.Sig(o.pre_prepare(), *slot.pre_prepare, f + ".pre_prepare"));
    }
    for (int k = 0; k < o.prepares_size(); ++k) {
      Signed<Prepare> p;
      SWARM_RETURN_IF_ERROR(dec.Sig(o.prepares(k), p, absl::StrCat(f, ".prepares[", k, "]")));
      slot.prepares[p.signer.value()] = std::move(p);
    }
    for (int k = 0; k < o.commits_size(); ++k) {
      Signed<Commit> c;
      SWARM_RETURN_IF_ERROR(dec.Sig(o.commits(k), c, absl::StrCat(f, ".commits[", k, "]")));
      slot.commits[c.signer.value()] = std::move(c);
    }
    if (o.has_prepared()) {
      slot.prepared.emplace();
      SWARM_RETURN_IF_ERROR(dec.Dec(o.prepared(), *slot.prepared, f + ".prepared"));
    }
    if (o.has_committed()) {
      slot.committed.emplace();
      SWARM_RETURN_IF_ERROR(dec.Dec(o.committed(), *slot.committed, f + ".committed"));
    }
  }
  for (int k = 0; k < in.checkpoint_votes_size(); ++k) {
    Signed<Checkpoint> v;
    SWARM_RETURN_IF_ERROR(dec.Sig(in.checkpoint_votes(k), v, absl::StrCat("state.checkpoint_votes[", k, "]")));
    d.checkpoint_votes[v.body.seq][v.signer.value()] = std::move(v);
  }
  if (in.has_new_view()) {
    d.new_view.emplace();
    SWARM_RETURN_IF_ERROR(dec.Sig(in.new_view(), *d.new_view, "state.new_view"));
  }
  return d;
}

StatusOr<Bytes> EncodeMessage(const Message& m) {
  pb::PbftMessage out;
  std::visit([&](const auto& s) { EncSigned(s, &out); }, m);
  std::string wire;
  if (!out.SerializeToString(&wire)) return absl::InternalError("pbft message: protobuf serialization failed");
  return ToBytes(wire);
}

StatusOr<Message> DecodeMessage(ByteSpan wire, const CodecLimits& limits) {
  if (wire.size() > limits.message_bytes_max) {
    return absl::InvalidArgumentError(absl::StrCat("pbft message: ", wire.size(), " bytes exceeds message_bytes_max ",
                                                   limits.message_bytes_max));
  }
  pb::PbftMessage in;
  if (!in.ParseFromArray(wire.data(), static_cast<int>(wire.size()))) {
    return absl::InvalidArgumentError(absl::StrCat("pbft message: ", wire.size(), " bytes are not a valid PbftMessage"));
  }
  Decoder d(limits);
  using C = pb::PbftMessage::BodyCase;
  switch (in.body_case()) {
    case C::kRequest: return d.Top<Request>(in);
    case C::kPrePrepare: return d.Top<PrePrepare>(in);
    case C::kPrepare: return d.Top<Prepare>(in);
    case C::kCommit: return d.Top<Commit>(in);
    case C::kCheckpoint: return d.Top<Checkpoint>(in);
    case C::kViewChange: return d.Top<ViewChange>(in);
    case C::kNewView: return d.Top<NewView>(in);
    case C::kStatus: return d.Top<StatusReport>(in);
    case C::kFetch: return d.Top<Fetch>(in);
    case C::kFetchReply: return d.Top<FetchReply>(in);
    case C::BODY_NOT_SET: break;
  }
  return absl::InvalidArgumentError("pbft message: field 'body' is not set");
}

}  // namespace swarm::consensus
