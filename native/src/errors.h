// Errors thrown to JS carry an errno name (`code`) and the failing call (`syscall`), built with the
// NativeError class index.ts registered for this env.
#pragma once

#include <napi.h>

#include <string>

namespace kju {

// `code` like "ENOENT" or a kju-specific one like "ESHORTFILE".
Napi::Error MakeNativeError(Napi::Env env, const std::string& message, const std::string& code,
                            const std::string& syscall);
// From an errno value; `detail` (e.g. a path) is appended to the message.
Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall, const std::string& detail = "");
[[noreturn]] void ThrowErrno(Napi::Env env, int err, const char* syscall, const std::string& detail = "");
[[noreturn]] void ThrowRange(Napi::Env env, const std::string& message);
[[noreturn]] void ThrowType(Napi::Env env, const std::string& message);

// Argument helpers that throw TypeError/RangeError.
int ArgFd(const Napi::CallbackInfo& info, size_t i);
int64_t ArgNonNegativeInt(const Napi::CallbackInfo& info, size_t i, const char* what);

}  // namespace kju
