#include "consensus/canonical.h"

#include <cstring>

namespace swarm::consensus {
namespace {

class Writer {
 public:
  explicit Writer(std::string_view tag) {
    Str(tag);
  }
  void U8(uint8_t v) { out_.push_back(v); }
  void U32(uint32_t v) {
    for (int i = 0; i < 4; ++i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void U64(uint64_t v) {
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void Blob(ByteSpan b) {
    U64(b.size());
    out_.insert(out_.end(), b.begin(), b.end());
  }
  void Str(std::string_view s) { Blob(AsBytes(s)); }
  void Dig(const Digest& d) { out_.insert(out_.end(), d.begin(), d.end()); }
  Bytes Take() { return std::move(out_); }

 private:
  Bytes out_;
};

void Put(Writer& w, const Request& r) {
  w.U64(r.client);
  w.U64(r.client_seq);
  w.Blob(r.payload);
}

template <typename T>
void PutSigned(Writer& w, const Signed<T>& s) {
  w.U32(s.signer.value());
  w.Blob(CanonicalBytes(s.body));
  w.Blob(s.signature);
}

void Put(Writer& w, const CheckpointCert& c) {
  w.U64(c.seq);
  w.Dig(c.digest);
  w.U64(c.votes.size());
  for (const auto& v : c.votes) PutSigned(w, v);
}

void Put(Writer& w, const PreparedCert& c) {
  PutSigned(w, c.pre_prepare);
  w.U64(c.prepares.size());
  for (const auto& p : c.prepares) PutSigned(w, p);
}

void Put(Writer& w, const CommitCert& c) {
  PutSigned(w, c.pre_prepare);
  w.U64(c.commits.size());
  for (const auto& p : c.commits) PutSigned(w, p);
}

Bytes Vote(std::string_view tag, ViewNumber v, SeqNumber s, const Digest& d) {
  Writer w(tag);
  w.U64(v);
  w.U64(s);
  w.Dig(d);
  return w.Take();
}

}  // namespace

Bytes CanonicalBytes(const Request& m) {
  Writer w("swarm.pbft.v1.request");
  Put(w, m);
  return w.Take();
}

Bytes CanonicalBytes(const PrePrepare& m) {
  // The batch is bound through its digest; receivers check digest == BatchDigest(batch).
  return Vote("swarm.pbft.v1.pre_prepare", m.view, m.seq, m.digest);
}

Bytes CanonicalBytes(const Prepare& m) { return Vote("swarm.pbft.v1.prepare", m.view, m.seq, m.digest); }
Bytes CanonicalBytes(const Commit& m) { return Vote("swarm.pbft.v1.commit", m.view, m.seq, m.digest); }

Bytes CanonicalBytes(const Checkpoint& m) {
  Writer w("swarm.pbft.v1.checkpoint");
  w.U64(m.seq);
  w.Dig(m.state_digest);
  return w.Take();
}

Bytes CanonicalBytes(const ViewChange& m) {
  Writer w("swarm.pbft.v1.view_change");
  w.U64(m.new_view);
  Put(w, m.checkpoint);
  w.U64(m.prepared.size());
  for (const auto& p : m.prepared) Put(w, p);
  return w.Take();
}

Bytes CanonicalBytes(const NewView& m) {
  Writer w("swarm.pbft.v1.new_view");
  w.U64(m.view);
  w.U64(m.view_changes.size());
  for (const auto& v : m.view_changes) PutSigned(w, v);
  w.U64(m.pre_prepares.size());
  for (const auto& p : m.pre_prepares) PutSigned(w, p);
  return w.Take();
}

Bytes CanonicalBytes(const StatusReport& m) {
  Writer w("swarm.pbft.v1.status");
  w.U64(m.view);
  w.U8(m.in_view_change ? 1 : 0);
  w.U64(m.last_executed);
  w.U64(m.stable_seq);
  return w.Take();
}

Bytes CanonicalBytes(const Fetch& m) {
  Writer w("swarm.pbft.v1.fetch");
  w.U64(m.next_seq);
  w.U64(m.stable_seq);
  return w.Take();
}

Bytes CanonicalBytes(const FetchReply& m) {
  Writer w("swarm.pbft.v1.fetch_reply");
  w.U8(m.checkpoint ? 1 : 0);
  if (m.checkpoint) Put(w, *m.checkpoint);
  w.U8(m.snapshot ? 1 : 0);
  // The snapshot is bound through its digest (it can be large).
  if (m.snapshot) w.Dig(StateDigest(*m.snapshot));
  w.U64(m.entries.size());
  for (const auto& e : m.entries) Put(w, e);
  return w.Take();
}

Digest BatchDigest(const std::vector<Request>& batch) {
  Writer w("swarm.pbft.v1.batch");
  w.U64(batch.size());
  for (const auto& r : batch) Put(w, r);
  const Bytes b = w.Take();
  return crypto::Sha3_256(b);
}

Digest StateDigest(ByteSpan state) {
  return crypto::Sha3_256({AsBytes("swarm.pbft.v1.state"), state});
}

std::string_view MessageKind(const Message& m) {
  static constexpr std::string_view kNames[] = {"request",    "pre_prepare", "prepare",
                                                "commit",     "checkpoint",  "view_change",
                                                "new_view",   "status",      "fetch",
                                                "fetch_reply"};
  static_assert(std::variant_size_v<Message> == std::size(kNames));
  return kNames[m.index()];
}

ReplicaId MessageSigner(const Message& m) {
  return std::visit([](const auto& s) { return s.signer; }, m);
}

}  // namespace swarm::consensus
