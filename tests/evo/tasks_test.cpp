#include <gtest/gtest.h>

#include <cmath>

#include "common/rng.h"
#include "evo/cart_pole.h"
#include "evo/external_task.h"
#include "evo/genome_codec.h"
#include "evo_runtime/process_runner.h"
#include "evo/operators.h"
#include "evo/tasks.h"

namespace swarm::evo {
namespace {

TEST(CartPole, UnforcedPoleFallsAndForceCounteracts) {
  CartPole cp;
  cp.Reset(PoleTask::StandardStart());
  int steps = 0;
  while (!cp.Failed() && steps < 10000) cp.Step(0.0), ++steps;
  EXPECT_LT(steps, 500);                 // falls within 5 s
  EXPECT_GT(cp.state()[2], PoleTask::StandardStart()[2]);  // towards the side it leaned
  // Pushing the cart towards the lean makes the long pole rotate back.
  CartPole a, b;
  a.Reset(PoleTask::StandardStart());
  b.Reset(PoleTask::StandardStart());
  for (int i = 0; i < 10; ++i) a.Step(0.0), b.Step(10.0);
  EXPECT_LT(b.state()[3], a.state()[3]);
  EXPECT_GT(b.state()[1], 0.0);
}

TEST(CartPole, Rk4ConvergesWithSmallerSteps) {
  CartPoleParams p;
  CartPole coarse(p);
  p.tau = 0.001;
  CartPole fine(p);
  coarse.Reset(PoleTask::StandardStart());
  fine.Reset(PoleTask::StandardStart());
  for (int i = 0; i < 50; ++i) {
    coarse.Step(1.0);
    for (int k = 0; k < 10; ++k) fine.Step(1.0);
  }
  for (int i = 0; i < 6; ++i) {
    const double scale = std::max(1.0, std::fabs(fine.state()[i]));
    EXPECT_NEAR(coarse.state()[i], fine.state()[i], 1e-5 * scale) << i;
  }
}

TEST(Tasks, XorFitnessRange) {
  XorTask t;
  NeatConfig cfg;
  Rng rng(1);
  Genome g = RandomInitialGenome(2, 1, cfg, rng);
  auto f = t.Evaluate(g);
  ASSERT_TRUE(f.ok());
  EXPECT_GE(*f, 0.0);
  EXPECT_LE(*f, 16.0);
  EXPECT_FALSE(*t.IsSolution(g, *f));  // a network with no hidden node cannot do XOR
  EXPECT_FALSE(t.Evaluate(MinimalGenome(3, 1, true, true)).ok());
}

TEST(Tasks, PoleFitnessAndGruau) {
  PoleTask dpv(PoleTask::Kind::kDoubleVelocity), nv(PoleTask::Kind::kDoubleNoVelocity);
  Genome g = MinimalGenome(6, 1, true, true);  // all weights 0: constant 0.5 -> zero force
  auto f = dpv.Evaluate(g);
  ASSERT_TRUE(f.ok());
  EXPECT_GT(*f, 0.0);
  EXPECT_LT(*f, 1000.0);
  EXPECT_FALSE(*dpv.IsSolution(g, *f));
  Genome h = MinimalGenome(3, 1, false, true);
  auto fn = nv.Evaluate(h);
  ASSERT_TRUE(fn.ok());
  EXPECT_GT(*fn, 0.0);
  EXPECT_LT(*fn, 0.1);  // failed before 100 steps: f2 = 0, so 0.1 * t / 1000
  auto gen = nv.GeneralisationScore(h);
  ASSERT_TRUE(gen.ok());
  EXPECT_LT(*gen, 200);
  EXPECT_FALSE(dpv.Evaluate(h).ok());
}

ExternalTaskConfig Sh(const std::string& script, int64_t timeout_ms = 5000) {
  ExternalTaskConfig c;
  c.argv = {"/bin/sh", "-c", script};
  c.inputs = 2;
  c.outputs = 1;
  c.timeout_ms = timeout_ms;
  c.solved_threshold = 3.0;
  return c;
}

TEST(ExternalTask, ReadsFitnessFromChild) {
  Genome g = MinimalGenome(2, 1, true, true);
  // The child really reads the genome: it counts the connections it got.
  PosixProcessRunner runner;
  ExternalProcessTask t(Sh("read line; echo \"$line\" | grep -o '\"innov\"' | wc -l"), &runner);
  auto f = t.Evaluate(g);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(*f, 3.0);
  EXPECT_TRUE(*t.IsSolution(g, *f));
}

TEST(ExternalTask, FailuresHaveReasons) {
  Genome g = MinimalGenome(2, 1, true, true);
  struct Case {
    std::string script, reason;
  } cases[] = {
      {"cat >/dev/null; echo nan", "not finite"},
      {"cat >/dev/null; echo inf", "not finite"},
      {"cat >/dev/null; echo hello", "not a number"},
      {"cat >/dev/null; echo", "empty"},
      {"cat >/dev/null; exit 3", "status 3"},
      {"cat >/dev/null; kill -9 $$", "signal 9"},
      {"exec sleep 5", "within 200 ms"},
      {"echo 1.0", ""},  // exits without reading stdin: fine
  };
  PosixProcessRunner runner;
  for (const auto& c : cases) {
    ExternalProcessTask t(Sh(c.script, 200), &runner);
    auto f = t.Evaluate(g);
    if (c.reason.empty()) {
      EXPECT_TRUE(f.ok()) << c.script << ": " << f.status();
      continue;
    }
    ASSERT_FALSE(f.ok()) << c.script;
    EXPECT_NE(std::string(f.status().message()).find(c.reason), std::string::npos)
        << c.script << ": " << f.status();
  }
  ExternalTaskConfig missing;
  missing.argv = {"/nonexistent/fitness-program"};
  missing.inputs = 2;
  EXPECT_FALSE(ExternalProcessTask(missing, &runner).Evaluate(g).ok());
  TaskEvaluator ev(nullptr);
  (void)ev;
}

// The pure half, with a runner that returns canned outputs: what a run's
// output means, with no process at all.
class CannedRunner final : public ProcessRunner {
 public:
  explicit CannedRunner(StatusOr<ProcessOutput> out) : out_(std::move(out)) {}
  StatusOr<ProcessOutput> Run(const std::vector<std::string>& argv, const std::string& input, int64_t,
                              size_t) const override {
    last_input = input;
    return out_;
  }
  mutable std::string last_input;

