#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "nn/moe_model.h"

namespace swarm::nn {
namespace {

class SingleThreaded : public ::testing::Environment {
 public:
  void SetUp() override { torch::set_num_threads(1); }
};
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new SingleThreaded);

// Returns value * ones (+ 0 * x so autograd reaches x), or fails when told.
class ConstExpert final : public ExpertBackend {
 public:
  ConstExpert(float value, bool fail = false) : value_(value), fail_(fail) {}
  StatusOr<torch::Tensor> Forward(const torch::Tensor& x) override {
    ++calls;
    tokens += x.size(0);
    if (fail_) return absl::UnavailableError("peer down");
    return x * 0 + value_;
  }
  int calls = 0;
  int64_t tokens = 0;

 private:
  float value_;
  bool fail_;
};

MoeConfig Tiny(int64_t experts, int64_t k) {
  MoeConfig c;
  c.d_model = 2;
  c.num_experts = experts;
  c.top_k = k;
  c.input_dim = 2;
  c.num_classes = 2;
  return c;
}

std::vector<std::shared_ptr<ExpertBackend>> Consts(std::vector<std::shared_ptr<ConstExpert>>& out,
                                                   std::vector<float> values,
                                                   std::vector<bool> fail = {}) {
  std::vector<std::shared_ptr<ExpertBackend>> v;
  for (size_t i = 0; i < values.size(); ++i) {
    out.push_back(std::make_shared<ConstExpert>(values[i], !fail.empty() && fail[i]));
    v.push_back(out.back());
  }
  return v;
}

void SetGate(MoeLayer& layer, std::vector<std::vector<float>> rows) {
  torch::NoGradGuard g;
  for (size_t e = 0; e < rows.size(); ++e) {
    for (size_t j = 0; j < rows[e].size(); ++j) {
      layer->gate()->weight[static_cast<int64_t>(e)][static_cast<int64_t>(j)] = rows[e][j];
    }
  }
}

TEST(Moe, ClassifierShapesAndParameterSplit) {
  MoeConfig c;
  c.input_dim = 64;
  c.num_classes = 10;
  c.d_model = 16;
  c.num_experts = 4;
  c.expert_hidden = 8;
  MoeClassifier m(c, MakeFfnExperts(c));
  auto out = m->Forward(torch::randn({5, 64}));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->logits.sizes(), (std::vector<int64_t>{5, 10}));
  EXPECT_EQ(out->aux_loss.dim(), 0);
  // 4 experts x (16*8+8 + 8*16+16) = 4 * 280.
  int64_t expert = 0, shared = 0;
  for (auto& p : m->expert_parameters()) expert += p.numel();
  for (auto& p : m->shared_parameters()) shared += p.numel();
  EXPECT_EQ(expert, 4 * 280);
  int64_t all = 0;
  for (auto& p : m->parameters()) all += p.numel();
  EXPECT_EQ(shared + expert, all);
  EXPECT_EQ(m->ordered_parameters().size(), m->parameters().size());
  EXPECT_FALSE(m->Forward(torch::randn({5, 63})).ok());
}

TEST(Moe, TopOneRoutingValues) {
  std::vector<std::shared_ptr<ConstExpert>> ex;
  MoeLayer layer(Tiny(2, 1), Consts(ex, {10, 20}));
  SetGate(layer, {{1, 0}, {0, 1}});
  const torch::Tensor x = torch::tensor({{1.0f, 0.0f}, {0.0f, 2.0f}});
  auto r = layer->Route(x);
  ASSERT_TRUE(r.ok()) << r.status();
  const float p0 = std::exp(1.0f) / (std::exp(1.0f) + 1);
  EXPECT_NEAR(r->probs[0][0].item<float>(), p0, 1e-6);
  EXPECT_EQ(r->indices[0][0].item<int64_t>(), 0);
  EXPECT_EQ(r->indices[1][0].item<int64_t>(), 1);
  EXPECT_NEAR(r->weights[0][0].item<float>(), p0, 1e-6);  // k = 1: not renormalized
  auto out = layer->Forward(x);
  ASSERT_TRUE(out.ok());
  EXPECT_NEAR(out->y[0][0].item<float>(), 10 * p0, 1e-5);
  const float p1 = std::exp(2.0f) / (std::exp(2.0f) + 1);
  EXPECT_NEAR(out->y[1][1].item<float>(), 20 * p1, 1e-4);
  EXPECT_EQ(out->stats.expert_tokens, (std::vector<int64_t>{1, 1}));
}

