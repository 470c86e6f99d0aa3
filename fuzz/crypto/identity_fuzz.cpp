// Identity key-file parsing from arbitrary bytes, and signature verification
// for every scheme (incl. the Ed25519 half of hybrid) on arbitrary public keys
// and signatures: errors, never a crash. Inputs that start like a real key
// file are mutated from one, so the checks past the header are reached.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "crypto/identity.h"

namespace {
using namespace swarm::crypto;
using swarm::Bytes;
using swarm::ByteSpan;

const Bytes& RealFile(int i) {
  static Bytes* files[3] = {nullptr, nullptr, nullptr};
  if (files[i] == nullptr) {
    const SignatureScheme s = static_cast<SignatureScheme>(i + 1);
    files[i] = new Bytes(Identity::Generate(s).value().Serialize());
  }
  return *files[i];
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const ByteSpan in(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {  // raw bytes as a key file
      auto id = Identity::Parse(in, "fuzz");
      SWARM_ASSERT(!id.ok() || in.size() <= kKeyFileBytesMax);
      break;
    }
    case 1: {  // a real key file with input bytes written over it / truncated
      Bytes f = RealFile(data[0] / 3 % 3);
      for (size_t i = 0; i + 2 < in.size(); i += 3) f[(size_t{in[i]} << 8 | in[i + 1]) % f.size()] = in[i + 2];
      if (!in.empty() && in[0] & 1) f.resize(f.size() * in[0] / 256);
      auto id = Identity::Parse(f, "fuzz");
      if (f == RealFile(data[0] / 3 % 3)) SWARM_ASSERT(id.ok());
      break;
    }
    default: {  // VerifySignature with arbitrary bytes of the right lengths
      const SignatureScheme s = static_cast<SignatureScheme>(1 + data[0] / 3 % 3);
      const SchemeSizes sz = SchemeSizesOf(s);
      Bytes pk(sz.public_key), sig(sz.signature);
      for (size_t i = 0; i < pk.size() && !in.empty(); ++i) pk[i] = in[i % in.size()];
      for (size_t i = 0; i < sig.size() && !in.empty(); ++i) sig[i] = in[(i * 7) % in.size()];
      const swarm::Status st = VerifySignature(s, pk, in, sig);
      SWARM_ASSERT(st.code() == absl::StatusCode::kUnauthenticated);
      auto prepared = PreparedVerifier::Create(s, pk);
      SWARM_ASSERT(prepared.ok());
      SWARM_ASSERT(prepared->Verify(in, sig).code() == absl::StatusCode::kUnauthenticated);
      // Wrong lengths are InvalidArgument.
      const swarm::Status bad = VerifySignature(s, in.first(std::min(in.size(), pk.size() - 1)), in, sig);
      SWARM_ASSERT(bad.code() == absl::StatusCode::kInvalidArgument);
    }
  }
  return 0;
}
