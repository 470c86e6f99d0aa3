// SHA3-256 of a protobuf message's deterministic encoding (map entries sorted),
// the digest that signed request headers and signed replies cover. Both sides
// hash the parsed message, so the digest does not depend on how gRPC framed it.
// Pure; thread-safe.
#pragma once

#include <google/protobuf/message_lite.h>
#include <grpcpp/support/byte_buffer.h>

#include "net/call_auth.h"

namespace swarm::net {

Digest32 MessageSha3(const google::protobuf::MessageLite& message);
// SHA3-256 of already-serialized bytes (when the original message is gone).
Digest32 ByteBufferSha3(const grpc::ByteBuffer& buffer);

}  // namespace swarm::net