TEST(Moe, TopTwoWeightsSumToOne) {
  std::vector<std::shared_ptr<ConstExpert>> ex;
  MoeLayer layer(Tiny(3, 2), Consts(ex, {1, 2, 4}));
  SetGate(layer, {{1, 0}, {0, 1}, {0, 0}});
  const torch::Tensor x = torch::tensor({{2.0f, 1.0f}});
  auto r = layer->Route(x);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->indices[0][0].item<int64_t>(), 0);
  EXPECT_EQ(r->indices[0][1].item<int64_t>(), 1);
  const float w0 = std::exp(2.0f) / (std::exp(2.0f) + std::exp(1.0f));
  EXPECT_NEAR(r->weights[0][0].item<float>(), w0, 1e-6);
  EXPECT_NEAR(r->weights.sum().item<float>(), 1.0, 1e-6);
  auto out = layer->Forward(x);
  ASSERT_TRUE(out.ok());
  EXPECT_NEAR(out->y[0][0].item<float>(), 1 * w0 + 2 * (1 - w0), 1e-5);
  EXPECT_EQ(ex[2]->calls, 0);
}

TEST(Moe, CapacityDropsAndCountsOverflow) {
  std::vector<std::shared_ptr<ConstExpert>> ex;
  MoeConfig c = Tiny(2, 1);
  c.capacity_factor = 1.0;  // capacity = ceil(1 * 4 * 1 / 2) = 2
  MoeLayer layer(c, Consts(ex, {1, 2}));
  SetGate(layer, {{1, 0}, {0, 0}});
  const torch::Tensor x = torch::tensor({{1.0f, 0.0f}, {2.0f, 0.0f}, {3.0f, 0.0f}, {4.0f, 0.0f}});
  auto out = layer->Forward(x);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->stats.assignments_dropped, 2);
  EXPECT_EQ(out->stats.tokens_dropped, 2);
  EXPECT_EQ(ex[0]->tokens, 2);  // the first two tokens, in order
  EXPECT_NE(out->y[0][0].item<float>(), 0.0f);
  EXPECT_EQ(out->y[2][0].item<float>(), 0.0f);
  EXPECT_EQ(out->y[3][0].item<float>(), 0.0f);
}

TEST(Moe, TopTwoCapacityPlacesFirstChoicesFirst) {
  std::vector<std::shared_ptr<ConstExpert>> ex;
  MoeConfig c = Tiny(2, 2);
  c.capacity_factor = 0.5;  // capacity = ceil(0.5 * 2 * 2 / 2) = 1
  MoeLayer layer(c, Consts(ex, {1, 2}));
  SetGate(layer, {{1, 0}, {0, 1}});
  // Token 0 prefers expert 1 second; token 1 prefers expert 1 first.
  const torch::Tensor x = torch::tensor({{3.0f, 0.0f}, {0.0f, 3.0f}});
  auto r = layer->Route(x);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->capacity, 1);
  EXPECT_TRUE(r->kept[0][0].item<bool>());   // token 0 → expert 0 (first choice)
  EXPECT_TRUE(r->kept[1][0].item<bool>());   // token 1 → expert 1 (first choice)
  EXPECT_FALSE(r->kept[0][1].item<bool>());  // second choices dropped
  EXPECT_FALSE(r->kept[1][1].item<bool>());
  EXPECT_EQ(r->assignments_dropped, 2);
  EXPECT_EQ(r->tokens_dropped, 0);
}