 private:
  StatusOr<ProcessOutput> out_;
};

TEST(ExternalTask, InterpretsTheRunnersOutputWithoutAProcess) {
  Genome g = MinimalGenome(2, 1, true, true);
  CannedRunner ok(ProcessOutput{.stdout_bytes = " 2.5 \nignored\n"});
  ExternalProcessTask t(Sh("unused"), &ok);
  auto f = t.Evaluate(g);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(*f, 2.5);
  EXPECT_EQ(ok.last_input, EncodeGenome(g) + "\n");
  CannedRunner sig(ProcessOutput{.signaled = true, .signal = 9});
  EXPECT_NE(std::string(ExternalProcessTask(Sh("x"), &sig).Evaluate(g).status().message()).find("signal 9"),
            std::string::npos);
  CannedRunner code(ProcessOutput{.exit_code = 4});
  EXPECT_EQ(ExternalProcessTask(Sh("x"), &code).Evaluate(g).status().code(), absl::StatusCode::kAborted);
  CannedRunner late(absl::DeadlineExceededError("late"));
  EXPECT_EQ(ExternalProcessTask(Sh("x"), &late).Evaluate(g).status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(ExternalProcessTask(Sh("x"), nullptr).Evaluate(g).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(ExternalTask, ParseFitnessLine) {
  EXPECT_EQ(*ParseFitnessLine(" 2.5 \r"), 2.5);
  EXPECT_FALSE(ParseFitnessLine("2.5x").ok());
  EXPECT_FALSE(ParseFitnessLine("-nan").ok());
}

}  // namespace
}  // namespace swarm::evo
