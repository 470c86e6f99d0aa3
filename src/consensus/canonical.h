// Canonical byte encodings: what signatures cover and what digests hash.
//
// These encodings are fixed-width little-endian integers, length-prefixed
// byte strings and counts, each prefixed by a domain tag naming the message
// kind, so a signature on one kind can never be replayed as another. They are
// independent of the protobuf wire format (which is not canonical), so a
// message decoded from the wire verifies against the same bytes its signer
// signed. Embedded signed values are encoded as signer, body, signature.
//
// Thread-safety: pure functions.
#pragma once

#include "consensus/types.h"

namespace swarm::consensus {

Bytes CanonicalBytes(const Request& m);
Bytes CanonicalBytes(const PrePrepare& m);
Bytes CanonicalBytes(const Prepare& m);
Bytes CanonicalBytes(const Commit& m);
Bytes CanonicalBytes(const Checkpoint& m);
Bytes CanonicalBytes(const ViewChange& m);
Bytes CanonicalBytes(const NewView& m);
Bytes CanonicalBytes(const StatusReport& m);
Bytes CanonicalBytes(const Fetch& m);
Bytes CanonicalBytes(const FetchReply& m);

// SHA3-256 over the canonical encoding of the batch (count, then each request).
Digest BatchDigest(const std::vector<Request>& batch);
// SHA3-256 of a checkpoint's state bytes.
Digest StateDigest(ByteSpan state);

}  // namespace swarm::consensus
