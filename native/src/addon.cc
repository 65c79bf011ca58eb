// Module entry: per-env state, the NativeError class hook, and the parts of the addon.
#include <napi.h>

#include "env_state.h"
#include "exports.h"

namespace kju {
namespace {

// init({ NativeError }) — index.ts hands over its error class so native errors are instances of it.
Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info[0].IsObject()) {
    Napi::Value cls = info[0].As<Napi::Object>().Get("NativeError");
    if (cls.IsFunction()) GetEnvState(env).nativeErrorClass = Napi::Persistent(cls.As<Napi::Function>());
  }
  return env.Undefined();
}

Napi::Object Register(Napi::Env env, Napi::Object exports) {
  InitEnvState(env);
  exports.Set("init", Napi::Function::New(env, Init, "init"));
  InitMisc(env, exports);
  InitFdSocket(env, exports);
  InitFdServer(env, exports);
  InitMapping(env, exports);
  InitLibvirt(env, exports);
  return exports;
}

}  // namespace
}  // namespace kju

static Napi::Object RegisterKjuNative(Napi::Env env, Napi::Object exports) { return kju::Register(env, exports); }

NODE_API_MODULE(kju_native, RegisterKjuNative)
