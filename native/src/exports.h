#pragma once

#include <napi.h>

namespace kju {

void InitMisc(Napi::Env env, Napi::Object exports);
void InitFdSocket(Napi::Env env, Napi::Object exports);
void InitFdServer(Napi::Env env, Napi::Object exports);
void InitMapping(Napi::Env env, Napi::Object exports);
void InitLibvirt(Napi::Env env, Napi::Object exports);

}  // namespace kju
