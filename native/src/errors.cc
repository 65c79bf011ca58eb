#include "errors.h"

#include <uv.h>

#include <cmath>
#include <cstring>

#include "env_state.h"

namespace kju {

Napi::Error MakeNativeError(Napi::Env env, const std::string& message, const std::string& code,
                            const std::string& syscall) {
  // Raw calls: this also runs from uv callbacks, where a terminating worker makes JS calls fail
  // (node-addon-api would abort wrapping the empty termination "exception").
  EnvState& state = GetEnvState(env);
  napi_value msg = Napi::String::New(env, message);
  napi_value codeValue = Napi::String::New(env, code);
  napi_value syscallValue = Napi::String::New(env, syscall);
  napi_value obj = nullptr;
  if (!state.nativeErrorClass.IsEmpty()) {
    napi_value argv[] = {msg, codeValue, syscallValue};
    if (napi_new_instance(env, state.nativeErrorClass.Value(), 3, argv, &obj) != napi_ok) {
      obj = nullptr;
      bool pending = false;
      napi_value ignored;
      if (napi_is_exception_pending(env, &pending) == napi_ok && pending) napi_get_and_clear_last_exception(env, &ignored);
    }
  }
  if (obj == nullptr) {
    NAPI_THROW_IF_FAILED(env, napi_create_error(env, codeValue, msg, &obj), Napi::Error());
    napi_set_named_property(env, obj, "syscall", syscallValue);
  }
  return Napi::Error(env, obj);
}

Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall, const std::string& detail) {
  // libuv's codes are -errno on Unix, so its name table gives "ENOENT" etc.
  std::string code = uv_err_name(-err);
  std::string message = std::string(syscall) + " " + code + ": " + std::strerror(err);
  if (!detail.empty()) message += " (" + detail + ")";
  Napi::Error e = MakeNativeError(env, message, code, syscall);
  e.Set("errno", Napi::Number::New(env, err));
  return e;
}

void ThrowErrno(Napi::Env env, int err, const char* syscall, const std::string& detail) {
  throw ErrnoError(env, err, syscall, detail);
}

void ThrowRange(Napi::Env env, const std::string& message) { throw Napi::RangeError::New(env, message); }

void ThrowType(Napi::Env env, const std::string& message) { throw Napi::TypeError::New(env, message); }

int64_t ArgNonNegativeInt(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (!info[i].IsNumber()) ThrowType(info.Env(), std::string(what) + " must be a number");
  double d = info[i].As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d < 0 || d != std::floor(d) || d > 9007199254740991.0)
    ThrowRange(info.Env(), std::string(what) + " must be a non-negative integer");
  return static_cast<int64_t>(d);
}

int ArgFd(const Napi::CallbackInfo& info, size_t i) {
  int64_t fd = ArgNonNegativeInt(info, i, "fd");
  if (fd > 0x7fffffff) ThrowRange(info.Env(), "fd out of range");
  return static_cast<int>(fd);
}

}  // namespace kju
