// Keeps the prebuilt binaries loadable on glibc 2.28 (scripts/check-glibc.sh checks it):
// glibc 2.34 moved libpthread into libc and gave pthread_create/pthread_join new default
// versions. A file that starts threads includes this header so its references bind to the
// versions every glibc since the architecture's first one still exports.
#pragma once

#if defined(__GLIBC__)
#if defined(__x86_64__)
__asm__(".symver pthread_create,pthread_create@GLIBC_2.2.5");
__asm__(".symver pthread_join,pthread_join@GLIBC_2.2.5");
#elif defined(__aarch64__)
__asm__(".symver pthread_create,pthread_create@GLIBC_2.17");
__asm__(".symver pthread_join,pthread_join@GLIBC_2.17");
#endif
#endif
