#include "env_state.h"

#include <vector>

namespace kju {

void CleanupEnv(void* arg) {
  auto* state = static_cast<EnvState*>(arg);
  std::vector<EnvResource*> resources(state->live.begin(), state->live.end());
  state->live.clear();
  for (EnvResource* r : resources) {
    r->state_ = nullptr;  // their finalizers may run after the EnvState is gone
    r->ReleaseForEnvExit();
  }
  state->nativeErrorClass.Reset();
}

EnvResource::~EnvResource() {
  if (state_ != nullptr) state_->live.erase(this);
}

void EnvResource::Track(Napi::Env env) {
  state_ = &GetEnvState(env);
  state_->live.insert(this);
}

EnvState& GetEnvState(Napi::Env env) { return *env.GetInstanceData<EnvState>(); }

void InitEnvState(Napi::Env env) {
  auto* state = new EnvState();
  env.SetInstanceData<EnvState>(state);  // deleted by Node-API after the cleanup hooks ran
  NAPI_THROW_IF_FAILED_VOID(env, napi_add_env_cleanup_hook(env, CleanupEnv, state));
}

}  // namespace kju
