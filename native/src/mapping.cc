// MappingHandle: the native half of Mapping. Maps (fd, offset, length) either over the page-aligned
// interior of a SharedArrayBuffer that JS allocated ("shared": zero copy, works under Electron's V8
// memory cage because the memory belongs to V8) or at an address of the kernel's choosing ("copy":
// JS gets pixels through copyRects). Runs on the calling env's JS thread. The fd is not kept:
// the mapping holds its own reference to the file, so the caller may close fd right after.
//
//   new MappingHandle(fd, offset, length, writable, target?: Uint8Array, copyReason?: string)
//   .shared, .viewOffset (byte offset of file byte `offset` inside target's buffer), .reason
//   .copyRects(stride, rects: Uint32Array [x,y,w,h]*, dst: Uint8Array)
//   .release()
#include <errno.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "env_state.h"
#include "errors.h"
#include "exports.h"

namespace kju {
namespace {

#if defined(__linux__) || defined(__APPLE__)
constexpr bool kSharedViewSupported = true;
#else
constexpr bool kSharedViewSupported = false;
#endif

uint64_t PageSize() { return static_cast<uint64_t>(sysconf(_SC_PAGESIZE)); }

class MappingHandle : public Napi::ObjectWrap<MappingHandle>, public EnvResource {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "MappingHandle",
                       {
                           InstanceAccessor<&MappingHandle::GetShared>("shared"),
                           InstanceAccessor<&MappingHandle::GetViewOffset>("viewOffset"),
                           InstanceAccessor<&MappingHandle::GetReason>("reason"),
                           InstanceMethod<&MappingHandle::CopyRects>("copyRects"),
                           InstanceMethod<&MappingHandle::ReleaseJs>("release"),
                       });
  }

  explicit MappingHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<MappingHandle>(info) {
    Napi::Env env = info.Env();
    int fd = ArgFd(info, 0);
    uint64_t offset = static_cast<uint64_t>(ArgNonNegativeInt(info, 1, "offset"));
    length_ = static_cast<uint64_t>(ArgNonNegativeInt(info, 2, "length"));
    if (length_ == 0) ThrowRange(env, "length must be > 0");
    int prot = PROT_READ | (info[3].ToBoolean().Value() ? PROT_WRITE : 0);

    struct stat st;
    if (fstat(fd, &st) != 0) ThrowErrno(env, errno, "fstat");
    uint64_t need = offset + length_;
    if (static_cast<uint64_t>(st.st_size) < need) {
      throw MakeNativeError(env,
                            "mapping needs " + std::to_string(need) + " bytes (offset " + std::to_string(offset) +
                                " + length " + std::to_string(length_) + ") but the file has only " +
                                std::to_string(st.st_size) + "; refusing to map (reading past its end would raise SIGBUS)",
                            "ESHORTFILE", "fstat");
    }

    uint64_t page = PageSize();
    pageOffset_ = offset & (page - 1);
    uint64_t fileOffset = offset - pageOffset_;
    mapLen_ = (pageOffset_ + length_ + page - 1) & ~(page - 1);

    if (info[4].IsTypedArray()) {
      if (!kSharedViewSupported) {
        reason_ = "platform";
      } else if (TryMapShared(env, info[4].As<Napi::TypedArray>(), fd, fileOffset, prot)) {
        Track(env);
        return;
      }
    } else if (info[5].IsString()) {
      reason_ = info[5].As<Napi::String>().Utf8Value();
    } else {
      reason_ = "requested";
    }

    void* p = mmap(nullptr, mapLen_, prot, MAP_SHARED, fd, static_cast<off_t>(fileOffset));
    if (p == MAP_FAILED) ThrowErrno(env, errno, "mmap");
    addr_ = static_cast<uint8_t*>(p);
    Track(env);
  }

  ~MappingHandle() override { Release(); }

  void ReleaseForEnvExit() override { Release(); }

 private:
  // Maps the file over the first page-aligned address inside target's buffer. On failure leaves
  // reason_ set and returns false (the caller falls back to copy mode).
  bool TryMapShared(Napi::Env env, Napi::TypedArray target, int fd, uint64_t fileOffset, int prot) {
    napi_typedarray_type type;
    size_t count = 0;
    void* data = nullptr;
    napi_value arraybuffer;
    size_t byteOffset = 0;
    if (napi_get_typedarray_info(env, target, &type, &count, &data, &arraybuffer, &byteOffset) != napi_ok ||
        type != napi_uint8_array || data == nullptr) {
      reason_ = "napi_get_typedarray_info gave no data pointer";
      return false;
    }
    uint64_t page = PageSize();
    uintptr_t base = reinterpret_cast<uintptr_t>(data);
    uintptr_t aligned = (base + page - 1) & ~static_cast<uintptr_t>(page - 1);
    if (aligned + mapLen_ > base + count) {
      reason_ = "target buffer too small";
      return false;
    }
    void* p = mmap(reinterpret_cast<void*>(aligned), mapLen_, prot, MAP_SHARED | MAP_FIXED, fd,
                   static_cast<off_t>(fileOffset));
    if (p == MAP_FAILED) {
      int err = errno;
      // A failed MAP_FIXED may already have dropped the old pages: put anonymous memory back.
      RestoreAnonymous(reinterpret_cast<uint8_t*>(aligned), mapLen_);
      reason_ = std::string("mmap over SharedArrayBuffer failed: ") + std::strerror(err);
      return false;
    }
    addr_ = reinterpret_cast<uint8_t*>(aligned);
    shared_ = true;
    viewOffset_ = byteOffset + (aligned - base) + pageOffset_;
    // Strong reference: the buffer must not be freed while the file is mapped over it.
    target_ = Napi::Persistent(static_cast<Napi::Object>(target));
    return true;
  }