TEST(Moe, AuxLossValues) {
  // Uniform gate: P_e = 1/E, so aux = E * sum f_e / E = 1 whatever f is.
  std::vector<std::shared_ptr<ConstExpert>> ex;
  MoeLayer uniform(Tiny(4, 1), Consts(ex, {1, 1, 1, 1}));
  SetGate(uniform, {{0, 0}, {0, 0}, {0, 0}, {0, 0}});
  auto ru = uniform->Route(torch::randn({6, 2}));
  ASSERT_TRUE(ru.ok());
  EXPECT_NEAR(ru->aux_loss.item<float>(), 1.0, 1e-6);
  // Everything to expert 0: aux = E * (1 * P_0).
  std::vector<std::shared_ptr<ConstExpert>> ex2;
  MoeLayer skew(Tiny(2, 1), Consts(ex2, {1, 1}));
  SetGate(skew, {{1, 0}, {0, 0}});
  const torch::Tensor x = torch::tensor({{1.0f, 0.0f}, {3.0f, 0.0f}});
  auto rs = skew->Route(x);
  ASSERT_TRUE(rs.ok());
  const double p_a = std::exp(1.0) / (std::exp(1.0) + 1), p_b = std::exp(3.0) / (std::exp(3.0) + 1);
  EXPECT_NEAR(rs->aux_loss.item<float>(), 2 * (p_a + p_b) / 2, 1e-5);
  // It has a gradient toward balance (pushes the gate away from expert 0).
  rs->aux_loss.backward();
  EXPECT_GT(skew->gate()->weight.grad()[0][0].item<float>(), 0.0f);
}

TEST(Moe, FailedExpertIsMaskedAndGateRenormalized) {
  std::vector<std::shared_ptr<ConstExpert>> ex;
  MoeLayer layer(Tiny(3, 2), Consts(ex, {1, 2, 4}, {false, true, false}));
  SetGate(layer, {{1, 0}, {0, 1}, {0, 0}});
  // Token 0 picks experts {0, 1}; expert 1 fails → all of its mass to expert 0.
  // Token 1 picks {1, 0} too (x = (0, 2)): same. Token 2 picks {2, ?}.
  const torch::Tensor x = torch::tensor({{2.0f, 1.0f}, {0.0f, 2.0f}}).requires_grad_(true);
  auto out = layer->Forward(x);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->stats.failed_experts, (std::vector<int64_t>{1}));
  EXPECT_NE(out->stats.failure_reasons[0].find("peer down"), std::string::npos);
  EXPECT_NEAR(out->y[0][0].item<float>(), 1.0, 1e-5);  // weight 1 on expert 0's value 1
  EXPECT_NEAR(out->y[1][0].item<float>(), 1.0, 1e-5);
  EXPECT_EQ(out->stats.tokens_unserved, 0);
  // Still differentiable.
  out->y.sum().backward();
  EXPECT_TRUE(layer->gate()->weight.grad().defined());
}

TEST(Moe, TokenWithEveryExpertFailedIsUnservedAndKMinEnforced) {
  std::vector<std::shared_ptr<ConstExpert>> ex;
  MoeLayer layer(Tiny(2, 1), Consts(ex, {1, 2}, {true, false}));
  SetGate(layer, {{1, 0}, {0, 1}});
  const torch::Tensor x = torch::tensor({{1.0f, 0.0f}, {0.0f, 1.0f}});
  auto out = layer->Forward(x);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->stats.tokens_unserved, 1);
  EXPECT_EQ(out->y[0][0].item<float>(), 0.0f);
  // Every called expert failing is below k_min = 1: the batch must be retried.
  std::vector<std::shared_ptr<ConstExpert>> dead;
  MoeLayer all_dead(Tiny(2, 1), Consts(dead, {1, 2}, {true, true}));
  auto err = all_dead->Forward(x);
  EXPECT_EQ(err.status().code(), absl::StatusCode::kUnavailable);
  // k_min = 2 with one failure also fails.
  std::vector<std::shared_ptr<ConstExpert>> ex3;
  MoeConfig c = Tiny(2, 1);
  c.k_min = 2;
  MoeLayer strict(c, Consts(ex3, {1, 2}, {true, false}));
  SetGate(strict, {{1, 0}, {0, 1}});
  EXPECT_EQ(strict->Forward(x).status().code(), absl::StatusCode::kUnavailable);
}

