// Keeps the prebuilt binaries loadable on glibc 2.28. The static libstdc++ from a newer gcc
// reads glibc's __libc_single_threaded (added in 2.32) to skip atomic reference counts; a
// private definition set to 0 ("maybe multi-threaded") always takes the atomic path, which
// is correct everywhere and removes the GLIBC_2.32 requirement.
extern "C" {
__attribute__((visibility("hidden"))) char __libc_single_threaded = 0;
}