  static bool RestoreAnonymous(uint8_t* addr, uint64_t len) {
    void* p = mmap(addr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    return p != MAP_FAILED;
  }

  void Release() {
    if (addr_ == nullptr) return;
    if (shared_) {
      if (!RestoreAnonymous(addr_, mapLen_)) {
        // Never hand the file's pages back to V8's allocator: keep the buffer alive forever instead.
        std::fprintf(stderr, "kju_native: restoring anonymous memory failed (%s); leaking the buffer\n",
                     std::strerror(errno));
        target_.SuppressDestruct();
        addr_ = nullptr;
        return;
      }
      target_.Reset();
    } else {
      munmap(addr_, mapLen_);
    }
    addr_ = nullptr;
  }

  Napi::Value GetShared(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), shared_); }
  Napi::Value GetViewOffset(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(viewOffset_));
  }
  Napi::Value GetReason(const Napi::CallbackInfo& info) {
    if (shared_) return info.Env().Undefined();
    return Napi::String::New(info.Env(), reason_);
  }

  Napi::Value ReleaseJs(const Napi::CallbackInfo& info) {
    Release();
    return info.Env().Undefined();
  }

  // Copies each rect's rows from the file mapping to the same byte offsets in dst. All rects are
  // checked before any byte moves, so a RangeError leaves dst untouched.
  Napi::Value CopyRects(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (addr_ == nullptr) throw MakeNativeError(env, "copyRects on a released Mapping", "ERELEASED", "copyRects");
    uint64_t stride = static_cast<uint64_t>(ArgNonNegativeInt(info, 0, "stride"));
    if (stride == 0) ThrowRange(env, "stride must be > 0");
    if (!info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
      ThrowType(env, "rects must be a Uint32Array");
    if (!info[2].IsTypedArray() || info[2].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
      ThrowType(env, "dst must be a Uint8Array");
    Napi::Uint32Array rects = info[1].As<Napi::Uint32Array>();
    Napi::Uint8Array dst = info[2].As<Napi::Uint8Array>();
    size_t n = rects.ElementLength();
    if (n % 4 != 0) ThrowRange(env, "rects length must be a multiple of 4 (x, y, w, h)");
    const uint32_t* r = rects.Data();
    uint64_t limit = length_ < dst.ByteLength() ? length_ : dst.ByteLength();
    for (size_t i = 0; i < n; i += 4) {
      uint64_t x = r[i], y = r[i + 1], w = r[i + 2], h = r[i + 3];
      if (w == 0 || h == 0) continue;
      // y + h - 1 <= limit / stride first, so the products below cannot overflow
      bool out = (x + w) * 4 > stride || y + h - 1 > limit / stride ||
                 (y + h - 1) * stride + (x + w) * 4 > limit;
      if (out) {
        ThrowRange(env, "rect " + std::to_string(i / 4) + " {x:" + std::to_string(x) + ",y:" + std::to_string(y) +
                            ",w:" + std::to_string(w) + ",h:" + std::to_string(h) + "} is outside " +
                            std::to_string(limit) + " bytes at stride " + std::to_string(stride));
      }
    }
    const uint8_t* src = addr_ + pageOffset_;
    uint8_t* out = dst.Data();
    if (out == src) return env.Undefined();  // dst is the shared view itself
    for (size_t i = 0; i < n; i += 4) {
      uint64_t x = r[i], y = r[i + 1], w = r[i + 2], h = r[i + 3];
      for (uint64_t row = y; row < y + h && w != 0; row++) {
        uint64_t at = row * stride + x * 4;
        std::memmove(out + at, src + at, w * 4);
      }
    }
    return env.Undefined();
  }

  uint8_t* addr_ = nullptr;  // start of our mapping (page-aligned)
  uint64_t mapLen_ = 0;
  uint64_t pageOffset_ = 0;
  uint64_t length_ = 0;
  uint64_t viewOffset_ = 0;
  bool shared_ = false;
  std::string reason_;
  Napi::ObjectReference target_;
};

}  // namespace

void InitMapping(Napi::Env env, Napi::Object exports) {
  exports.Set("MappingHandle", MappingHandle::Define(env));
  exports.Set("sharedViewSupported", Napi::Boolean::New(env, kSharedViewSupported));
}

}  // namespace kju