TEST(Moe, MaskedExpertGetsNoTokensAndZeroProbability) {
  std::vector<std::shared_ptr<ConstExpert>> ex;
  MoeLayer layer(Tiny(3, 2), Consts(ex, {1, 2, 4}));
  SetGate(layer, {{5, 0}, {0, 1}, {0, 0}});
  const torch::Tensor x = torch::randn({8, 2}).abs();
  auto out = layer->Forward(x, {true, false, false});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(ex[0]->calls, 0);
  auto r = layer->Route(x, {true, false, false});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->probs.select(1, 0).abs().sum().item<float>(), 0.0f);
  EXPECT_NEAR(r->probs.sum(1).mean().item<float>(), 1.0, 1e-5);
  EXPECT_EQ(layer->Forward(x, {true, true, true}).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(layer->Forward(x, {true}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Moe, HierarchicalGateIsProductOfGroupAndExpertSoftmax) {
  std::vector<std::shared_ptr<ConstExpert>> ex;
  MoeConfig c = Tiny(4, 2);
  c.groups = 2;
  MoeLayer layer(c, Consts(ex, {1, 2, 3, 4}));
  SetGate(layer, {{1, 0}, {0, 1}, {2, 0}, {0, 0}});
  {
    torch::NoGradGuard g;
    layer->group_gate()->weight.copy_(torch::tensor({{1.0f, 0.0f}, {0.0f, 0.0f}}));
  }
  const torch::Tensor x = torch::tensor({{1.0f, 1.0f}});
  auto r = layer->Route(x);
  ASSERT_TRUE(r.ok());
  const double g0 = std::exp(1.0) / (std::exp(1.0) + 1);  // group logits (1, 0)
  const double e0 = std::exp(1.0) / (std::exp(1.0) + std::exp(1.0));  // expert logits (1, 1)
  const double e2 = std::exp(2.0) / (std::exp(2.0) + 1);  // expert logits (2, 0)
  EXPECT_NEAR(r->probs[0][0].item<float>(), g0 * e0, 1e-6);
  EXPECT_NEAR(r->probs[0][2].item<float>(), (1 - g0) * e2, 1e-6);
  EXPECT_NEAR(r->probs.sum().item<float>(), 1.0, 1e-6);
  // Masking a whole group leaves a proper distribution over the other.
  auto rm = layer->Route(x, {true, true, false, false});
  ASSERT_TRUE(rm.ok());
  EXPECT_FALSE(torch::isnan(rm->probs).any().item<bool>());
  EXPECT_NEAR(rm->probs[0][2].item<float>(), e2, 1e-6);
}

TEST(Moe, NoisyGatingOnlyInTraining) {
  std::vector<std::shared_ptr<ConstExpert>> ex;
  MoeConfig c = Tiny(4, 2);
  c.noisy_gating = true;
  MoeLayer layer(c, Consts(ex, {1, 2, 3, 4}));
  const torch::Tensor x = torch::randn({16, 2});
  layer->train();
  auto a = layer->Route(x), b = layer->Route(x);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_FALSE(torch::allclose(a->probs, b->probs));
  layer->eval();
  auto d = layer->Route(x), e = layer->Route(x);
  EXPECT_TRUE(torch::allclose(d->probs, e->probs));
}

// An ExpertClient running an FFN locally, as a remote host would.
class LoopbackClient final : public ExpertClient {
 public:
  explicit LoopbackClient(std::shared_ptr<FfnExpert> ffn, bool fail_backward = false)
      : ffn_(std::move(ffn)), fail_backward_(fail_backward) {}
  StatusOr<HostTensor> Forward(const HostTensor& x) override {
    SWARM_ASSIGN_OR_RETURN(torch::Tensor t, ToTorch(x));
    torch::NoGradGuard g;
    SWARM_ASSIGN_OR_RETURN(torch::Tensor y, ffn_->Forward(t));
    return ToHost(y);
  }
  StatusOr<HostTensor> Backward(const HostTensor& x, const HostTensor& grad) override {
    if (fail_backward_) return absl::DeadlineExceededError("late");
    SWARM_ASSIGN_OR_RETURN(torch::Tensor t, ToTorch(x));
    SWARM_ASSIGN_OR_RETURN(torch::Tensor g, ToTorch(grad));
    // Called on the autograd engine's thread, where grad mode is off.
    torch::AutoGradMode enable(true);
    t.requires_grad_(true);
    SWARM_ASSIGN_OR_RETURN(torch::Tensor y, ffn_->Forward(t));
    y.backward(g);
    return ToHost(t.grad());
  }

 private:
  std::shared_ptr<FfnExpert> ffn_;
  bool fail_backward_;
};

TEST(Moe, RemoteExpertMatchesLocalForwardAndInputGradient) {
  torch::manual_seed(3);
  auto ffn = std::make_shared<FfnExpert>(4, 8, 1);
  auto stats = std::make_shared<RemoteExpertStats>();
  auto remote = MakeRemoteExpert(std::make_shared<LoopbackClient>(ffn), stats);
  const torch::Tensor x = torch::randn({5, 4});
  torch::Tensor xl = x.clone().requires_grad_(true), xr = x.clone().requires_grad_(true);
  auto yl = ffn->Forward(xl);
  auto yr = remote->Forward(xr);
  ASSERT_TRUE(yl.ok() && yr.ok());
  EXPECT_TRUE(torch::allclose(*yl, *yr, 1e-5, 1e-6));
  const torch::Tensor w = torch::randn({5, 4});
  (*yl * w).sum().backward();
  (*yr * w).sum().backward();
  EXPECT_TRUE(torch::allclose(xl.grad(), xr.grad(), 1e-5, 1e-6));
  EXPECT_EQ(stats->forward_calls.load(), 1);
  EXPECT_EQ(stats->backward_calls.load(), 1);
  // The host accumulated parameter gradients itself (it applies them).
  EXPECT_TRUE(ffn->module()->parameters()[0].grad().defined());
}

TEST(Moe, RemoteBackwardFailureGivesZeroGradAndIsCounted) {
  auto ffn = std::make_shared<FfnExpert>(4, 8, 1);
  auto stats = std::make_shared<RemoteExpertStats>();
  auto remote = MakeRemoteExpert(std::make_shared<LoopbackClient>(ffn, true), stats);
  torch::Tensor x = torch::randn({3, 4}).requires_grad_(true);
  auto y = remote->Forward(x);
  ASSERT_TRUE(y.ok());
  y->sum().backward();
  EXPECT_EQ(x.grad().abs().sum().item<float>(), 0.0f);
  EXPECT_EQ(stats->backward_failures.load(), 1);
}

TEST(Moe, LayerWithRemoteExpertsRunsConcurrentDispatch) {
  MoeConfig c;
  c.d_model = 4;
  c.num_experts = 3;
  c.top_k = 2;
  std::vector<std::shared_ptr<ExpertBackend>> experts;
  auto stats = std::make_shared<RemoteExpertStats>();
  for (int e = 0; e < 3; ++e) {
    experts.push_back(MakeRemoteExpert(
        std::make_shared<LoopbackClient>(std::make_shared<FfnExpert>(4, 8, 1)), stats));
  }
  MoeLayer layer(c, experts);
  torch::Tensor x = torch::randn({10, 4}).requires_grad_(true);
  auto out = layer->Forward(x);
  ASSERT_TRUE(out.ok()) << out.status();
  out->y.pow(2).sum().backward();
  EXPECT_GT(x.grad().abs().sum().item<float>(), 0.0f);
  EXPECT_EQ(stats->forward_calls.load(), out->stats.experts_called);
  EXPECT_EQ(stats->backward_calls.load(), out->stats.experts_called);
}

}  // namespace
}  // namespace swarm::nn
