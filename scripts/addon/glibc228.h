// Force-included (-include) into every naudiodon source when scripts/addon.mjs builds the Linux
// addon: binds the C++ runtime symbols whose newest versions came after glibc 2.28's era
// (GLIBCXX_3.4.25, GCC 8) to their original versions, so the addon loads where VS Code does.
#if defined(__cplusplus) && defined(__x86_64__)
// GCC 12 added condition_variable::wait@GLIBCXX_3.4.30 beside the original @GLIBCXX_3.4.11.
__asm__(".symver _ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE,_ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE@GLIBCXX_3.4.11");
#endif
