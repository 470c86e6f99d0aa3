// Fuzz target for the epoch-record decoders a PBFT member runs on bytes from
// peers and clients (consensus/epoch.h): the request envelope, the
// membership, placement and admission bodies, and the ledger state machine applying an
// epoch request. Properties: no crash; whatever a body parser accepts
// re-encodes to exactly the same bytes (one canonical form); an envelope that
// parses re-encodes to the same bytes; a refused request leaves the chain
// and the epoch state unchanged.
//
// The input is used raw, and as a recipe that XOR-mutates a valid signed
// epoch.membership request (built once, Ed25519), so the bounded standalone
// runner also reaches the version, root and body checks.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "consensus/epoch.h"
#include "consensus/ledger_machine.h"
#include "store/signers.h"

namespace {

using namespace swarm;

const Bytes& ValidRequest() {
  static const Bytes v = [] {
    Bytes seed(32, 9);
    auto signer = std::move(store::Ed25519RecordSigner::FromSeed(seed)).value();
    const Bytes body = node::EncodeMembershipEpoch({{"127.0.0.1:7000", "n0"}, {"127.0.0.1:7001", "n1"}}).value();
    store::LedgerRecord r;
    r.index = 0;
    r.signature_scheme = signer->Scheme();
    r.public_key = signer->PublicKey();
    r.author_id = store::LedgerAuthorId(r.signature_scheme, r.public_key);
    r.kind = node::kEpochMembershipKind;
    r.epoch = 1;
    r.payload_root = node::EpochRoot(body);
    r.signature = signer->Sign(store::LedgerSigningBytes(r)).value();
    return node::EncodeLedgerRequest(store::EncodeLedgerRecord(r), body);
  }();
  return v;
}

void CheckParsers(ByteSpan in) {
  if (auto m = node::ParseMembershipEpoch(in); m.ok()) {
    auto again = node::EncodeMembershipEpoch(*m);
    if (!again.ok() || *again != Bytes(in.begin(), in.end())) std::abort();
  }
  if (auto t = node::ParsePlacementEpoch(in); t.ok()) {
    auto again = node::EncodePlacementEpoch(*t);
    if (!again.ok() || *again != Bytes(in.begin(), in.end())) std::abort();
  }
  if (auto a = node::ParseAdmissionEpoch(in); a.ok()) {
    auto again = node::EncodeAdmissionEpoch(*a);
    if (!again.ok() || *again != Bytes(in.begin(), in.end())) std::abort();
  }
  if (auto p = node::ParseLedgerRequest(in); p.ok() && !p->body.empty()) {
    if (node::EncodeLedgerRequest(p->record, p->body) != Bytes(in.begin(), in.end())) std::abort();
  }
}

void ApplyOne(const Bytes& payload) {
  auto sm = std::move(node::LedgerStateMachine::Open("")).value();
  sm->Apply(1, consensus::Request{3, 1, payload});
  auto r = sm->Result(3, 1);
  if (!r) std::abort();
  const node::EpochState e = sm->Epoch(node::EpochKind::kMembership);
  if (!r->applied && (sm->Head().size != 0 || e.version != 0)) std::abort();
  if (r->applied && sm->Head().size != 1) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const ByteSpan in(data, size);
  CheckParsers(in);
  ApplyOne(Bytes(in.begin(), in.end()));
  Bytes m = ValidRequest();
  for (size_t i = 0; i + 2 < size; i += 3) {
    const size_t pos = (static_cast<size_t>(data[i]) << 8 | data[i + 1]) % m.size();
    m[pos] ^= data[i + 2];
  }
  if (size > 0 && (data[0] & 1)) m.resize(m.size() - data[0] % m.size());
  CheckParsers(m);
  ApplyOne(m);
  return 0;
}
