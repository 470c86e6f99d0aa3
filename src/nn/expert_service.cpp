#include "nn/expert_service.h"

namespace swarm::nn {


ExpertServiceImpl::ExpertServiceImpl(ExpertHost* host, TensorLimits limits)
    : host_(host), limits_(limits) {}

StatusOr<HostTensor> ExpertServiceImpl::Decode(const std::string& bytes, const char* field) {
  DecodeReject why = DecodeReject::kNone;
  auto t = DecodeTensor(AsBytes(bytes), limits_, &why);
  if (!t.ok()) {
    host_->CountReject(DecodeRejectName(why));
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", t.status().message()));
  }
  return t;
}

StatusOr<WireDtype> ExpertServiceImpl::ReplyDtype(uint32_t v) {
  if (v > static_cast<uint32_t>(WireDtype::kInt8)) {
    host_->CountReject(DecodeRejectName(DecodeReject::kBadDtype));
    return absl::InvalidArgumentError(
        absl::StrCat("reply_dtype = ", v, " is not one of 0 (f32), 1 (f16), 2 (int8)"));
  }
  return static_cast<WireDtype>(v);
}

namespace {
// A reply the codec cannot carry (e.g. |y| beyond f16 range) is an error, not a crash.
grpc::Status EncodeInto(const HostTensor& t, WireDtype dtype, std::string* out) {
  auto w = EncodeTensor(t, dtype);
  if (!w.ok()) return ToGrpc(absl::OutOfRangeError(absl::StrCat("reply: ", w.status().message())));
  out->assign(reinterpret_cast<const char*>(w->data()), w->size());
  return grpc::Status::OK;
}
}  // namespace

grpc::Status ExpertServiceImpl::Forward(grpc::ServerContext* ctx, const swarm::v1::ExpertForwardRequest* req,
                                        swarm::v1::ExpertForwardReply* reply) {
  SWARM_GUARD(caller, guard_, ctx, "ExpertService.Forward", *req);
  auto dtype = ReplyDtype(req->reply_dtype());
  if (!dtype.ok()) return ToGrpc(dtype.status());
  auto x = Decode(req->x(), "x");
  if (!x.ok()) return ToGrpc(x.status());
  auto y = host_->Forward(req->expert_id(), *x);
  if (!y.ok()) return ToGrpc(y.status());
  return EncodeInto(*y, *dtype, reply->mutable_y());
}

grpc::Status ExpertServiceImpl::Backward(grpc::ServerContext* ctx,
                                         const swarm::v1::ExpertBackwardRequest* req,
                                         swarm::v1::ExpertBackwardReply* reply) {
  SWARM_GUARD(caller, guard_, ctx, "ExpertService.Backward", *req);
  auto dtype = ReplyDtype(req->reply_dtype());
  if (!dtype.ok()) return ToGrpc(dtype.status());
  auto x = Decode(req->x(), "x");
  if (!x.ok()) return ToGrpc(x.status());
  auto g = Decode(req->grad_y(), "grad_y");
  if (!g.ok()) return ToGrpc(g.status());
  int64_t steps = 0;
  auto dx = host_->Backward(req->expert_id(), *x, *g, &steps);
  if (!dx.ok()) return ToGrpc(dx.status());
  reply->set_steps_applied(static_cast<uint64_t>(steps));
  return EncodeInto(*dx, *dtype, reply->mutable_grad_x());
}

grpc::Status ExpertServiceImpl::GetParameters(grpc::ServerContext* ctx,
                                              const swarm::v1::ExpertParametersRequest* req,
                                              swarm::v1::ExpertParametersReply* reply) {
  SWARM_GUARD(caller, guard_, ctx, "ExpertService.GetParameters", *req);
  int64_t steps = 0;
  auto p = host_->Parameters(req->expert_id(), &steps);
  if (!p.ok()) return ToGrpc(p.status());
  reply->set_steps_applied(static_cast<uint64_t>(steps));
  return EncodeInto(*p, WireDtype::kF32, reply->mutable_params());
}

grpc::Status ExpertServiceImpl::Info(grpc::ServerContext* ctx, const swarm::v1::ExpertInfoRequest* req,
                                     swarm::v1::ExpertInfoReply* reply) {
  SWARM_GUARD(caller, guard_, ctx, "ExpertService.Info", *req);
  const auto& c = host_->config();
  for (const auto& e : host_->Experts()) {
    auto* x = reply->add_experts();
    x->set_id(e.id);
    x->set_d_model(static_cast<uint64_t>(c.d_model));
    x->set_hidden(static_cast<uint64_t>(c.hidden));
    x->set_steps_applied(static_cast<uint64_t>(e.steps_applied));
    x->set_forwards(static_cast<uint64_t>(e.forwards));
  }
  for (const auto& [reason, n] : host_->Rejected()) {
    (*reply->mutable_rejected())[reason] = static_cast<uint64_t>(n);
  }
  return grpc::Status::OK;
}

}  // namespace swarm::nn
