// Per-environment state (main thread, each worker_thread, each Electron window are separate envs).
// Objects owning OS resources register here so the env cleanup hook can release them when the env
// goes away even if JS never called destroy()/release().
#pragma once

#include <napi.h>

#include <unordered_set>

namespace kju {

class EnvResource;

struct EnvState {
  std::unordered_set<EnvResource*> live;
  Napi::FunctionReference nativeErrorClass;  // set by index.ts through init(); may be empty
};

// Base for native objects that hold fds, uv handles or mappings.
class EnvResource {
 public:
  virtual ~EnvResource();
  // Called from the env cleanup hook (JS thread of that env, no JS may run): release everything.
  virtual void ReleaseForEnvExit() = 0;

 protected:
  void Track(Napi::Env env);

 private:
  friend void CleanupEnv(void* arg);
  EnvState* state_ = nullptr;
};

EnvState& GetEnvState(Napi::Env env);
// Creates the EnvState for `env` and registers the cleanup hook. Called once from module init.
void InitEnvState(Napi::Env env);

}  // namespace kju
