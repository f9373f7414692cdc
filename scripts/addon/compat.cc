// Linked into the Linux addon by scripts/addon.mjs: local (hidden) definitions of what newer
// toolchains reference but glibc 2.28 / GLIBCXX_3.4.25 do not have, so nothing binds to them.
#include <new>

// GCC 11+ headers throw this from allocator::allocate (GLIBCXX_3.4.29).
namespace std {
__attribute__((visibility("hidden"), noreturn)) void __throw_bad_array_new_length() { throw std::bad_array_new_length(); }
}  // namespace std

// GCC 12 headers read glibc 2.32's __libc_single_threaded to skip atomic reference counts;
// always 0 here: the atomics are always used (correct in every process).
extern "C" {
__attribute__((visibility("hidden"))) char __libc_single_threaded = 0;
}
